#!/usr/bin/env bash
# Benchmark of stillontime-server with wrk (Debian's wrk 4.1), server and load on this machine,
# loopback only, every run bounded in time. Prints a Markdown block for docs/benchmarks.md.
#
#   test/bench/app/run.sh [--server PATH] [--duration SECONDS]
#
# Runs: GET /health at -t2 -c64; authenticated, cached GET /api/schedules at -t2 -c64; the same
# request paced to about 2,000 requests/s (wrk's delay() hook) for p99; memory at rest and peak.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
server="$root/build/bin/stillontime-server"
duration=10
while [[ $# -gt 0 ]]; do
  case "$1" in
    --server) server=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -x "$server" ]] || { echo "no server binary at $server (build first)" >&2; exit 1; }
command -v wrk >/dev/null || apt-get install -y wrk >&2
(( duration > 0 && duration <= 60 )) || { echo "--duration must be 1..60" >&2; exit 2; }

work=$(mktemp -d /tmp/sot-bench.XXXXXX)
chmod 0755 "$work"  # PostgreSQL runs as the postgres user and must reach its data directory
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  "$root/scripts/services.sh" down --dir "$work/services" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

"$root/scripts/services.sh" up --dir "$work/services" 2>/dev/null
# shellcheck disable=SC1091
source "$work/services/env"

free_port() {
  local p
  while :; do
    p=$(( (RANDOM % 20000) + 20000 ))
    ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
}
port=$(free_port)
metrics_port=$(free_port)
jwt_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
PORT=$port METRICS_PORT=$metrics_port BIND_ADDRESS=127.0.0.1 JWT_SECRET=$jwt_secret \
  RATE_LIMIT_MAX=100000000 LOG_LEVEL=warn "$server" > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$port/ready" >/dev/null || { cat "$work/server.log" >&2; exit 1; }

# A user straight in the database and an access token signed with the server's secret
# (the OAuth flow needs a provider; the benchmark measures the API, not the login).
user_id=$(PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U stillontime -d stillontime -tAq \
  -c "INSERT INTO users (email, name) VALUES ('bench@example.com', 'Bench') RETURNING id")
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
payload=$(printf '{"sub":"%s","email":"bench@example.com","role":"crew","jti":"bench-%s","iat":%d,"exp":%d,"iss":"stillontime","aud":"stillontime-api","typ":"access"}' \
  "$user_id" "$now" "$now" "$((now + 3600))" | b64url)
signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$jwt_secret" -binary | b64url)
token="$header.$payload.$signature"
for day in 01 02 03 04 05 06 07 08 09 10; do
  curl -sf -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"shootingDate\":\"2030-06-$day\",\"callTime\":\"06:30\",\"location\":\"Set $day\",\"scenes\":[\"1\",\"2\"]}" \
    "http://127.0.0.1:$port/api/schedules"
done
curl -sf -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/schedules"

rss_kib() { awk "/^$1:/ {print \$2}" "/proc/$server_pid/status"; }
# Other work on these two cores (a build, a test suite) moves the tail latencies by a factor of
# five or more; the load average goes into the report so a run under load is recognisable.
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rest=$(rss_kib VmRSS)

cat > "$work/auth.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
LUA
cat > "$work/paced.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
-- 64 connections, each waiting 32 ms between requests: about 2,000 requests/s in total.
function delay() return 32 end
LUA

run() {
  echo "\$ $*" >> "$work/commands"
  "$@" | tee -a "$work/wrk.txt"
}
run wrk -t2 -c64 -d"${duration}s" --latency "http://127.0.0.1:$port/health" > "$work/health.txt"
run wrk -t2 -c64 -d"${duration}s" --latency -s "$work/auth.lua" "http://127.0.0.1:$port/api/schedules" > "$work/schedules.txt"
run wrk -t2 -c64 -d"${duration}s" --latency -s "$work/paced.lua" "http://127.0.0.1:$port/api/schedules" > "$work/paced.txt"
peak=$(rss_kib VmHWM)
grep -h '"level":"error"' "$work/server.log" | head -3 >&2 || true
errors=$(curl -s "http://127.0.0.1:$metrics_port/metrics" | awk '/^http_requests_total/ && /status="5/ {s+=$2} END {print s+0}')

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }
cat <<MD
Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(uname -r); wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'); server and wrk on the same 2 cores, loopback.
Server: \`$(basename "$server")\` with RATE_LIMIT_MAX=100000000 LOG_LEVEL=warn, defaults otherwise (HTTP_THREADS=2, HTTP_WORKERS=${HTTP_WORKERS:-6}, DB_POOL_SIZE=10, REDIS_POOL_SIZE=16); PostgreSQL 15 and Redis 7 from scripts/services.sh on the same machine.

| run | command | requests/s | p50 | p99 |
|---|---|---|---|---|
| GET /health | \`wrk -t2 -c64 -d${duration}s --latency /health\` | $(rps "$work/health.txt") | $(pct "$work/health.txt" 50%) | $(pct "$work/health.txt" 99%) |
| GET /api/schedules (bearer, cached) | \`wrk -t2 -c64 -d${duration}s --latency -s auth.lua /api/schedules\` | $(rps "$work/schedules.txt") | $(pct "$work/schedules.txt" 50%) | $(pct "$work/schedules.txt" 99%) |
| same, paced to ~2,000/s | \`wrk -t2 -c64 -d${duration}s --latency -s paced.lua /api/schedules\` (delay 32 ms per connection) | $(rps "$work/paced.txt") | $(pct "$work/paced.txt" 50%) | $(pct "$work/paced.txt" 99%) |

Load average before the runs (1/5/15 min): ${load_before}.
Memory (VmRSS of the server): $((rest / 1024)) MiB at rest after start-up; peak (VmHWM) after the three runs: $((peak / 1024)) MiB. 5xx responses during the runs: ${errors}.
MD
