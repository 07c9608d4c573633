# Unit tests of the event kind's section reader and decoder (plugins/event).
add_executable(event_unit_tests ${CMAKE_CURRENT_LIST_DIR}/event_section_test.cpp)
target_include_directories(event_unit_tests PRIVATE ${PROJECT_SOURCE_DIR}/plugins/event)
target_link_libraries(event_unit_tests PRIVATE ckpt_image_info GTest::gtest_main)
gtest_discover_tests(event_unit_tests)
