# A computation on several hosts (issue 9): three network namespaces as
# hosts, the remote shell "ip netns exec" wrapped by libckpt, restarts on the
# same hosts, on permuted hosts and on one host. Root only (skipped otherwise).
configure_file(${CMAKE_CURRENT_LIST_DIR}/../multihost.sh ${CKPT_IT_DIR}/multihost.sh COPYONLY)
foreach(script multihost_root.sh multihost_host.sh multihost_socket.sh)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/../programs/${script} ${CKPT_IT_DIR}/bin/${script} COPYONLY)
endforeach()
add_executable(it_multihost_counter ${CMAKE_CURRENT_LIST_DIR}/../programs/multihost_counter.c)
set_target_properties(it_multihost_counter PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)
ckpt_integration_test(multihost multihost.sh 400)
