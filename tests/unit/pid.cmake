# Unit tests of the shared pid table (plugins/pid/pid_table.h).
add_executable(pid_table_test ${CMAKE_CURRENT_LIST_DIR}/pid_table_test.cpp)
target_link_libraries(pid_table_test PRIVATE ckpt_pid_table GTest::gtest_main)
gtest_discover_tests(pid_table_test)

# The table of system calls that take ids (plugins/pid/pid_args.h).
add_executable(pid_args_test ${CMAKE_CURRENT_LIST_DIR}/pid_args_test.cpp)
target_link_libraries(pid_args_test PRIVATE ckpt_pid_args GTest::gtest_main)
gtest_discover_tests(pid_args_test)
