# Unit tests of the System V kind (plugins/sysv): the shared id table, and
# section "sysv" read back and decoded as ckpt_restart and ckpt_info do.
add_executable(sysv_unit_tests ${CMAKE_CURRENT_LIST_DIR}/sysv_test.cpp)
target_include_directories(sysv_unit_tests PRIVATE ${PROJECT_SOURCE_DIR}/plugins/sysv ${PROJECT_SOURCE_DIR}/libckpt/include)
target_link_libraries(sysv_unit_tests PRIVATE ckpt_image_info GTest::gtest_main)
gtest_discover_tests(sysv_unit_tests)
