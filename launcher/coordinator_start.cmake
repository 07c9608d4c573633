# ensure_coordinator(): finds or starts the coordinator for ckpt_launch and
# ckpt_restart.
add_library(ckpt_coordinator_start STATIC ${CMAKE_CURRENT_LIST_DIR}/coordinator_start.cpp)
target_include_directories(ckpt_coordinator_start PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(ckpt_coordinator_start PUBLIC ckpt_protocol ckpt_auth PRIVATE ckpt_coord_client ckpt_cli)
