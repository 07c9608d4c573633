# libckpt's own static-initialisation guards, compiled into the test.
add_executable(cxa_guard_test ${CMAKE_CURRENT_LIST_DIR}/cxa_guard_test.cpp ${PROJECT_SOURCE_DIR}/libckpt/src/cxa_guard.cpp)
target_include_directories(cxa_guard_test PRIVATE ${PROJECT_SOURCE_DIR}/libckpt/include)
target_link_libraries(cxa_guard_test PRIVATE GTest::gtest_main Threads::Threads)
gtest_discover_tests(cxa_guard_test)
