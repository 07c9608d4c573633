# Section "posix_timer" (plugins/timer/posix_timer_section.h), read back and decoded.
add_executable(timer_unit_tests ${CMAKE_CURRENT_LIST_DIR}/posix_timer_section_test.cpp)
target_include_directories(timer_unit_tests PRIVATE ${PROJECT_SOURCE_DIR}/plugins/timer)
target_link_libraries(timer_unit_tests PRIVATE ckpt_image_info GTest::gtest_main)
gtest_discover_tests(timer_unit_tests)
