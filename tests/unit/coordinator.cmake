# Coordinator area: the state machine, option parsing, the restart script,
# and a smoke test of the real binaries over sockets.
add_executable(coordinator_tests
  ${CMAKE_CURRENT_LIST_DIR}/coordinator_state_machine_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/coordinator_figures_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/coordinator_options_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/coordinator_script_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/coordinator_generations_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/coordinator_smoke_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/coordinator_auth_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/coordinator_log_test.cpp)
target_link_libraries(coordinator_tests PRIVATE
  ckpt_coordinator_core ckpt_coord_client ckpt_coordinator_start GTest::gtest_main)
target_compile_definitions(coordinator_tests PRIVATE
  CKPT_COORDINATOR_BIN="$<TARGET_FILE:ckpt_coordinator>"
  CKPT_COMMAND_BIN="$<TARGET_FILE:ckpt_command>")
# ensure_coordinator() starts the ckpt_coordinator next to the test binary.
add_dependencies(coordinator_tests ckpt_coordinator ckpt_command)
gtest_discover_tests(coordinator_tests)
