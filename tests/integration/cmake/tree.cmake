# Process trees (issue 3): fork/exec, pid virtualization, pipes and files.
# Each test checkpoints, kills and restarts a whole computation and compares
# its output with an uninterrupted run's. None needs root: test 5 forces new
# real pids with ckpt_restart --no-restore-pids.
foreach(script tree_cycle.sh tree_shared_log.sh tree_pid_virtual.sh tree_file_policy.sh tree_exec.sh
       tree_terminal.sh pty_run.py)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/../${script} ${CKPT_IT_DIR}/${script} COPYONLY)
endforeach()
foreach(script tree_shell.sh tree_python.py tree_make.sh)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/../programs/${script} ${CKPT_IT_DIR}/bin/${script} COPYONLY)
endforeach()

foreach(prog tree_pipe_workers.c tree_shared_log.c tree_pid_virtual.c tree_zombie.c tree_file_policy.c
             tree_exec_first.c tree_exec_second.c tree_terminal.c)
  get_filename_component(name ${prog} NAME_WE)
  add_executable(it_${name} ${CMAKE_CURRENT_LIST_DIR}/../programs/${prog})
  set_target_properties(it_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)
endforeach()

set(bin ${CKPT_IT_DIR}/bin)
# 1. Three forked workers stream records through pipes to the parent, which
#    waits for each by pid; checkpointed while the pipes are full and the
#    workers blocked writing.
ckpt_integration_test(tree.pipe_workers tree_cycle.sh --procs 4 3 -- ${bin}/it_tree_pipe_workers 200 20)
#    The same, checkpointed again after the restart, with new real pids.
ckpt_integration_test(tree.pipe_workers_twice tree_cycle.sh --cycles 2 --procs 4 --restart-opt --no-restore-pids 3 --
                      ${bin}/it_tree_pipe_workers 200 20)
# 2. A bash script: pipelines, command substitutions, subshells, a background
#    job; checkpointed while the main pipeline is mid-stream.
ckpt_integration_test(tree.shell tree_cycle.sh --min-procs 6 --same-file background.out 4 --
                      bash ${bin}/tree_shell.sh @WORK@ 150)
# 3. python3 with subprocess.run and os.fork + os.waitpid.
ckpt_integration_test(tree.python tree_cycle.sh 5 -- python3 ${bin}/tree_python.py 30)
# 4. A log appended to by two processes through one O_APPEND description,
#    input read through stdio; the log ends as in the uninterrupted run.
ckpt_integration_test(tree.shared_log tree_shared_log.sh ${bin}/it_tree_shared_log)
# 5. kill, waitpid, /proc/<pid> and SIGCHLD's si_pid with the pids seen
#    before a restart under new real pids.
ckpt_integration_test(tree.pid_virtual tree_pid_virtual.sh ${bin}/it_tree_pid_virtual)
# 6. Zombie children at checkpoint time are reaped after the restart with
#    their original statuses (with the original real pids when permitted,
#    and with new ones).
ckpt_integration_test(tree.zombie tree_cycle.sh --procs 1 3 -- ${bin}/it_tree_zombie 30 100)
ckpt_integration_test(tree.zombie_new_pids tree_cycle.sh --procs 1 --restart-opt --no-restore-pids 3 --
                      ${bin}/it_tree_zombie 30 100)
# 7. File policies and --relocate, each checked where ignoring it would show.
foreach(mode merge ignore append replace substitute from_file relocate missing)
  ckpt_integration_test(tree.file_policy_${mode} tree_file_policy.sh ${mode} ${bin}/it_tree_file_policy)
endforeach()
# 8. exec mid-run, checkpointed and restarted on both sides of the exec.
ckpt_integration_test(tree.exec tree_exec.sh ${bin}/it_tree_exec_first ${bin}/it_tree_exec_second)
# Terminals: stdin/stdout/stderr that were a terminal attach to the
#    restart's terminal, with and without a process group of the program's own
#    (then the restart makes that group the foreground one). Checkpointed while
#    the parent waits for its child by pid: with new real pids, the wait
#    must not be reissued for the old one.
ckpt_integration_test(tree.terminal tree_terminal.sh ${bin}/it_tree_terminal)
ckpt_integration_test(tree.terminal_new_pids tree_terminal.sh --restart-opt --no-restore-pids ${bin}/it_tree_terminal)
ckpt_integration_test(tree.terminal_job_control tree_terminal.sh --job-control --restart-opt --no-restore-pids
                      ${bin}/it_tree_terminal)
# A real build: make -j2 with gcc -pipe (make, shells, gcc, cc1 and as
#    connected by pipes), checkpointed while a stage compiles; the program
#    built and every object file equal the uninterrupted build's.
ckpt_integration_test(tree.make tree_cycle.sh --min-procs 4 1 -- bash ${bin}/tree_make.sh @WORK@)
# ckpt_info decodes every section of a tree's images: a terminal, a pipe with
#    bytes in flight, files at offsets and under a policy, signals, timers.
configure_file(${CMAKE_CURRENT_LIST_DIR}/../info_decodes_images.sh ${CKPT_IT_DIR}/info_decodes_images.sh COPYONLY)
add_executable(it_info_tree ${CMAKE_CURRENT_LIST_DIR}/../programs/info_tree.c)
set_target_properties(it_info_tree PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)
ckpt_integration_test(info_decodes_images info_decodes_images.sh ${bin}/it_info_tree)
