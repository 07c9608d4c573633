# The coordinator's log stays bounded under a flood of bad peers (issue 8).
configure_file(${CMAKE_CURRENT_LIST_DIR}/../coordinator_log.sh ${CKPT_IT_DIR}/coordinator_log.sh COPYONLY)
ckpt_integration_test(coordinator_log coordinator_log.sh)
