# ckpt_restart: a driver over the resource kinds' restart sides (ckpt/restart.h,
# in plugins/<kind>/) that validates images and restores processes through
# the freestanding restorer blob (libckpt/restore).

# The restart side of the plugin API: the kinds' registry and path rewriting.
add_library(ckpt_restart_api STATIC ${CMAKE_CURRENT_LIST_DIR}/restart_api.cpp ${CMAKE_CURRENT_LIST_DIR}/path_rewrite.cpp)
target_include_directories(ckpt_restart_api PUBLIC ${PROJECT_SOURCE_DIR}/libckpt/include)
target_link_libraries(ckpt_restart_api PUBLIC ckpt_image_reader)

add_library(ckpt_restart_options STATIC ${CMAKE_CURRENT_LIST_DIR}/restart_options.cpp
  ${CMAKE_CURRENT_LIST_DIR}/restart_tree.cpp ${CMAKE_CURRENT_LIST_DIR}/restart_hosts.cpp)
target_include_directories(ckpt_restart_options PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(ckpt_restart_options PUBLIC ckpt_restart_api ckpt_cli PRIVATE ckpt_path_map_option)

get_property(ckpt_restart_kinds GLOBAL PROPERTY CKPT_RESTART_KINDS)
set(ckpt_restart_kind_objects)
foreach(k IN LISTS ckpt_restart_kinds)
  list(APPEND ckpt_restart_kind_objects $<TARGET_OBJECTS:${k}>)
endforeach()

add_executable(ckpt_restart ${CMAKE_CURRENT_LIST_DIR}/ckpt_restart.cpp ${CMAKE_CURRENT_LIST_DIR}/process_restore.cpp
  ${CMAKE_CURRENT_LIST_DIR}/lazy_pages.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tree_fork.cpp ${CMAKE_CURRENT_LIST_DIR}/restart_hosts_run.cpp ${ckpt_restart_kind_objects})
target_link_libraries(ckpt_restart PRIVATE ckpt_restart_options ckpt_image_info ckpt_restorer_blob
  ckpt_coordinator_start ckpt_coord_client Threads::Threads ${CMAKE_DL_LIBS})
# Third-party restart kinds (--plugin) link against the registry and the
# image reader inside this executable.
set_target_properties(ckpt_restart PROPERTIES ENABLE_EXPORTS ON)
install(TARGETS ckpt_restart RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
