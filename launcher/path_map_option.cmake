# --path-map, shared by ckpt_launch and ckpt_restart (plugins/path's table checks it).
add_library(ckpt_path_map_option STATIC ${CMAKE_CURRENT_LIST_DIR}/path_map_option.cpp)
target_include_directories(ckpt_path_map_option PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(ckpt_path_map_option PUBLIC ckpt_cli PRIVATE ckpt_path_map)
