# POSIX message queues (plugins/mqueue, issue 10): a producer, a notified
# child and a consumer over queues with messages in flight.
add_executable(it_mq_pipeline ${CMAKE_CURRENT_LIST_DIR}/../programs/mq_pipeline.c)
set_target_properties(it_mq_pipeline PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)
target_link_libraries(it_mq_pipeline PRIVATE Threads::Threads rt)

configure_file(${CMAKE_CURRENT_LIST_DIR}/../mqueue_cycles.sh ${CKPT_IT_DIR}/mqueue_cycles.sh COPYONLY)
# Checkpoint, kill and restart three times; the output is an uninterrupted run's.
ckpt_integration_test(mqueue_restart_cycles mqueue_cycles.sh restart 3 ${bin}/it_mq_pipeline 40 60)
# Checkpoints without a restart: the program goes on as if none happened.
ckpt_integration_test(mqueue_checkpoints_only mqueue_cycles.sh checkpoints 5 ${bin}/it_mq_pipeline 30 60)
# What the images hold, as ckpt_info decodes it; a queue of the same name
# with other attributes stops a restart with one line.
configure_file(${CMAKE_CURRENT_LIST_DIR}/../mqueue_images.sh ${CKPT_IT_DIR}/mqueue_images.sh COPYONLY)
ckpt_integration_test(mqueue_images mqueue_images.sh ${bin}/it_mq_pipeline 30 60)
# A registration ckpt cannot save (made by a raw system call) refuses the
# checkpoint with a line; the program goes on unchanged.
configure_file(${CMAKE_CURRENT_LIST_DIR}/../mqueue_refused.sh ${CKPT_IT_DIR}/mqueue_refused.sh COPYONLY)
ckpt_integration_test(mqueue_refused mqueue_refused.sh ${bin}/it_mq_pipeline 60 60)
