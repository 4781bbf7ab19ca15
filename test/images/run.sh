#!/usr/bin/env bash
# The images, run without a node (ctest label `images`): each container starts with the
# user, read-only root filesystem and writable mounts the operator renders for it, under
# Debian's podman (rootful, runc) on the project's image storage.
#   backend   no compiler, every shared library resolves, answers /health/live and /ready on
#             loopback against a real PostgreSQL and Redis (scripts/services.sh)
#   operator  no compiler, every shared library resolves, `version` runs as uid 65532
#   postgres  initdb on an empty PGDATA, password login over TCP (and a wrong password refused),
#             pg_isready as the probe runs it, data kept across a restart; the backup and
#             restore scripts run in the image against it
#   redis     the operator's args, PING only with the password, the probe's command, the
#             backup's Redis snapshot step run in the image
#   frontend  /healthz and the app on 8080 as uid 101 with a read-only root filesystem and only
#             /tmp writable; the JSON 503 with the backend down; no start without BACKEND_URL
#   exporters (when built) as sidecars beside postgres and redis: pg_up 1, redis_up 1
# Usage: test/images/run.sh [--no-build]   (by default runs scripts/images.sh build first:
# seconds when nothing changed). Needs root.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IMAGES=$ROOT/scripts/images.sh
TAG=${STILLONTIME_IMAGE_TAG:-1.4.2}
BACKEND=ghcr.io/ruvnet/stillontime/backend:$TAG
OPERATOR=ghcr.io/ruvnet/stillontime/operator:$TAG
FRONTEND=ghcr.io/ruvnet/stillontime/frontend:$TAG
POSTGRES=localhost/stillontime/postgres:15
REDIS=localhost/stillontime/redis:7
POSTGRES_EXPORTER=localhost/stillontime/postgres-exporter:0.11
REDIS_EXPORTER=localhost/stillontime/redis-exporter:1.45

failures=0
pass() { printf 'ok    %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; failures=$((failures + 1)); }
check() {
  local what=$1
  shift
  if "$@" >>"$LOG" 2>&1; then pass "$what"; else fail "$what (log: $LOG)"; fi
}
pod() { "$IMAGES" podman "$@"; }

[[ $(id -u) -eq 0 ]] || { echo "test/images: skipped: needs root" >&2; exit 77; }
for tool in buildah podman mmdebstrap nsenter curl psql redis-cli; do
  command -v "$tool" >/dev/null || { echo "test/images: skipped: $tool not installed" >&2; exit 77; }
done
if [[ ${1:-} != --no-build ]]; then "$IMAGES" build >&2; fi

WORK=$(mktemp -d /tmp/sot-images-test.XXXXXX)
LOG=$WORK/test.log
SVC=$WORK/services
RUN_ID=sot-test-$$
containers=()
remove_containers() {
  local i c
  # Newest first: a sidecar shares its database container's network namespace, and podman
  # removes that container only once the sidecar is gone.
  for ((i = ${#containers[@]} - 1; i >= 0; i--)); do
    c=${containers[$i]}
    if ((failures)); then
      { echo "--- logs of $c"; pod logs "$c" 2>&1 | tail -n 40; } >>"$LOG" 2>&1 || true
    fi
    pod rm -f -t 10 "$c" >/dev/null 2>&1 || true
  done
  containers=()
}
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() {
  remove_containers
  "$ROOT/scripts/services.sh" down --dir "$SVC" >/dev/null 2>&1 || true
  if ((failures == 0)); then rm -rf "$WORK"; fi
}
trap cleanup EXIT

# The restricted profile the operator renders: no capabilities, no privilege escalation,
# read-only root filesystem.
restricted=(--cap-drop ALL --security-opt no-new-privileges --read-only --read-only-tmpfs=false)

# An emptyDir as the kubelet makes one: a fresh node directory, mode 0777 (podman's tmpfs
# copies the image directory's owner and mode instead).
empty_dir() { # DEST -> "-v DIR:DEST"
  local d
  d=$(mktemp -d "$WORK/emptydir.XXXXXX")
  chmod 0777 "$d"
  printf '%s\n' -v "$d:$1"
}

start() { # NAME ARGS...: a detached container that is removed at the end
  local name=$RUN_ID-$1
  shift
  containers+=("$name")
  pod run -d --name "$name" "$@" >>"$LOG" 2>&1 || fail "$name did not start (log: $LOG)"
}

# Runs CMD in the network namespace of container NAME (from the host's own tools).
in_netns() {
  local name=$RUN_ID-$1 pid
  shift
  pid=$(pod inspect --format '{{.State.Pid}}' "$name")
  nsenter --net="/proc/$pid/ns/net" "$@"
}

wait_for() { # SECONDS CMD...
  local deadline=$((SECONDS + $1))
  shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

no_compiler() {
  local out
  # shellcheck disable=SC2016 # expanded by the image's shell
  out=$(pod run --rm --network none --entrypoint /bin/sh "$1" -c \
    'for c in gcc g++ cc c++ clang clang++ ld as; do command -v $c; done; echo end') || return 1
  echo "$out"
  [[ $out == end ]]
}
libraries_resolve() { # IMAGE BINARY
  local out
  out=$(pod run --rm --network none --entrypoint /usr/bin/ldd "$1" "$2") || return 1
  echo "$out"
  ! grep -q "not found" <<<"$out"
}

# ---------------------------------------------------------------------------- operator
check "operator: no compiler in the image" no_compiler "$OPERATOR"
check "operator: shared libraries resolve" libraries_resolve "$OPERATOR" /usr/local/bin/stillontime-operator
check "operator: version runs as 65532 on a read-only root" \
  pod run --rm "${restricted[@]}" --user 65532:65532 --network none "$OPERATOR" version

# ---------------------------------------------------------------------------- backend
check "backend: no compiler in the image" no_compiler "$BACKEND"
check "backend: shared libraries resolve" libraries_resolve "$BACKEND" /usr/local/bin/stillontime-server
"$ROOT/scripts/services.sh" up --dir "$SVC" >>"$LOG" 2>&1 || { fail "local PostgreSQL and Redis did not start"; exit 1; }
# shellcheck disable=SC1091
source "$SVC/env"
# development: staging and production also require the user's Secret (FRONTEND_URL,
# GOOGLE_CLIENT_ID, ...), which the image does not change.
api_port=$(free_port)
metrics_port=$(free_port)
mapfile -t tmp_dir < <(empty_dir /tmp)
start backend "${restricted[@]}" --user 10001:10001 --network host "${tmp_dir[@]}" \
  -e PORT="$api_port" -e METRICS_PORT="$metrics_port" -e APP_ENV=development \
  -e DATABASE_URL="$DATABASE_URL" -e REDIS_URL="$REDIS_URL" -e REDIS_PASSWORD="$REDIS_PASSWORD" \
  -e JWT_SECRET="$(head -c 32 /dev/urandom | base64)" "$BACKEND"
check "backend: /health/live answers on loopback" wait_for 60 curl -fsS "http://127.0.0.1:$api_port/health/live"
check "backend: /ready answers (migrations applied, database and redis reachable)" \
  wait_for 60 curl -fsS "http://127.0.0.1:$api_port/ready"
check "backend: /metrics on METRICS_PORT" curl -fsS -o /dev/null "http://127.0.0.1:$metrics_port/metrics"

# ---------------------------------------------------------------------------- postgres
pg_secret="pw-$(head -c 12 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')"
data=$WORK/pgdata backups=$WORK/backups
# What a volume with fsGroup 999 looks like: root-owned, group 999, setgid, group-writable.
mkdir -p "$data" "$backups"
chown root:999 "$data" "$backups"
chmod 2775 "$data" "$backups"
mapfile -t pg_run < <(empty_dir /var/run/postgresql)
mapfile -t pg_tmp < <(empty_dir /tmp)
pg_args=("${restricted[@]}" --user 999:999 --group-add 999 --network none
  "${pg_run[@]}" "${pg_tmp[@]}" -v "$data:/var/lib/postgresql/data"
  -e POSTGRES_USER=stillontime -e POSTGRES_PASSWORD="$pg_secret" -e POSTGRES_DB=stillontime
  -e PGDATA=/var/lib/postgresql/data/pgdata)
start postgres "${pg_args[@]}" "$POSTGRES"
probe_pg() { pod exec "$RUN_ID-postgres" pg_isready -U stillontime -d stillontime -h 127.0.0.1 -p 5432; }
check "postgres: initialises and pg_isready (the probe) passes" wait_for 90 probe_pg
psql_tcp() { # PASSWORD SQL
  in_netns postgres env PGPASSWORD="$1" psql -X -At -h 127.0.0.1 -U stillontime -d stillontime -c "$2"
}
check "postgres: password login over TCP" psql_tcp "$pg_secret" "CREATE TABLE t (v text); INSERT INTO t VALUES ('kept')"
wrong_password_refused() {
  local out
  if out=$(psql_tcp wrong "SELECT 1" 2>&1); then return 1; fi
  echo "$out"
  grep -q "password authentication failed" <<<"$out"
}
check "postgres: a wrong password is refused" wrong_password_refused
check "postgres: PGDATA is 0700 and owned by 999" \
  bash -c "[[ \$(stat -c '%a %u' '$data/pgdata') == '700 999' ]]"
backup_env=(-e BACKUP_DIR=/backups -e TMPDIR=/tmp -e HOME=/tmp -e PGHOST=127.0.0.1 -e PGPORT=5432
  -e PGUSER=stillontime -e PGPASSWORD="$pg_secret" -e PGDATABASE=stillontime)
mapfile -t backup_tmp < <(empty_dir /tmp)
backup_mounts=(-v "$ROOT/scripts/backup:/scripts:ro" -v "$backups:/backups" "${backup_tmp[@]}")
check "postgres image: the backup script dumps the database" \
  pod run --rm "${restricted[@]}" --user 999:999 --group-add 999 --network "container:$RUN_ID-postgres" \
  "${backup_mounts[@]}" "${backup_env[@]}" --entrypoint bash "$POSTGRES" /scripts/backup.sh
check "postgres image: the restore script restores the latest dump" \
  pod run --rm "${restricted[@]}" --user 999:999 --group-add 999 --network "container:$RUN_ID-postgres" \
  "${backup_mounts[@]}" "${backup_env[@]}" --entrypoint bash "$POSTGRES" /scripts/restore.sh latest
check "postgres: stops on SIGINT within the grace period" pod stop -t 30 "$RUN_ID-postgres"
pod rm -f "$RUN_ID-postgres" >>"$LOG" 2>&1
start postgres "${pg_args[@]}" "$POSTGRES"
check "postgres: restarts on the same data without initialising again" wait_for 60 probe_pg
data_kept() { [[ $(psql_tcp "$pg_secret" "SELECT v FROM t") == kept ]]; }
check "postgres: data kept across the restart" data_kept
no_second_initdb() { ! pod logs "$RUN_ID-postgres" 2>&1 | grep -q 'initialising a new database cluster'; }
check "postgres: no second initdb on restart" no_second_initdb
# The monitoring sidecar as rendered, when its image is built: same pod (network namespace),
# uid 999, read-only root.
metric_is() { # CONTAINER URL LINE: the exporter's page holds LINE
  local page
  page=$(in_netns "$1" curl -fsS "$2") || return 1
  grep -qx "$3" <<<"$page"
}
if pod image exists "$POSTGRES_EXPORTER"; then
  start postgres-exporter "${restricted[@]}" --user 999:999 --network "container:$RUN_ID-postgres" \
    -e DATA_SOURCE_URI="127.0.0.1:5432/stillontime?sslmode=disable" -e DATA_SOURCE_USER=stillontime \
    -e DATA_SOURCE_PASS="$pg_secret" "$POSTGRES_EXPORTER"
  pg_up() { metric_is postgres http://127.0.0.1:9187/metrics 'pg_up 1'; }
  check "postgres-exporter: pg_up 1 on :9187 as uid 999" wait_for 30 pg_up
else
  echo "skip  postgres-exporter: $POSTGRES_EXPORTER not built"
fi

# ---------------------------------------------------------------------------- redis
redis_secret="pw-$(head -c 12 /dev/urandom | base64 | tr -dc 'a-zA-Z0-9')"
rdata=$WORK/redis
mkdir -p "$rdata"
chown root:999 "$rdata"
chmod 2775 "$rdata"
# The args exactly as rendered, with $(REDIS_PASSWORD) expanded as the kubelet does.
mapfile -t redis_tmp < <(empty_dir /tmp)
start redis "${restricted[@]}" --user 999:999 --group-add 999 --network none "${redis_tmp[@]}" \
  -v "$rdata:/data" -e REDIS_PASSWORD="$redis_secret" \
  "$REDIS" redis-server --requirepass "$redis_secret" --appendonly yes --dir /data
probe_redis() {
  # shellcheck disable=SC2016 # the probe's command, expanded in the container
  pod exec "$RUN_ID-redis" sh -c 'REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -h 127.0.0.1 ping | grep -q PONG'
}
check "redis: the readiness probe's command passes" wait_for 30 probe_redis
ping_with_password() { [[ $(in_netns redis env REDISCLI_AUTH="$redis_secret" redis-cli -h 127.0.0.1 ping) == PONG ]]; }
ping_without_password() { [[ $(in_netns redis redis-cli -h 127.0.0.1 ping 2>&1) == *NOAUTH* ]]; }
check "redis: PING with the password" ping_with_password
check "redis: PING without the password is refused" ping_without_password
check "redis: append-only file written to /data" wait_for 10 test -d "$rdata/appendonlydir"
check "redis image: the backup script's snapshot step" \
  pod run --rm "${restricted[@]}" --user 999:999 --group-add 999 --network "container:$RUN_ID-redis" \
  "${backup_mounts[@]}" -e BACKUP_DIR=/backups -e TMPDIR=/tmp -e HOME=/tmp -e REDIS_HOST=127.0.0.1 \
  -e REDIS_PORT=6379 -e REDIS_PASSWORD="$redis_secret" --entrypoint bash "$REDIS" /scripts/backup.sh redis

if pod image exists "$REDIS_EXPORTER"; then
  start redis-exporter "${restricted[@]}" --user 999:999 --network "container:$RUN_ID-redis" \
    -e REDIS_ADDR=redis://127.0.0.1:6379 -e REDIS_PASSWORD="$redis_secret" "$REDIS_EXPORTER"
  redis_up() { metric_is redis http://127.0.0.1:9121/metrics 'redis_up 1'; }
  check "redis-exporter: redis_up 1 on :9121 as uid 999" wait_for 30 redis_up
else
  echo "skip  redis-exporter: $REDIS_EXPORTER not built"
fi

# ---------------------------------------------------------------------------- frontend
# app/web's image (docs/frontend.md): /tmp is its only writable mount; BACKEND_URL as the
# operator renders it, here an address with nothing behind it (nginx resolves the name at start).
mapfile -t fe_tmp < <(empty_dir /tmp)
start frontend "${restricted[@]}" --user 101:101 --network none "${fe_tmp[@]}" \
  -e BACKEND_URL=http://127.0.0.1:3000 -e NGINX_LISTEN=8080 -e NGINX_RUNTIME_DIR=/tmp/nginx "$FRONTEND"
check "frontend: /healthz answers on 8080 as uid 101 with a read-only root" \
  wait_for 30 in_netns frontend curl -fsS -o /dev/null http://127.0.0.1:8080/healthz
serves_app() { in_netns frontend curl -fsS http://127.0.0.1:8080/some/client/route | grep -q '<div id="app">'; }
check "frontend: serves the app, client-side routes included" serves_app
backend_down_envelope() {
  local out
  out=$(in_netns frontend curl -sS -w ' %{http_code}' http://127.0.0.1:8080/api/auth/status) || return 1
  echo "$out"
  [[ $out == *'"error":"service_unavailable"'*' 503' ]]
}
check "frontend: /api/ with the backend down answers the JSON 503 envelope" backend_down_envelope
refuses_without_backend() {
  local status=0
  pod run --rm "${restricted[@]}" --user 101:101 --network none "${fe_tmp[@]}" "$FRONTEND" || status=$?
  [[ $status == 2 ]]
}
check "frontend: refuses to start without BACKEND_URL (exit 2)" refuses_without_backend
nginx_user() {
  local pid uids
  pid=$(pod inspect --format '{{.State.Pid}}' "$RUN_ID-frontend")
  uids=$( (echo "$pid"; pgrep -P "$pid") | while read -r p; do stat -c %u "/proc/$p"; done | sort -u)
  [[ $uids == 101 ]]
}
check "frontend: every nginx process runs as 101" nginx_user

remove_containers
no_leftovers() { [[ -z $(pod ps -a -q --filter "name=^$RUN_ID-") ]]; }
check "every test container removed" no_leftovers

if ((failures)); then
  echo "test/images: $failures check(s) failed; logs and data kept in $WORK"
  exit 1
fi
echo "test/images: all checks passed"
