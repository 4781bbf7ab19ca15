#!/usr/bin/env bash
# The stage functions run through run_stage "$@", which shellcheck cannot follow.
# shellcheck disable=SC2317
# Runs every test of the project on a fresh or a warm machine:
#   1. installs the Debian packages (scripts/install-deps.sh),
#   2. builds the kube-apiserver from Debian's source once (cached after),
#   3. builds the project, and the unit tests again under ASan+UBSan,
#   4. runs the unit tests (both builds), the libFuzzer targets for a bounded
#      time (scripts/fuzz.sh, 30 s a target), the end-to-end tests against the
#      real API server, the application server's tests against real PostgreSQL
#      and Redis, the images and browser tests, the real-node tests (our images
#      on a one-node cluster, test/node/run.sh) and the linters.
# Prints how long each stage took. Exits non-zero when anything fails.
#
# Environment: JOBS (default 2), BUILD_DIR (default build), ASAN_BUILD_DIR
# (default build-asan), SKIP_ASAN=1 to skip the sanitizer stage locally,
# FUZZ_BUILD_DIR (default build-fuzz), FUZZ_SECONDS (default 30, per target),
# SKIP_FUZZ=1 to skip the fuzzing stage locally.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=${JOBS:-2}
build=${BUILD_DIR:-build}
asan=${ASAN_BUILD_DIR:-build-asan}

declare -a stage_names=() stage_times=()
failed=""
now() { date +%s; }
run_stage() {
  local name=$1
  shift
  local t0
  t0=$(now)
  echo "=== stage: $name"
  if "$@"; then
    stage_names+=("$name")
    stage_times+=("$(($(now) - t0))")
  else
    stage_names+=("$name (FAILED)")
    stage_times+=("$(($(now) - t0))")
    failed="$name"
  fi
}
summary() {
  echo "=== stage times"
  local i total=0
  for i in "${!stage_names[@]}"; do
    printf '  %-48s %5ss\n' "${stage_names[$i]}" "${stage_times[$i]}"
    total=$((total + stage_times[i]))
  done
  printf '  %-48s %5ss\n' "total" "$total"
}
trap summary EXIT

configure_build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" "$@" >/dev/null
}

# Release (-O2, no debug info) compiles a third faster than RelWithDebInfo on
# two cores; the sanitizer build uses -O1 and -g1 (line tables), enough for
# ASan's stack traces.
build_all() { configure_build "$build" -DCMAKE_BUILD_TYPE=Release && cmake --build "$build" -j"$jobs"; }
build_asan() {
  configure_build "$asan" -DSTILLONTIME_SANITIZE=address -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" &&
    cmake --build "$asan" -j"$jobs" --target unit-tests
}
unit_tests() { ctest --test-dir "$build" -L unit --output-on-failure -j"$jobs"; }
asan_tests() {
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$asan" -L unit --output-on-failure -j"$jobs"
}
fuzz() { FUZZ_BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz} JOBS=$jobs scripts/fuzz.sh --time "${FUZZ_SECONDS:-30}"; }
other_tests() { ctest --test-dir "$build" -LE 'unit|node' --output-on-failure; }
node_tests() { ctest --test-dir "$build" -L node --output-on-failure; }
images() { BUILD_DIR=$build scripts/images.sh build; }
lint() {
  local shell_files yaml_status=0
  mapfile -t shell_files < <(git ls-files '*.sh' .ci/run plugin/kubectl_complete-stillontime)
  shellcheck "${shell_files[@]}" || return 1
  yamllint -s -c .yamllint crds examples manifests plugin/krew 2>/dev/null || yaml_status=$?
  return "$yaml_status"
}

run_stage "install dependencies" scripts/install-deps.sh
[[ -z $failed ]] && run_stage "control plane build (cached after the first)" scripts/control-plane.sh build
[[ -z $failed ]] && run_stage "project build" build_all
[[ -z $failed ]] && run_stage "unit tests" unit_tests
if [[ -z $failed && ${SKIP_ASAN:-0} != 1 ]]; then
  run_stage "sanitizer build (ASan+UBSan, unit tests)" build_asan
  [[ -z $failed ]] && run_stage "unit tests under ASan+UBSan" asan_tests
fi
if [[ -z $failed && ${SKIP_FUZZ:-0} != 1 ]]; then
  run_stage "fuzzing (libFuzzer + ASan/UBSan, bounded)" fuzz
fi
[[ -z $failed ]] && run_stage "images (buildah, cached by content)" images
[[ -z $failed ]] && run_stage "e2e and integration tests" other_tests
[[ -z $failed ]] && run_stage "real-node e2e (images, one-node cluster)" node_tests
[[ -z $failed ]] && run_stage "lint (shellcheck, yamllint)" lint

if [[ -n $failed ]]; then
  echo "FAILED at stage: $failed" >&2
  exit 1
fi
echo "all stages passed"
exit 0
