# The command-line layer of all five tools (launcher/cli/): CLI11 parses,
# nlohmann-json writes and reads JSON. The coordinator's tools link it too.
add_library(ckpt_cli STATIC ${CMAKE_CURRENT_LIST_DIR}/cli/cli.cpp)
target_include_directories(ckpt_cli PUBLIC ${CMAKE_CURRENT_LIST_DIR}/cli ${PROJECT_SOURCE_DIR}/libckpt/include)
target_compile_definitions(ckpt_cli PRIVATE CKPT_VERSION="${PROJECT_VERSION}")
target_link_libraries(ckpt_cli PUBLIC ckpt_protocol CLI11::CLI11 nlohmann_json::nlohmann_json)
