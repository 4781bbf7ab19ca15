# Helpers for the real-node end-to-end checks (sourced by test/node/*.sh).
# Each check prints one line, PASS or FAIL with what it saw; `fail` stops the
# run. Every wait is bounded.
# shellcheck shell=bash

T0=${EPOCHREALTIME/./}
elapsed() { local t=${EPOCHREALTIME/./}; printf '%6.1fs' "$(((t - T0) / 100000))e-1"; }
step() { printf '\n[%s] == %s\n' "$(elapsed)" "$*"; }
pass() { printf '[%s] PASS %s\n' "$(elapsed)" "$*"; }
fail() {
  printf '[%s] FAIL %s\n' "$(elapsed)" "$*" >&2
  exit 1
}

# retry SECONDS DESCRIPTION CMD...: run CMD every second until it succeeds.
retry() {
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  fail "$what (not within ${secs}s)"
}

# condition NS NAME TYPE: the status of a StillOnTime condition.
condition() {
  kubectl -n "$1" get stillontime "$2" -o jsonpath="{.status.conditions[?(@.type==\"$3\")].status}" 2>/dev/null
}

# wait_ready NS NAME SECONDS: kubectl wait --for=condition=Ready, with the
# conditions and the pods shown when it does not come.
wait_ready() {
  if ! kubectl -n "$1" wait --for=condition=Ready --timeout="$3s" "stillontime/$2" >/dev/null; then
    kubectl -n "$1" get stillontime "$2" -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}' >&2 || true
    kubectl -n "$1" get pods -o wide >&2 || true
    kubectl -n "$1" get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 20 >&2 || true
    fail "stillontime $1/$2 did not become Ready within $3s"
  fi
}

svc_ip() { kubectl -n "$1" get service "$2" -o jsonpath='{.spec.clusterIP}'; }

# psql_in NS POD SQL: run SQL in the Postgres pod as the generated user.
# shellcheck disable=SC2016 # the variables expand inside the pod
psql_in() {
  kubectl -n "$1" exec "$2" -c postgres -- bash -c 'PGPASSWORD="$POSTGRES_PASSWORD" psql -qtAX -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -v ON_ERROR_STOP=1 -c "$0"' "$3"
}
