# The environment changes of a restored process (libckpt/src/restart_env.h).
add_executable(restart_env_test ${CMAKE_CURRENT_LIST_DIR}/restart_env_test.cpp
  ${PROJECT_SOURCE_DIR}/libckpt/src/restart_env.cpp)
target_include_directories(restart_env_test PRIVATE ${PROJECT_SOURCE_DIR}/libckpt/src ${PROJECT_SOURCE_DIR}/libckpt/include)
target_link_libraries(restart_env_test PRIVATE GTest::gtest_main)
gtest_discover_tests(restart_env_test)
