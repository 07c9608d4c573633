# DMTCP compatibility (plugins/dmtcp, issue 12): DMTCP-style plugins with
# their events and barriers, and the environment and temporary directory of
# restored processes (--modify-env, --env-file, --tmpdir).
foreach(script dmtcp_plugin.sh restart_env.sh dmtcp_dlsym.sh)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/../${script} ${CKPT_IT_DIR}/${script} COPYONLY)
endforeach()
add_executable(it_dmtcp_plugin ${CMAKE_CURRENT_LIST_DIR}/../programs/dmtcp_plugin.c)
add_library(it_dmtcp_decl_plugin SHARED ${CMAKE_CURRENT_LIST_DIR}/../programs/dmtcp_decl_plugin.c)
add_executable(it_restart_env ${CMAKE_CURRENT_LIST_DIR}/../programs/restart_env.c)
foreach(t it_dmtcp_plugin it_dmtcp_decl_plugin it_restart_env)
  target_include_directories(${t} PRIVATE ${PROJECT_SOURCE_DIR}/plugins/dmtcp)
endforeach()
set_target_properties(it_dmtcp_plugin it_restart_env PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)
set_target_properties(it_dmtcp_decl_plugin PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)

set(bin ${CKPT_IT_DIR}/bin)
ckpt_integration_test(dmtcp_plugin dmtcp_plugin.sh ${bin}/it_dmtcp_plugin ${bin}/libit_dmtcp_decl_plugin.so)
ckpt_integration_test(restart_env restart_env.sh ${bin}/it_restart_env)
# A wrapper library as DMTCP plugins write them: rand() wrapped, the next
# definition found with dmtcp_dlsym(RTLD_NEXT, ...), through a restart.
add_executable(it_dmtcp_dlsym ${CMAKE_CURRENT_LIST_DIR}/../programs/dmtcp_dlsym.c)
add_library(it_dmtcp_dlsym_plugin SHARED ${CMAKE_CURRENT_LIST_DIR}/../programs/dmtcp_dlsym_plugin.c)
target_link_libraries(it_dmtcp_dlsym PRIVATE ${CMAKE_DL_LIBS})
target_link_libraries(it_dmtcp_dlsym_plugin PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(it_dmtcp_dlsym PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)
set_target_properties(it_dmtcp_dlsym_plugin PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${CKPT_IT_DIR}/bin)
ckpt_integration_test(dmtcp_dlsym dmtcp_dlsym.sh ${bin}/it_dmtcp_dlsym ${bin}/libit_dmtcp_dlsym_plugin.so)
