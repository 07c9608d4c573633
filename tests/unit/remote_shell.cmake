# libckpt's rewrite of remote-shell commands (libckpt/src/remote_shell.h).
add_executable(remote_shell_test ${CMAKE_CURRENT_LIST_DIR}/remote_shell_test.cpp
  ${PROJECT_SOURCE_DIR}/libckpt/src/remote_shell.cpp)
target_include_directories(remote_shell_test PRIVATE ${PROJECT_SOURCE_DIR}/libckpt/src ${PROJECT_SOURCE_DIR}/libckpt/include)
target_link_libraries(remote_shell_test PRIVATE GTest::gtest_main)
gtest_discover_tests(remote_shell_test)
