# Descriptors, pipes and files (plugins/fd): checkpoint-side tests.
foreach(prog fd_kinds.c fd_pipe_stream.c fd_stdio.c)
  get_filename_component(name ${prog} NAME_WE)
  add_executable(it_${name} ${CMAKE_CURRENT_LIST_DIR}/../programs/${prog})
  set_target_properties(it_${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)
endforeach()

configure_file(${CMAKE_CURRENT_LIST_DIR}/../fd_checkpoint_side.sh ${CKPT_IT_DIR}/fd_checkpoint_side.sh COPYONLY)
ckpt_integration_test(fd_checkpoint_side fd_checkpoint_side.sh)
target_link_libraries(it_fd_pipe_stream PRIVATE Threads::Threads)

configure_file(${CMAKE_CURRENT_LIST_DIR}/../fd_lib.sh ${CKPT_IT_DIR}/fd_lib.sh COPYONLY)
configure_file(${CMAKE_CURRENT_LIST_DIR}/../fd_pipe_in_flight.sh ${CKPT_IT_DIR}/fd_pipe_in_flight.sh COPYONLY)
ckpt_integration_test(fd_pipe_in_flight_threads fd_pipe_in_flight.sh thread 6000 1000)
ckpt_integration_test(fd_pipe_in_flight_fork fd_pipe_in_flight.sh fork 6000 1000)
ckpt_integration_test(fd_pipe_in_flight_read_out fd_pipe_in_flight.sh quota 6000 1000)

configure_file(${CMAKE_CURRENT_LIST_DIR}/../fd_stdio.sh ${CKPT_IT_DIR}/fd_stdio.sh COPYONLY)
ckpt_integration_test(fd_stdio fd_stdio.sh)
