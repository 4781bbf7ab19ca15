#!/usr/bin/env bash
# Builds the libFuzzer targets (test/fuzz/, clang, -fsanitize=fuzzer,address,undefined)
# and runs each for a bounded time. Fails on any finding: a crash, an ASan or
# UBSan report, a leak, a timeout or an out-of-memory; the input that caused it
# is kept under $FUZZ_BUILD_DIR/findings/. Prints executions, coverage
# (cov: edges, ft: features) and corpus size per target.
#
#   scripts/fuzz.sh                     every target, 30 s each (the test.sh stage)
#   scripts/fuzz.sh --time 10 fuzz_jwt  one target, 10 s
#   scripts/fuzz.sh --long 3600         every target, an hour each
#   scripts/fuzz.sh --build-only unit-tests
#                                       build the targets plus the given CMake
#                                       targets in the same sanitizer tree, run
#                                       nothing (scripts/test.sh builds its ASan
#                                       unit tests here, so the libraries are
#                                       compiled under the sanitizers only once)
#
# Corpora: the committed seeds (test/fuzz/corpus/<target>/, written by
# test/fuzz/make_seeds.py) are read; what a run discovers is kept in
# $FUZZ_BUILD_DIR/corpus/<target>/ and reused by the next run.
# Environment: FUZZ_BUILD_DIR (default build-fuzz), JOBS (default 2).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${JOBS:-2}
seconds=30
build_only=0
declare -a targets=() extra_targets=()
all_targets=(fuzz_spec fuzz_cron fuzz_watch fuzz_kube_list fuzz_kubeconfig fuzz_plugin fuzz_jwt fuzz_call_sheet fuzz_pdf_text fuzz_http)

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit 2
}
while (($#)); do
  case $1 in
    --time | --long)
      [[ $# -ge 2 && $2 =~ ^[0-9]+$ ]] || usage
      seconds=$2
      shift 2
      ;;
    --build-only)
      build_only=1
      shift
      while (($#)) && [[ $1 != -* ]]; do
        extra_targets+=("$1")
        shift
      done
      ;;
    -h | --help) usage ;;
    fuzz_*)
      targets+=("$1")
      shift
      ;;
    *) usage ;;
  esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")

# Longest input per target: the server's target must hold a 10,000-level
# nested JSON body; resources and PDFs are a few KB.
max_len_of() {
  case $1 in
    fuzz_http) echo 65536 ;;
    fuzz_spec | fuzz_kube_list | fuzz_pdf_text) echo 16384 ;;
    *) echo 4096 ;;
  esac
}

# --- build -----------------------------------------------------------------
for tool in clang++ cmake; do
  command -v "$tool" >/dev/null || {
    echo "fuzz: $tool is missing (scripts/install-deps.sh installs it)" >&2
    exit 1
  }
done
t0=$(date +%s)
cmake -S . -B "$build" -DSTILLONTIME_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" >/dev/null
cmake --build "$build" -j"$jobs" --target fuzz-targets fuzz_seed_pdf "${extra_targets[@]}"
echo "fuzz: build took $(($(date +%s) - t0)) s"
((build_only == 0)) || exit 0

# --- run -------------------------------------------------------------------
mkdir -p "$build/corpus" "$build/findings" "$build/logs"
# The PDF seed from the unit tests' generator, and a kubeconfig with a fresh
# throw-away certificate (no key material is committed).
mkdir -p "$build/corpus/fuzz_pdf_text" "$build/corpus/fuzz_kubeconfig"
"$build/bin/fuzz_seed_pdf" "$build/corpus/fuzz_pdf_text/call-sheet.pdf"
if command -v openssl >/dev/null; then
  tmp=$(mktemp -d)
  openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=fuzz -days 2 -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
  {
    printf 'apiVersion: v1\nkind: Config\ncurrent-context: ctx\n'
    printf 'clusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:6443\n'
    printf '    certificate-authority-data: %s\n' "$(base64 -w0 "$tmp/cert.pem")"
    printf 'contexts:\n- name: ctx\n  context: {cluster: c1, user: u1}\n'
    printf 'users:\n- name: u1\n  user:\n'
    printf '    client-certificate-data: %s\n' "$(base64 -w0 "$tmp/cert.pem")"
    printf '    client-key-data: %s\n' "$(base64 -w0 "$tmp/key.pem")"
  } >"$build/corpus/fuzz_kubeconfig/client-certificate"
  rm -rf "$tmp"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

declare -a rows=()
failed=()
for t in "${targets[@]}"; do
  bin="$build/bin/$t"
  [[ -x $bin ]] || {
    echo "fuzz: no such target $t" >&2
    exit 2
  }
  work="$build/corpus/$t"
  mkdir -p "$work"
  seeds="test/fuzz/corpus/$t"
  [[ -d $seeds ]] || seeds=""
  log="$build/logs/$t.log"
  echo "=== fuzz: $t for ${seconds} s"
  start=$(date +%s)
  rc=0
  # -timeout: one input may take seconds here (a valid resource renders every
  # child, dashboards included) and CI machines are shared; a minute is a hang.
  # -malloc_limit_mb: one huge allocation is reported at once, with its stack and
  # input. The outer timeout bounds the rest: on an RSS overflow libFuzzer first
  # profiles the heap, which takes minutes at gigabytes under ASan.
  timeout --kill-after=10 $((seconds + 120)) \
    "$bin" -max_total_time="$seconds" -max_len="$(max_len_of "$t")" -timeout=60 -rss_limit_mb=2048 \
    -malloc_limit_mb=512 -print_final_stats=1 -artifact_prefix="$build/findings/$t-" \
    "$work" ${seeds:+"$seeds"} >"$log" 2>&1 || rc=$?
  took=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
  result=ok
  if ((rc != 0)); then
    result="FINDING (exit $rc, log $log)"
    failed+=("$t")
    if ((rc == 124 || rc == 137)); then echo "    $t did not stop in time (stuck after a finding?)"; fi
    grep -E 'ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:|Test unit written to|terminate called|what\(\)' "$log" | head -5 | sed 's/^/    /'
  fi
  rows+=("$(printf '%-16s %12s %7s %7s %12s %6ss  %s' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$took" "$result")")
done

echo "=== fuzz summary ($(nproc) cores, ${seconds} s a target)"
printf '%-16s %12s %7s %7s %12s %7s  %s\n' target executions cov ft corpus time result
printf '%s\n' "${rows[@]}"
if ((${#failed[@]})); then
  echo "fuzz: findings in ${failed[*]}; the inputs are in $build/findings/" >&2
  exit 1
fi
echo "fuzz: no findings"
