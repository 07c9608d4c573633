# Restarts trust nothing in an image (issue 8): crafted images are refused
# before any process exists, by ckpt_restart and by both --verify; a root
# restart of a user's computation runs it as that user.
foreach(script crafted_images.sh restart_as_image_user.sh)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/../${script} ${CKPT_IT_DIR}/${script} COPYONLY)
endforeach()
add_executable(it_no_fork ${CMAKE_CURRENT_LIST_DIR}/../programs/no_fork.c)
add_executable(it_craft_image ${CMAKE_CURRENT_LIST_DIR}/../programs/craft_image.cpp)
target_link_libraries(it_craft_image PRIVATE ckpt_image_reader)
set_target_properties(it_no_fork it_craft_image PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)
ckpt_integration_test(crafted_images crafted_images.sh)
ckpt_integration_test(restart_as_image_user restart_as_image_user.sh)
