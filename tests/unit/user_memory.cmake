# Reading the application's memory without faulting (libckpt/src/user_memory.cpp).
add_executable(user_memory_test ${CMAKE_CURRENT_LIST_DIR}/user_memory_test.cpp)
target_link_libraries(user_memory_test PRIVATE ckpt_user_memory GTest::gtest_main)
gtest_discover_tests(user_memory_test)
