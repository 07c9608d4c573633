# Pseudo-terminals (plugins/pty, issue 10): a parent driving an interactive
# bash on a pty it opened (script -qfc 'bash -i'), checkpointed three times
# while a job sleeps in the foreground with typed-ahead input and its echo
# queued, killed and restarted: the session goes on, job control works, the
# output is an uninterrupted run's; ckpt_info decodes the pair.
configure_file(${CMAKE_CURRENT_LIST_DIR}/../programs/pty_shell.py ${CKPT_IT_DIR}/bin/pty_shell.py COPYONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/../pty_shell.sh ${CKPT_IT_DIR}/pty_shell.sh COPYONLY)
# bash without line editing reads in canonical mode: a half-typed line waits
# unfinished in the queue at the checkpoint.
ckpt_integration_test(pty_shell_canonical pty_shell.sh 3 noediting 6 4 2.5)
# With readline, which puts the terminal in non-canonical mode at each prompt
# and back to canonical for each command, and redraws the typed-ahead line.
ckpt_integration_test(pty_shell_readline pty_shell.sh 3 readline 6 4 2.5)
# A master whose slave every process closed, with the slave's output unread:
# after each restart the master reads it, then EIO.
configure_file(${CMAKE_CURRENT_LIST_DIR}/../programs/pty_closed.py ${CKPT_IT_DIR}/bin/pty_closed.py COPYONLY)
ckpt_integration_test(pty_slave_closed checkpoint_restart.sh 2 2 python3 ${CKPT_IT_DIR}/bin/pty_closed.py 10)
# A master whose slave was never opened fails the checkpoint with its reason.
configure_file(${CMAKE_CURRENT_LIST_DIR}/../programs/pty_unopened.py ${CKPT_IT_DIR}/bin/pty_unopened.py COPYONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/../pty_refused.sh ${CKPT_IT_DIR}/pty_refused.sh COPYONLY)
ckpt_integration_test(pty_refused_unopened pty_refused.sh)
# util-linux script(1) itself running bash -i, restarted mid-command.
configure_file(${CMAKE_CURRENT_LIST_DIR}/../pty_script.sh ${CKPT_IT_DIR}/pty_script.sh COPYONLY)
ckpt_integration_test(pty_script pty_script.sh)
# Checkpoints without a restart: each drains both queues and puts them back
# with the settings; the session goes on as if none happened.
ckpt_integration_test(pty_shell_checkpoints_only checkpoints_only.sh 4 python3 ${CKPT_IT_DIR}/bin/pty_shell.py 5 3 1.5 noediting)
