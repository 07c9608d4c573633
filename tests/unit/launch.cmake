# Unit tests of ckpt_launch's option parsing and program lookup.
add_executable(launch_options_test ${CMAKE_CURRENT_LIST_DIR}/launch_options_test.cpp)
target_link_libraries(launch_options_test PRIVATE ckpt_launch_options GTest::gtest_main)
gtest_discover_tests(launch_options_test)
