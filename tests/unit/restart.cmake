# Unit tests of ckpt_restart's option parsing, path relocation and process tree.
add_executable(restart_unit_tests ${CMAKE_CURRENT_LIST_DIR}/restart_options_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/restart_path_rewrite_test.cpp ${CMAKE_CURRENT_LIST_DIR}/restart_tree_test.cpp)
target_link_libraries(restart_unit_tests PRIVATE ckpt_restart_options GTest::gtest_main)
gtest_discover_tests(restart_unit_tests)

# The descriptor plan against real files, pipes and images; install() runs in
# death-test children (it closes every descriptor it was not given).
add_executable(restart_fds_tests ${CMAKE_CURRENT_LIST_DIR}/restart_fds_test.cpp
  ${PROJECT_SOURCE_DIR}/plugins/fd/restore_descriptions.cpp)
target_include_directories(restart_fds_tests PRIVATE ${PROJECT_SOURCE_DIR}/plugins/fd ${PROJECT_SOURCE_DIR}/libckpt/image)
target_link_libraries(restart_fds_tests PRIVATE ckpt_restart_api GTest::gtest_main)
gtest_discover_tests(restart_fds_tests)
