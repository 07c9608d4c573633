# ckpt_info: prints checkpoint images as a human summary or JSON.
add_executable(ckpt_info ${CMAKE_CURRENT_LIST_DIR}/ckpt_info.cpp)
target_link_libraries(ckpt_info PRIVATE ckpt_image_info ckpt_cli)
install(TARGETS ckpt_info RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
