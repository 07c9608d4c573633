# Pid virtualization (plugins/pid, plugins/signal).
foreach(script pid_restart_identity.sh)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/../${script} ${CKPT_IT_DIR}/${script} COPYONLY)
endforeach()

add_executable(it_pid_identity ${CMAKE_CURRENT_LIST_DIR}/../programs/pid_identity.c)
set_target_properties(it_pid_identity PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)
target_link_libraries(it_pid_identity PRIVATE Threads::Threads)

ckpt_integration_test(pid_restart_identity pid_restart_identity.sh ${CKPT_IT_DIR}/bin/it_pid_identity 60)
