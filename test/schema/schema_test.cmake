# Schema check (label `schema`): renders every example with
# render_command (`stillontime-operator render --api-versions latest`, through
# the test-only stillontime_render_tool) and validates each object
# with kubernetes-models 5.x (Kubernetes 1.34 schemas) and
# @kubernetes-models/prometheus-operator. Needs node and npm; `npm ci` runs at
# test time into a cache directory outside the source tree.
find_program(STILLONTIME_NODE node)
find_program(STILLONTIME_NPM npm)
add_executable(stillontime_render_tool ${CMAKE_CURRENT_LIST_DIR}/render_tool.cpp)
target_link_libraries(stillontime_render_tool PRIVATE stillontime)
if(STILLONTIME_NODE AND STILLONTIME_NPM)
  set(STILLONTIME_SCHEMA_CACHE "$ENV{HOME}/.cache/stillontime/schema-node" CACHE PATH
      "Where the schema test installs its npm packages")
  add_test(NAME stillontime_schema_latest
    COMMAND ${CMAKE_COMMAND} -E env
      NODE=${STILLONTIME_NODE} NPM=${STILLONTIME_NPM}
      SCHEMA_CACHE=${STILLONTIME_SCHEMA_CACHE}
      RENDER=$<TARGET_FILE:stillontime_render_tool>
      sh ${PROJECT_SOURCE_DIR}/test/schema/run.sh ${PROJECT_SOURCE_DIR}/examples)
  set_tests_properties(stillontime_schema_latest PROPERTIES LABELS schema TIMEOUT 600)
endif()
