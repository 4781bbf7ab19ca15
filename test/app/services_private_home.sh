#!/usr/bin/env bash
# scripts/services.sh from a checkout below a private home (CTest app.services.private_home).
# Debian bookworm makes homes 0700, and /root is 0700: as root PostgreSQL runs as the postgres
# user, who cannot enter such a directory. Two checkouts' services are started side by side below
# a 0700 directory made here; each must answer, keep to its own ports and files, survive the
# other's restart and "down", and leave nothing behind.
#
#   test/app/services_private_home.sh [PARENT]   (PARENT of the 0700 directory; default .)
set -euo pipefail
script=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/services.sh
home=$(mktemp -d "$(cd "${1:-.}" && pwd)/private-home.XXXXXX")
chmod 0700 "$home"
a=$home/checkout-a/build/test/app/services
b=$home/checkout-b/build/test/app/services
failures=0

pass() { echo "PASS $*"; }
fail() {
  echo "FAIL $*" >&2
  failures=$((failures + 1))
}
# check WHAT CMD...: PASS or FAIL by CMD's exit status.
check() {
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then pass "$what"; else fail "$what"; fi
}
cleanup() {
  "$script" down --dir "$a" >/dev/null 2>&1 || true
  "$script" down --dir "$b" >/dev/null 2>&1 || true
  rm -rf "$home"
}
trap cleanup EXIT

# value DIR NAME: NAME from DIR/env.
value() { sed -n "s/^export $2='\{0,1\}\([^']*\)'\{0,1\}$/\1/p" "$1/env"; }
sql() { # DIR SQL: one value over TCP with the generated password
  PGPASSWORD=$(value "$1" PG_PASSWORD) "$(value "$1" PG_BIN)/psql" -X -q -tA -v ON_ERROR_STOP=1 -h 127.0.0.1 \
    -p "$(value "$1" PG_PORT)" -U stillontime -d stillontime -c "$2"
}
redis() { # DIR ARGS...
  local d=$1
  shift
  REDISCLI_AUTH=$(value "$d" REDIS_PASSWORD) redis-cli --no-auth-warning -p "$(value "$d" REDIS_PORT)" "$@"
}
closed() { ! ss -Htln "sport = :$1" | grep -q .; }
state_of() { dirname "$(value "$1" PG_SOCKET_DIR)"; }
postgres_user() { ps -o user= -p "$(head -n 1 "$(state_of "$1")/data/postmaster.pid")"; }

if [[ $(id -u) -eq 0 ]]; then
  # Otherwise the test would pass without showing anything.
  if runuser -u postgres -- test -x "$home"; then
    echo "FAIL the postgres user can enter $home: it is not private" >&2
    exit 1
  fi
  pass "the postgres user cannot enter $home (mode $(stat -c %a "$home"))"
fi

for d in "$a" "$b"; do
  if ! "$script" up --dir "$d"; then
    echo "FAIL services.sh up --dir $d" >&2
    exit 1
  fi
done
pass "services.sh up from two checkouts below a 0700 home"

for d in "$a" "$b"; do
  name=${d#"$home"/}
  name=${name%%/*}
  check "$name: PostgreSQL answers on 127.0.0.1:$(value "$d" PG_PORT) with the generated password" \
    test "$(sql "$d" 'select 1')" = 1
  check "$name: a table is written and read back" \
    test "$(sql "$d" "create table t (v text); insert into t values ('$name'); select v from t")" = "$name"
  check "$name: Redis answers PING with the generated password" test "$(redis "$d" ping)" = PONG
  check "$name: Redis refuses a client without the password" \
    test "$(redis-cli -p "$(value "$d" REDIS_PORT)" ping 2>&1)" != PONG
  state=$(state_of "$d")
  check "$name: PostgreSQL's files ($state) are outside the private home" test "${state#"$home"/}" = "$state"
  if [[ $(id -u) -eq 0 ]]; then
    check "$name: PostgreSQL runs as the postgres user" test "$(postgres_user "$d")" = postgres
    check "$name: its directory is the postgres user's alone (0700)" \
      test "$(stat -c '%U %a' "$state")" = "postgres 700"
  else
    check "$name: PostgreSQL runs as $(id -un)" test "$(postgres_user "$d")" = "$(id -un)"
  fi
done

ports=$(for d in "$a" "$b"; do value "$d" PG_PORT; value "$d" REDIS_PORT; done | sort -u | wc -l)
check "side by side: four different ports" test "$ports" = 4
check "side by side: each PostgreSQL has its own directory" test "$(state_of "$a")" != "$(state_of "$b")"
check "side by side: each database holds only its own row" \
  test "$(sql "$a" "select string_agg(v, ' ') from t") $(sql "$b" "select string_agg(v, ' ') from t")" = "checkout-a checkout-b"

"$script" stop-postgres --dir "$a" >/dev/null 2>&1
check "checkout-a: stop-postgres stops it" closed "$(value "$a" PG_PORT)"
check "checkout-b: still answers while checkout-a's PostgreSQL is down" test "$(sql "$b" 'select 1')" = 1
"$script" start-postgres --dir "$a" >/dev/null 2>&1
check "checkout-a: start-postgres brings it back with its data" test "$(sql "$a" 'select v from t')" = checkout-a

state_a=$(state_of "$a")
pg_port_a=$(value "$a" PG_PORT)
redis_port_a=$(value "$a" REDIS_PORT)
"$script" down --dir "$a" >/dev/null 2>&1
check "checkout-a: down removes PostgreSQL's directory" test ! -e "$state_a"
check "checkout-a: down closes its PostgreSQL port" closed "$pg_port_a"
check "checkout-a: down closes its Redis port" closed "$redis_port_a"
check "checkout-a: down leaves no env behind" test ! -e "$a/env"
check "checkout-b: still answers after checkout-a's down" test "$(sql "$b" 'select v from t')" = checkout-b
check "checkout-b: Redis still answers" test "$(redis "$b" ping)" = PONG
state_b=$(state_of "$b")
"$script" down --dir "$b" >/dev/null 2>&1
check "checkout-b: down removes PostgreSQL's directory" test ! -e "$state_b"

if ((failures)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all checks passed"
