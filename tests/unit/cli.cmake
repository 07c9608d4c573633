# Unit tests of the tools' shared command-line layer (launcher/cli).
add_executable(cli_tests ${CMAKE_CURRENT_LIST_DIR}/cli_test.cpp)
target_link_libraries(cli_tests PRIVATE ckpt_cli GTest::gtest_main)
target_compile_definitions(cli_tests PRIVATE CKPT_VERSION="${PROJECT_VERSION}")
gtest_discover_tests(cli_tests)
