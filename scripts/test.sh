#!/usr/bin/env bash
# The stage functions run through run_stage "$@", which shellcheck cannot follow.
# shellcheck disable=SC2317
# Runs every test of the project on a fresh or a warm machine:
#   1. installs the Debian packages (scripts/install-deps.sh),
#   2. builds the kube-apiserver from Debian's source once (cached after),
#   3. builds the project, then one clang tree under ASan+UBSan that holds both
#      the unit tests and the libFuzzer targets (scripts/fuzz.sh --build-only),
#   4. runs the unit tests (both builds), the libFuzzer targets for a bounded
#      time (scripts/fuzz.sh, 30 s a target), the end-to-end tests against the
#      real API server, the application server's tests against real PostgreSQL
#      and Redis, the images and browser tests, the real-node tests (our images
#      on a one-node cluster, test/node/run.sh) and the linters.
# Prints how long each stage took. Exits non-zero when anything fails.
#
# Run it as root or as a user with sudo: then only the Debian packages, the
# images (their build and their test) and the real node run as root, through
# sudo (scripts/as-root.sh, which asks for the password once at the start);
# everything else runs as the user.
#
# Environment: JOBS (default 2), BUILD_DIR (default build), FUZZ_BUILD_DIR
# (default build-fuzz: the sanitizer tree), SKIP_ASAN=1 to skip the sanitizer
# unit tests locally, FUZZ_SECONDS (default 30, per target), SKIP_FUZZ=1 to skip
# the fuzzing stage locally.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jobs=${JOBS:-2}
build=${BUILD_DIR:-build}
asan=${FUZZ_BUILD_DIR:-build-fuzz}

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

# Release (-O2, the tests -O1, no debug info; docs/benchmarks.md, "-O2 and -O3")
# compiles a third faster than RelWithDebInfo on two cores; the sanitizer build
# uses -O1 and -g1 (line tables), enough for ASan's stack traces.
# One build at a time in a build tree (lock file .stillontime-build.lock): the
# quickstart or scripts/images.sh may build the same tree meanwhile.
build_all() {
  mkdir -p "$build"
  (
    flock 9
    configure_build "$build" -DCMAKE_BUILD_TYPE=Release && cmake --build "$build" -j"$jobs"
  ) 9>"$build/.stillontime-build.lock"
}
# One clang tree with ASan+UBSan (and libFuzzer's coverage hooks) serves the
# sanitizer unit tests and the fuzz targets: every library compiles once under
# the sanitizers instead of twice.
build_asan() { FUZZ_BUILD_DIR=$asan JOBS=$jobs scripts/fuzz.sh --build-only unit-tests; }
unit_tests() { ctest --test-dir "$build" -L unit --output-on-failure -j"$jobs"; }
asan_tests() {
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir "$asan" -L unit --output-on-failure -j"$jobs"
}
fuzz() { FUZZ_BUILD_DIR=$asan JOBS=$jobs scripts/fuzz.sh --time "${FUZZ_SECONDS:-30}"; }
other_tests() { ctest --test-dir "$build" -LE 'unit|node' --output-on-failure; }
node_tests() { ctest --test-dir "$build" -L node --output-on-failure; }
images() { BUILD_DIR=$build scripts/as-root.sh scripts/images.sh build; }
lint() {
  local shell_files yaml_status=0
  mapfile -t shell_files < <(git ls-files '*.sh' .ci/run plugin/kubectl_complete-stillontime)
  shellcheck "${shell_files[@]}" || return 1
  # Every C++ file is in .clang-format's style (docs/architecture.md, "Code style");
  # the layering check's fixture is a deliberate sample and stays as written.
  git ls-files '*.cpp' '*.h' ':!test/unit/layering/fixture/*' | xargs clang-format --dry-run --Werror || return 1
  yamllint -s -c .yamllint crds examples manifests plugin/krew 2>/dev/null || yaml_status=$?
  return "$yaml_status"
}

scripts/as-root.sh --keep-alive $$
run_stage "install dependencies" scripts/install-deps.sh
[[ -z $failed ]] && run_stage "control plane build (cached after the first)" scripts/control-plane.sh build
[[ -z $failed ]] && run_stage "project build" build_all
[[ -z $failed ]] && run_stage "unit tests" unit_tests
if [[ -z $failed && (${SKIP_ASAN:-0} != 1 || ${SKIP_FUZZ:-0} != 1) ]]; then
  run_stage "sanitizer build (clang ASan+UBSan: unit tests, fuzz targets)" build_asan
fi
if [[ -z $failed && ${SKIP_ASAN:-0} != 1 ]]; then
  run_stage "unit tests under ASan+UBSan" asan_tests
fi
if [[ -z $failed && ${SKIP_FUZZ:-0} != 1 ]]; then
  run_stage "fuzzing (libFuzzer + ASan/UBSan, bounded)" fuzz
fi
[[ -z $failed ]] && run_stage "images (buildah, cached by content)" images
[[ -z $failed ]] && run_stage "e2e and integration tests" other_tests
[[ -z $failed ]] && run_stage "real-node e2e (images, one-node cluster)" node_tests
[[ -z $failed ]] && run_stage "lint (shellcheck, clang-format, yamllint)" lint

if [[ -n $failed ]]; then
  echo "FAILED at stage: $failed" >&2
  exit 1
fi
echo "all stages passed"
exit 0
