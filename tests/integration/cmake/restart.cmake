# ckpt_restart's own tests: several images at once, --relocate, --run-on-fail
# and files that are gone at restart time.
foreach(script restart_two_images.sh restart_relocate.sh restart_new_pids.sh restart_exit_status.sh
       restart_proc_identity.sh)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/../${script} ${CKPT_IT_DIR}/${script} COPYONLY)
endforeach()

foreach(prog restart_files restart_tree restart_pipes restart_devices restart_vfork restart_spawn)
  add_executable(it_${prog} ${CMAKE_CURRENT_LIST_DIR}/../programs/${prog}.c)
  set_target_properties(it_${prog} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)
endforeach()

ckpt_integration_test(restart_two_images restart_two_images.sh)
ckpt_integration_test(restart_relocate restart_relocate.sh)
ckpt_integration_test(restart_tree checkpoint_restart.sh 1 5 ${CKPT_IT_DIR}/bin/it_restart_tree 3 40 100)
ckpt_integration_test(restart_pipes checkpoint_restart.sh 1 5 ${CKPT_IT_DIR}/bin/it_restart_pipes 150 30)
ckpt_integration_test(restart_pipes_new_pids restart_new_pids.sh ${CKPT_IT_DIR}/bin/it_restart_pipes 150 30)
ckpt_integration_test(restart_tree_new_pids restart_new_pids.sh ${CKPT_IT_DIR}/bin/it_restart_tree 3 40 100)
# Calls that take a pid (affinity, priority, prlimit, process_vm_readv) on a
# child after a restart under new kernel pids (issue 12).
ckpt_integration_test(pid_calls_new_pids restart_new_pids.sh ${CKPT_IT_DIR}/bin/it_pid_calls 30 100)
# Descriptors of /proc/self files reopened under the new pid (issue 12).
ckpt_integration_test(proc_fds_new_pids restart_new_pids.sh ${CKPT_IT_DIR}/bin/it_proc_fds 30 100)
# /dev/null, /dev/zero, /dev/urandom, /dev/random and /dev/full come back at
# the same numbers with the same flags (issue 3: "the other fd kinds").
ckpt_integration_test(restart_devices checkpoint_restart.sh 1 3 ${CKPT_IT_DIR}/bin/it_restart_devices 30 50)
# A non-PIE program whose heap lies below ckpt_restart's break grows and
# trims it through brk after the restart (the restorer sets the saved break).
add_executable(it_restart_brk ${CMAKE_CURRENT_LIST_DIR}/../programs/restart_brk.c)
set_target_properties(it_restart_brk PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin POSITION_INDEPENDENT_CODE OFF)
target_link_options(it_restart_brk PRIVATE -no-pie)
target_compile_options(it_restart_brk PRIVATE -fno-pie)
ckpt_integration_test(restart_brk checkpoint_restart.sh 2 4 ${CKPT_IT_DIR}/bin/it_restart_brk 30 60)
# The restart script's exit status is the root's (an exit code, or death by
# a signal).
ckpt_integration_test(restart_exit_status restart_exit_status.sh)
# A parent checkpointed while it waits for its vfork child's exec, then
# checkpointed again after the restart.
ckpt_integration_test(restart_vfork checkpoint_restart.sh 2 1 ${CKPT_IT_DIR}/bin/it_restart_vfork)
# The same for posix_spawn, its child held up in its file actions.
ckpt_integration_test(restart_spawn tree_cycle.sh --cycles 2 1 -- ${CKPT_IT_DIR}/bin/it_restart_spawn @WORK@)
# /proc/PID/cmdline, environ (and exe where permitted) of a restored process
# are the program's.
ckpt_integration_test(restart_proc_identity restart_proc_identity.sh)
