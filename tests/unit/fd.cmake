# Unit tests of the fd plugin's pure parts (plugins/fd).
add_executable(fd_unit_tests ${CMAKE_CURRENT_LIST_DIR}/fd_policy_test.cpp)
target_link_libraries(fd_unit_tests PRIVATE ckpt_file_policy GTest::gtest_main)
gtest_discover_tests(fd_unit_tests)
