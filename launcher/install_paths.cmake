# Shared by the launcher tools: finds <prefix>/bin and <prefix>/lib from the
# running executable.
add_library(ckpt_install_paths STATIC ${CMAKE_CURRENT_LIST_DIR}/install_paths.cpp)
target_include_directories(ckpt_install_paths PUBLIC ${CMAKE_CURRENT_LIST_DIR})
