# Why: the backup and restore scripts (and env.sh, the environment handling both source) are
# files in the repo (scripts/backup/*.sh) that people
# read, shellcheck and test directly; the operator renders them into the ConfigMap
# N-backup-scripts. This turns them into a header at build time so the binary carries exactly
# the tested files. Run by operator/stillontime/CMakeLists.txt. Inputs: SCRIPTS_DIR, OUTPUT.
set(body "// Generated from scripts/backup/*.sh by embed_backup_scripts.cmake; do not edit.\n#pragma once\n\n#include <string_view>\n\nnamespace sot::stillontime {\n\n")
foreach(pair "backup.sh;kBackupScript" "restore.sh;kRestoreScript" "env.sh;kBackupEnvScript")
  list(GET pair 0 file)
  list(GET pair 1 symbol)
  file(READ "${SCRIPTS_DIR}/${file}" text)
  string(FIND "${text}" ")SH\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains the raw-string delimiter )SH\"")
  endif()
  string(APPEND body "inline constexpr std::string_view ${symbol} = R\"SH(${text})SH\";\n\n")
endforeach()
string(APPEND body "}  // namespace sot::stillontime\n")
file(WRITE "${OUTPUT}.tmp" "${body}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
