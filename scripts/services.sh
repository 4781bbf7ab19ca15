#!/usr/bin/env bash
# Starts and stops the PostgreSQL and Redis that stillontime-server's tests and benchmarks use:
# private instances on free loopback ports, so they never touch (or depend on) the machine's own
# services, and two checkouts' runs never meet.
#
#   scripts/services.sh up --dir DIR              start both, write DIR/env (source it)
#   scripts/services.sh down --dir DIR            stop exactly what "up" started in DIR
#   scripts/services.sh stop-postgres --dir DIR   stop only PostgreSQL (readiness tests)
#   scripts/services.sh start-postgres --dir DIR  start it again on the same port
#   scripts/services.sh status --dir DIR
#
# DIR (any path, a private home included) holds env, Redis and the bookkeeping. PostgreSQL's own
# files (data, socket, log) go to a private directory that "up" makes with mktemp under
# ${TMPDIR:-/tmp} and "down" removes: PostgreSQL refuses to run as root, so as root it runs as the
# "postgres" system user, who cannot reach a DIR below a 0700 home; and a socket path under a
# deep checkout would pass the 107 bytes a Unix socket allows. As any other user it runs as that
# user. Needs the Debian packages postgresql and redis-server; installs them when missing (root).
set -euo pipefail

usage() {
  sed -n '6,11p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

command_name=${1:-}
[[ -n "$command_name" ]] || usage
shift
dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir=${2:-}; shift 2 ;;
    --dir=*) dir=${1#--dir=}; shift ;;
    *) echo "services.sh: unknown argument $1" >&2; usage ;;
  esac
done
[[ -n "$dir" ]] || { echo "services.sh: --dir is required" >&2; exit 2; }

log() { echo "services.sh: $*" >&2; }

ensure_packages() {
  local missing=()
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
      echo "services.sh: ${missing[*]} missing and not root; install them first" >&2
      exit 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=900 "${missing[@]}" >&2 \
      || { apt-get update -o DPkg::Lock::Timeout=900 >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=900 "${missing[@]}" >&2; }
  fi
}

pg_bin() {
  local newest
  newest=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort -n | tail -1)
  echo "/usr/lib/postgresql/${newest}/bin"
}

free_port() {
  local port
  for _ in $(seq 1 200); do
    # Below the kernel's ephemeral range (32768+), where outgoing connections
    # take their local ports.
    port=$(( (RANDOM % 12000) + 20000 ))
    if ! ss -Htln "sport = :${port}" | grep -q .; then
      echo "$port"
      return 0
    fi
  done
  echo "services.sh: no free port found" >&2
  return 1
}

random_secret() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# Runs a command as the PostgreSQL owner (the postgres user when we are root).
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# The private directory's name: mktemp's pattern, checked again before "down" removes it.
PG_STATE_NAME='stillontime-pg.XXXXXXXXXX'
PG_STATE_RE='^/([A-Za-z0-9._+-]+/)*stillontime-pg\.[A-Za-z0-9]{10}$'

# Where the private directory goes: $TMPDIR when the PostgreSQL owner can reach it (pam_tmpdir
# gives root a TMPDIR only root can enter), /tmp otherwise.
pg_state_parent() {
  local base=${TMPDIR:-/tmp}
  base=${base%/}
  [[ "$base/" =~ ^/([A-Za-z0-9._+-]+/)*$ && -w $base && -x $base ]] && as_pg test -x "$base" 2>/dev/null || base=/tmp
  printf '%s' "$base"
}

read_settings() {
  [[ -f "$dir/pg/settings" ]] || { echo "services.sh: no PostgreSQL set up in $dir (run up first)" >&2; exit 1; }
  saved_bin=$(sed -n 's/^PG_BIN=//p' "$dir/pg/settings")
  saved_port=$(sed -n 's/^PG_PORT=//p' "$dir/pg/settings")
  saved_state=$(sed -n 's/^PG_STATE=//p' "$dir/pg/settings")
  # Set up by an earlier version of this script, which kept PostgreSQL's files in DIR/pg.
  if [[ -z $saved_state && -d "$dir/pg/data" ]]; then saved_state=$dir/pg; return 0; fi
  if [[ ! $saved_state =~ $PG_STATE_RE ]]; then
    echo "services.sh: $dir/pg/settings names no private PostgreSQL directory (PG_STATE=$saved_state)" >&2
    exit 1
  fi
}

start_postgres() {
  read_settings
  as_pg "$saved_bin/pg_ctl" -D "$saved_state/data" -l "$saved_state/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $saved_port -k $saved_state/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >&2
}

stop_postgres() {
  [[ -f "$dir/pg/settings" ]] || return 0
  read_settings
  if [[ -f "$saved_state/data/postmaster.pid" ]]; then
    as_pg "$saved_bin/pg_ctl" -D "$saved_state/data" -m fast -w -t 60 stop >&2 || true
  fi
}

# Removes the private directory "up" made (only one that still matches mktemp's pattern).
remove_pg_state() {
  [[ -f "$dir/pg/settings" ]] || return 0
  read_settings
  if [[ $saved_state != "$dir/pg" ]]; then rm -rf "$saved_state"; fi
}

cmd_up() {
  ensure_packages
  if [[ -f "$dir/env" || -f "$dir/pg/settings" ]]; then
    log "$dir holds services already; run down first"
    exit 1
  fi
  mkdir -p "$dir/pg" "$dir/redis"
  dir=$(cd "$dir" && pwd)
  local bin pg_port redis_port pg_password redis_password state
  bin=$(pg_bin)
  pg_port=$(free_port)
  redis_port=$(free_port)
  [[ "$redis_port" != "$pg_port" ]] || redis_port=$(free_port)
  pg_password=$(random_secret)
  redis_password=$(random_secret)
  # From here on a failure stops and removes whatever was started.
  trap 'rc=$?; if ((rc != 0)); then log "up failed; cleaning up"; cmd_down; fi' EXIT
  state=$(mktemp -d "$(pg_state_parent)/$PG_STATE_NAME")
  cat > "$dir/pg/settings" <<SETTINGS
PG_BIN=$bin
PG_PORT=$pg_port
PG_STATE=$state
SETTINGS
  mkdir "$state/data" "$state/sock"
  if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres:postgres "$state"
  fi
  if ! as_pg test -w "$state/data"; then
    echo "services.sh: the PostgreSQL owner ($(as_pg id -un)) cannot write to $state" >&2
    exit 1
  fi
  as_pg "$bin/initdb" -D "$state/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-instructions >/dev/null
  start_postgres
  as_pg "$bin/psql" -v ON_ERROR_STOP=1 -q -h "$state/sock" -p "$pg_port" -U postgres -d postgres \
    -c "CREATE ROLE stillontime LOGIN CREATEDB PASSWORD '${pg_password}'" \
    -c "CREATE DATABASE stillontime OWNER stillontime" >&2

  # A port free a moment ago can be taken by then (an outgoing connection's
  # local port, or another server started in between): try a few, and fail
  # loudly rather than hand the tests a Redis that is not there.
  local redis_up=0 attempt
  for attempt in 1 2 3 4 5; do
    rm -f "$dir/redis/redis.pid"
    redis-server --bind 127.0.0.1 --port "$redis_port" --requirepass "$redis_password" --save "" --appendonly no \
      --daemonize yes --pidfile "$dir/redis/redis.pid" --logfile "$dir/redis/redis.log" --dir "$dir/redis" >&2 || true
    for _ in $(seq 1 50); do
      if REDISCLI_AUTH="$redis_password" redis-cli -p "$redis_port" ping 2>/dev/null | grep -q PONG; then
        redis_up=1
        break
      fi
      sleep 0.1
    done
    ((redis_up)) && break
    log "redis did not answer on port $redis_port (attempt $attempt); trying another port"
    if [[ -f "$dir/redis/redis.pid" ]]; then kill "$(cat "$dir/redis/redis.pid")" 2>/dev/null || true; fi
    redis_port=$(free_port)
  done
  if ((!redis_up)); then
    tail -n 20 "$dir/redis/redis.log" >&2 || true
    echo "services.sh: redis-server did not start" >&2
    exit 1
  fi

  cat > "$dir/env" <<ENV
# Written by scripts/services.sh up; source it.
export DATABASE_URL='postgresql://stillontime:${pg_password}@127.0.0.1:${pg_port}/stillontime'
export PG_HOST=127.0.0.1
export PG_PORT=${pg_port}
export PG_USER=stillontime
export PG_PASSWORD='${pg_password}'
export PG_SOCKET_DIR='${state}/sock'
export PG_BIN='${bin}'
export REDIS_URL='redis://127.0.0.1:${redis_port}'
export REDIS_PORT=${redis_port}
export REDIS_PASSWORD='${redis_password}'
export STILLONTIME_SERVICES_DIR='${dir}'
ENV
  chmod 0644 "$dir/env"
  trap - EXIT
  log "postgres on 127.0.0.1:${pg_port} (files in $state), redis on 127.0.0.1:${redis_port}; env in $dir/env"
}

cmd_down() {
  [[ -d "$dir" ]] || return 0
  stop_postgres
  if [[ -f "$dir/redis/redis.pid" ]]; then
    local pid
    pid=$(cat "$dir/redis/redis.pid")
    if kill -0 "$pid" 2>/dev/null && grep -q redis-server "/proc/$pid/cmdline" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  remove_pg_state
  rm -rf "$dir/pg" "$dir/redis" "$dir/env"
  log "stopped services in $dir"
}

cmd_status() {
  local rc=0
  local state
  state=$(sed -n 's/^PG_STATE=//p' "$dir/pg/settings" 2>/dev/null || true)
  if [[ -n $state && -f "$state/data/postmaster.pid" ]]; then echo "postgres: running"; else echo "postgres: stopped"; rc=1; fi
  if [[ -f "$dir/redis/redis.pid" ]] && kill -0 "$(cat "$dir/redis/redis.pid")" 2>/dev/null; then echo "redis: running"; else echo "redis: stopped"; rc=1; fi
  return $rc
}

case "$command_name" in
  up) cmd_up ;;
  down) cmd_down ;;
  stop-postgres) stop_postgres ;;
  start-postgres) start_postgres ;;
  status) cmd_status ;;
  *) usage ;;
esac
