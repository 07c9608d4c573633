# ckpt_restart's own tests: several images at once, --relocate, --run-on-fail
# and files that are gone at restart time.
foreach(script restart_two_images.sh restart_relocate.sh)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/../${script} ${CKPT_IT_DIR}/${script} COPYONLY)
endforeach()

add_executable(it_restart_mapped_file ${CMAKE_CURRENT_LIST_DIR}/../programs/restart_mapped_file.c)
set_target_properties(it_restart_mapped_file PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)

ckpt_integration_test(restart_two_images restart_two_images.sh)
ckpt_integration_test(restart_relocate restart_relocate.sh)
