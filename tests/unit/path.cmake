# Unit tests of path virtualization's map (plugins/path) and of --path-map.
add_executable(path_unit_tests ${CMAKE_CURRENT_LIST_DIR}/path_map_test.cpp)
target_link_libraries(path_unit_tests PRIVATE ckpt_path_map ckpt_launch_options GTest::gtest_main)
gtest_discover_tests(path_unit_tests)
