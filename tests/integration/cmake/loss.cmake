# Nothing is lost silently (issue 7): what no plugin can checkpoint fails the
# checkpoint with its reason, unless the user accepted the loss; then it comes
# back as a placeholder, with warnings. A plugin's own failure fails it too.
foreach(script loss_refused.sh loss_accepted.sh plugin_failure.sh plugin_restart.sh)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/../${script} ${CKPT_IT_DIR}/${script} COPYONLY)
endforeach()
add_executable(it_loss_holder ${CMAKE_CURRENT_LIST_DIR}/../programs/loss_holder.c)
add_executable(it_failing_plugin ${CMAKE_CURRENT_LIST_DIR}/../programs/failing_plugin.c)
target_link_libraries(it_failing_plugin PRIVATE ckpt)
set_target_properties(it_loss_holder it_failing_plugin PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)

configure_file(${CMAKE_CURRENT_LIST_DIR}/../programs/loss_holder.py ${CKPT_IT_DIR}/bin/loss_holder.py COPYONLY)
set(holder ${CKPT_IT_DIR}/bin/it_loss_holder)
ckpt_integration_test(loss_refused_uring loss_refused.sh "fd 10 is an io_uring instance" ${holder} uring 8 60 50 none)
ckpt_integration_test(loss_refused_netlink loss_refused.sh "fd 11 is a netlink datagram socket"
                      ${holder} netlink 8 60 50 none)
# A descriptor sent through a UNIX socket and not received yet.
ckpt_integration_test(loss_refused_passed_fd loss_refused.sh "fd 12, a socket, has descriptors in flight (SCM_RIGHTS)"
                      ${holder} passing 8 60 50 none)
# The issue's python3 program (a socket pair and an epoll instance) is
# checkpointed and restarted now: event.cmake's event_python_epoll.
ckpt_integration_test(loss_accepted loss_accepted.sh)
ckpt_integration_test(plugin_failure plugin_failure.sh)

# A third party's restart side, loaded by ckpt_restart --plugin.
add_library(it_restart_plugin MODULE ${CMAKE_CURRENT_LIST_DIR}/../programs/restart_plugin.cpp)
target_include_directories(it_restart_plugin PRIVATE ${PROJECT_SOURCE_DIR}/libckpt/include ${PROJECT_SOURCE_DIR}/libckpt/image)
set_target_properties(it_restart_plugin PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin PREFIX lib)
ckpt_integration_test(plugin_restart plugin_restart.sh)
