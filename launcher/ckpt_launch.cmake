# ckpt_launch: runs a program with libckpt.so preloaded.
add_library(ckpt_launch_options STATIC ${CMAKE_CURRENT_LIST_DIR}/launch_options.cpp)
target_include_directories(ckpt_launch_options PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(ckpt_launch_options PUBLIC ckpt_cli PRIVATE ckpt_file_policy ckpt_path_map_option)

# exec_target.cpp is libckpt's own check (plain syscalls): ckpt_launch warns
# exactly when the exec wrapper inside libckpt would.
add_executable(ckpt_launch ${CMAKE_CURRENT_LIST_DIR}/ckpt_launch.cpp
                           ${PROJECT_SOURCE_DIR}/libckpt/src/exec_target.cpp)
target_include_directories(ckpt_launch PRIVATE ${PROJECT_SOURCE_DIR}/libckpt/src ${PROJECT_SOURCE_DIR}/libckpt/include)
target_link_libraries(ckpt_launch PRIVATE ckpt_launch_options ckpt_install_paths ckpt_coordinator_start)
install(TARGETS ckpt_launch RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# ckpt_nocheckpoint: runs a program outside the computation (leaves on purpose).
add_executable(ckpt_nocheckpoint ${CMAKE_CURRENT_LIST_DIR}/ckpt_nocheckpoint.cpp)
target_link_libraries(ckpt_nocheckpoint PRIVATE ckpt_launch_options ckpt_cli)
install(TARGETS ckpt_nocheckpoint RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
