# Why: the Grafana dashboards are files in the repo (manifests/monitoring/dashboards/*.json) that
# the cluster-wide install ships as ConfigMaps; the embedded Grafana (spec.monitoring.embedded)
# must show the very same dashboards, so this turns them into a header at build time and the
# operator renders them into the ConfigMap N-grafana-dashboards. Run by
# operator/stillontime/CMakeLists.txt. Inputs: DASHBOARDS (a ;-list of files), OUTPUT.
set(body "// Generated from manifests/monitoring/dashboards/*.json by embed_dashboards.cmake; do not edit.\n#pragma once\n\n#include <array>\n#include <string_view>\n\nnamespace sot::stillontime {\n\nstruct EmbeddedDashboard {\n  std::string_view file;   // the key in the ConfigMap\n  std::string_view json;\n};\n\n")
list(LENGTH DASHBOARDS count)
string(APPEND body "inline constexpr std::array<EmbeddedDashboard, ${count}> kDashboards = {{\n")
foreach(path ${DASHBOARDS})
  get_filename_component(file "${path}" NAME)
  file(READ "${path}" text)
  string(FIND "${text}" ")JSON\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains the raw-string delimiter )JSON\"")
  endif()
  string(APPEND body "    {\"${file}\", R\"JSON(${text})JSON\"},\n")
endforeach()
string(APPEND body "}};\n\n}  // namespace sot::stillontime\n")
file(WRITE "${OUTPUT}.tmp" "${body}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
