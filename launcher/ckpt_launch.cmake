# ckpt_launch: runs a program with libckpt.so preloaded.
add_library(ckpt_launch_options STATIC ${CMAKE_CURRENT_LIST_DIR}/launch_options.cpp)
target_include_directories(ckpt_launch_options PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(ckpt_launch_options PRIVATE ckpt_file_policy)

add_executable(ckpt_launch ${CMAKE_CURRENT_LIST_DIR}/ckpt_launch.cpp)
target_compile_definitions(ckpt_launch PRIVATE CKPT_VERSION="${PROJECT_VERSION}")
target_link_libraries(ckpt_launch PRIVATE ckpt_launch_options ckpt_install_paths ckpt_coordinator_start)
install(TARGETS ckpt_launch RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
