# Process trees (issue 3): fork/exec, pid virtualization, pipes and files.
# Each test checkpoints, kills and restarts a whole computation and compares
# its output with an uninterrupted run's. None needs root.
foreach(script tree_cycle.sh tree_file_policy.sh tree_exec.sh)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/../${script} ${CKPT_IT_DIR}/${script} COPYONLY)
endforeach()

foreach(prog tree_zombie.c tree_file_policy.c tree_exec_first.c tree_exec_second.c)
  get_filename_component(name ${prog} NAME_WE)
  add_executable(it_${name} ${CMAKE_CURRENT_LIST_DIR}/../programs/${prog})
  set_target_properties(it_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)
endforeach()

set(bin ${CKPT_IT_DIR}/bin)
# 6. Zombie children at checkpoint time are reaped after the restart with
#    their original statuses (with the original real pids when permitted,
#    and with new ones).
ckpt_integration_test(tree.zombie tree_cycle.sh --procs 1 3 -- ${bin}/it_tree_zombie 30 100)
ckpt_integration_test(tree.zombie_new_pids tree_cycle.sh --procs 1 --restart-opt --no-restore-pids 3 --
                      ${bin}/it_tree_zombie 30 100)
# 7. --relocate, and a restart whose files are gone (see tree_file_policy.sh).
foreach(mode relocate missing)
  ckpt_integration_test(tree.file_policy_${mode} tree_file_policy.sh ${mode} ${bin}/it_tree_file_policy)
endforeach()
# 8. exec mid-run, checkpointed and restarted on both sides of the exec.
ckpt_integration_test(tree.exec tree_exec.sh ${bin}/it_tree_exec_first ${bin}/it_tree_exec_second)
