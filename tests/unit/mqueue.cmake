# Unit tests of the mqueue kind's section reader and decoder (plugins/mqueue).
add_executable(mqueue_unit_tests ${CMAKE_CURRENT_LIST_DIR}/mqueue_section_test.cpp)
target_include_directories(mqueue_unit_tests PRIVATE ${PROJECT_SOURCE_DIR}/plugins/mqueue)
target_link_libraries(mqueue_unit_tests PRIVATE ckpt_image_info GTest::gtest_main)
gtest_discover_tests(mqueue_unit_tests)
