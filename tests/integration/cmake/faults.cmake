# Fault injection (issue 8): a coordinator, a process or an image writer
# SIGKILLed at each phase of a checkpoint; generations kept by --keep.
foreach(script fault_injection.sh keep_generations.sh signal_cleanup.sh)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/../${script} ${CKPT_IT_DIR}/${script} COPYONLY)
endforeach()
add_executable(it_fault_tree ${CMAKE_CURRENT_LIST_DIR}/../programs/fault_tree.c)
target_link_libraries(it_fault_tree PRIVATE ckpt)
set_target_properties(it_fault_tree PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)

foreach(phase suspend drain write commit)
  ckpt_integration_test(fault_coordinator_${phase} fault_injection.sh coordinator ${phase})
  ckpt_integration_test(fault_process_${phase} fault_injection.sh process ${phase})
endforeach()
ckpt_integration_test(fault_writer_write fault_injection.sh writer write)
ckpt_integration_test(keep_generations keep_generations.sh)
ckpt_integration_test(signal_cleanup signal_cleanup.sh)
