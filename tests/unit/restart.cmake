# Unit tests of ckpt_restart's option parsing, path relocation and process tree.
add_executable(restart_unit_tests ${CMAKE_CURRENT_LIST_DIR}/restart_options_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/restart_path_rewrite_test.cpp ${CMAKE_CURRENT_LIST_DIR}/restart_tree_test.cpp)
target_link_libraries(restart_unit_tests PRIVATE ckpt_restart_options GTest::gtest_main)
gtest_discover_tests(restart_unit_tests)
