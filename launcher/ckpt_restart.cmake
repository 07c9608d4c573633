# ckpt_restart: validates images and restores processes through the
# freestanding restorer blob (libckpt/restore).
add_library(ckpt_restart_options STATIC ${CMAKE_CURRENT_LIST_DIR}/restart_options.cpp
  ${CMAKE_CURRENT_LIST_DIR}/path_rewrite.cpp ${CMAKE_CURRENT_LIST_DIR}/restart_tree.cpp)
target_include_directories(ckpt_restart_options PUBLIC ${CMAKE_CURRENT_LIST_DIR})

# Descriptors of restarted processes: a library of its own for its unit tests.
add_library(ckpt_restart_fds STATIC ${CMAKE_CURRENT_LIST_DIR}/restart_fds.cpp)
target_link_libraries(ckpt_restart_fds PUBLIC ckpt_restart_options ckpt_image_reader)

add_executable(ckpt_restart ${CMAKE_CURRENT_LIST_DIR}/ckpt_restart.cpp ${CMAKE_CURRENT_LIST_DIR}/process_restore.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tree_fork.cpp)
target_link_libraries(ckpt_restart PRIVATE ckpt_restart_options ckpt_restart_fds ckpt_image_info ckpt_restorer_blob
  ckpt_coordinator_start ckpt_pid_table Threads::Threads)
install(TARGETS ckpt_restart RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
