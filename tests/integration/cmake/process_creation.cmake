# Process creation (libckpt/src/fork.cpp, exec.cpp, spawn.cpp): every process
# created inside a computation joins it, and exec keeps it in.
foreach(script process_creation_lib.sh process_creation_fork.sh process_creation_exec.sh
               process_creation_static.sh process_creation_spawn.sh process_creation_python.sh)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/../${script} ${CKPT_IT_DIR}/${script} COPYONLY)
endforeach()

add_executable(it_process_creation_tree ${CMAKE_CURRENT_LIST_DIR}/../programs/process_creation_tree.c)
add_executable(it_process_creation_spawn ${CMAKE_CURRENT_LIST_DIR}/../programs/process_creation_spawn.c)
target_link_libraries(it_process_creation_spawn PRIVATE Threads::Threads)
set_target_properties(it_process_creation_tree it_process_creation_spawn
                      PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)

# A statically linked program, where the C library's libc.a is installed
# (Debian: libc6-dev); the test skips itself otherwise.
find_file(CKPT_LIBC_A libc.a PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE} /usr/lib64 /usr/lib NO_DEFAULT_PATH)
set(static_prog ${CKPT_IT_DIR}/bin/it_process_creation_static)
if(CKPT_LIBC_A)
  add_executable(it_process_creation_static ${CMAKE_CURRENT_LIST_DIR}/../programs/process_creation_static.c)
  target_link_options(it_process_creation_static PRIVATE -static)
  set_target_properties(it_process_creation_static PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin
                        POSITION_INDEPENDENT_CODE OFF)
endif()

set(bin ${CKPT_IT_DIR}/bin)
ckpt_integration_test(process_creation_fork process_creation_fork.sh ${bin}/it_process_creation_tree)
ckpt_integration_test(process_creation_exec process_creation_exec.sh ${bin}/it_process_creation_tree)
ckpt_integration_test(process_creation_static process_creation_static.sh ${bin}/it_process_creation_tree
                      ${static_prog})
ckpt_integration_test(process_creation_spawn process_creation_spawn.sh ${bin}/it_process_creation_spawn)
ckpt_integration_test(process_creation_python process_creation_python.sh ${bin}/it_process_creation_tree)
