# Unit tests of the pty kind (plugins/pty): its section reader and decoder,
# and pty_refill on real pseudo-terminals.
add_executable(pty_unit_tests ${CMAKE_CURRENT_LIST_DIR}/pty_section_test.cpp)
target_include_directories(pty_unit_tests PRIVATE ${PROJECT_SOURCE_DIR}/plugins/pty ${PROJECT_SOURCE_DIR}/libckpt/include)
target_link_libraries(pty_unit_tests PRIVATE ckpt_image_info GTest::gtest_main)
gtest_discover_tests(pty_unit_tests)
