# Path virtualization (plugins/path, --path-map): a program's directory tree
# moved between checkpoint and restart, its paths kept.
configure_file(${CMAKE_CURRENT_LIST_DIR}/../path_tree.sh ${CKPT_IT_DIR}/path_tree.sh COPYONLY)
add_executable(it_path_tree ${CMAKE_CURRENT_LIST_DIR}/../programs/path_tree.c)
set_target_properties(it_path_tree PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)
ckpt_integration_test(path_tree_launch_map path_tree.sh launch)
ckpt_integration_test(path_tree_restart_map path_tree.sh restart)
