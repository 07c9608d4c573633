# Pid virtualization (plugins/pid, plugins/signal).
foreach(script pid_restart_identity.sh pid_tree.sh pid_section.sh)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/../${script} ${CKPT_IT_DIR}/${script} COPYONLY)
endforeach()

add_executable(it_pid_identity ${CMAKE_CURRENT_LIST_DIR}/../programs/pid_identity.c)
target_link_libraries(it_pid_identity PRIVATE Threads::Threads)
# Reads the shared pid table itself to check the plugin's bookkeeping.
add_executable(it_pid_tree ${CMAKE_CURRENT_LIST_DIR}/../programs/pid_tree.cpp)
target_link_libraries(it_pid_tree PRIVATE ckpt_pid_table)
add_executable(it_pid_zombies ${CMAKE_CURRENT_LIST_DIR}/../programs/pid_zombies.c)
set_target_properties(it_pid_identity it_pid_tree it_pid_zombies
                      PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)

set(bin ${CKPT_IT_DIR}/bin)
ckpt_integration_test(pid_restart_identity pid_restart_identity.sh ${bin}/it_pid_identity 60)
ckpt_integration_test(pid_tree pid_tree.sh ${bin}/it_pid_tree)
ckpt_integration_test(pid_section pid_section.sh ${bin}/it_pid_zombies)
