# Unit tests of the image library (libckpt/image) and what a restart checks of images.
add_executable(image_unit_tests
  ${CMAKE_CURRENT_LIST_DIR}/image_crc32c_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_proc_maps_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_roundtrip_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_pages_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_incremental_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_schema_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_corrupt_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_verify_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_atomic_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/image_parallel_test.cpp)
target_link_libraries(image_unit_tests PRIVATE ckpt_image_info GTest::gtest_main)
target_include_directories(image_unit_tests PRIVATE ${PROJECT_SOURCE_DIR}/libckpt/include)  # ckpt/environment.h
gtest_discover_tests(image_unit_tests)

# Its own binary: it replaces malloc to prove the writer never calls it.
add_executable(image_nomalloc_tests ${CMAKE_CURRENT_LIST_DIR}/image_nomalloc_test.cpp)
target_link_libraries(image_nomalloc_tests PRIVATE ckpt_image GTest::gtest_main)
gtest_discover_tests(image_nomalloc_tests)
