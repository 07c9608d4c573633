# Event descriptors (plugins/event, issue 9): eventfd, timerfd, signalfd,
# epoll and inotify in one epoll loop, with a forked child.
add_executable(it_event_loop ${CMAKE_CURRENT_LIST_DIR}/../programs/event_loop.c)
set_target_properties(it_event_loop PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)
target_link_libraries(it_event_loop PRIVATE Threads::Threads)

configure_file(${CMAKE_CURRENT_LIST_DIR}/../event_restart.sh ${CKPT_IT_DIR}/event_restart.sh COPYONLY)
# Checkpoint, kill and restart three times; the output is an uninterrupted run's.
ckpt_integration_test(event_restart_cycles event_restart.sh 3 ${bin}/it_event_loop 60)
# Checkpoints without a restart: the program goes on as if none happened.
ckpt_integration_test(event_checkpoints_only checkpoints_only.sh 5 ${bin}/it_event_loop 40)
# What the images hold, as ckpt_info decodes it; a watch whose path changed
# and crafted sections are refused.
configure_file(${CMAKE_CURRENT_LIST_DIR}/../event_images.sh ${CKPT_IT_DIR}/event_images.sh COPYONLY)
ckpt_integration_test(event_images event_images.sh ${bin}/it_event_loop 60)
# The issue's python3 program (programs/loss_holder.py): a socket pair and an
# epoll instance watching one end, checkpointed and restarted twice once it
# holds them (it used to be refused: "fd N is an epoll instance").
ckpt_integration_test(event_python_epoll checkpoint_restart.sh 2 12 python3 ${CKPT_IT_DIR}/bin/loss_holder.py 8 60 50)
