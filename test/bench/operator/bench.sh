#!/usr/bin/env bash
# Operator benchmark against a real kube-apiserver on loopback (not part of
# the timed test suite):
#   1. N StillOnTime resources rendered and applied by `kubectl apply
#      --server-side` (one object at a time), timed;
#   2. the same N resources created for the operator, timed until every one
#      reports its children applied (status Reconciling=WaitingForComponents),
#      and the children counted to check;
#   3. at rest for WINDOW seconds: write requests (rest_client_requests_total
#      delta), CPU and resident memory of the operator;
#   4. a forced resync of every resource (operator restart with warm objects):
#      write requests again.
# With --one-namespace the N resources (app-1 ... app-N) share one namespace
# (bench-k for kubectl, bench-o for the operator) instead of one each.
# Usage: test/bench/operator/bench.sh [--count N] [--window SECONDS] [--build DIR] [--one-namespace]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
count=100
window=60
build=$root/build
one_namespace=0
while (($#)); do
  case $1 in
    --count) count=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --one-namespace) one_namespace=1; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
operator=$build/bin/stillontime-operator
[[ -x $operator ]] || { echo "build first: $operator" >&2; exit 1; }

dir=$(mktemp -d /tmp/sot-bench-XXXXXX)
cp_dir=$dir/cp
op_pid=""
cleanup() {
  [[ -n $op_pid ]] && kill "$op_pid" 2>/dev/null && wait "$op_pid" 2>/dev/null
  "$root/scripts/control-plane.sh" down --dir "$cp_dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

"$root/scripts/control-plane.sh" up --dir "$cp_dir" --controllers >/dev/null
export KUBECONFIG=$cp_dir/kubeconfig
kubectl apply --server-side -f "$root/crds/stillontime.app_stillontimes.yaml" >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/stillontimes.stillontime.app >/dev/null

resource() { # namespace name
  cat <<YAML
apiVersion: stillontime.app/v1alpha1
kind: StillOnTime
metadata:
  name: $2
  namespace: $1
spec:
  environment: development
  version: "1.0.0"
YAML
}

# Where resource i of a run goes: "NAMESPACE NAME" (prefix bench-k or bench-o).
place() { # prefix i
  if ((one_namespace)); then echo "$1 app-$2"; else echo "$1-$2 app"; fi
}
namespaces() { # prefix: every namespace the run uses
  if ((one_namespace)); then echo "$1"; else seq -f "$1-%0${#count}g" 1 "$count"; fi
}

# ---- 1. kubectl apply --server-side of the rendered children
: >"$dir/kubectl.yaml"
for ns in $(namespaces bench-k); do kubectl create namespace "$ns" >/dev/null; done
for i in $(seq -w 1 "$count"); do
  read -r ns name <<<"$(place bench-k "$i")"
  resource "$ns" "$name" >"$dir/cr.yaml"
  "$operator" render -f "$dir/cr.yaml" --api-versions 1.20 >>"$dir/kubectl.yaml"
  echo "---" >>"$dir/kubectl.yaml"
done
objects=$(grep -c '^kind:' "$dir/kubectl.yaml")
t0=$(now)
kubectl apply --server-side --force-conflicts -f "$dir/kubectl.yaml" >/dev/null
t1=$(now)
kubectl_time=$(elapsed "$t0" "$t1")
echo "kubectl apply --server-side: $objects objects for $count resources in ${kubectl_time}s"

# The operator's informers select on the managed-by label, which kubectl's
# copies carry too: remove them first, so the operator caches 100 resources and
# their children, not twice that, and the API server has finished deleting.
t_del=$(now)
mapfile -t kubectl_namespaces < <(namespaces bench-k)
kubectl delete namespace "${kubectl_namespaces[@]}" --wait=true --timeout=300s >/dev/null
echo "kubectl's copies deleted in $(elapsed "$t_del" "$(now)")s"
# The garbage collector and etcd go on working after the namespaces are gone;
# start the operator's clock only once the machine is quiet again (at least
# 80 % idle over a second, for at most 60 s), as it was for kubectl.
idle_percent() {
  local a b
  a=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat)
  awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%d", 100 * (y[1] - x[1]) / (y[2] - x[2]) }'
}
for _ in $(seq 1 60); do (($(idle_percent) >= 80)) && break; done

# ---- 2. the operator
for ns in $(namespaces bench-o); do kubectl create namespace "$ns" >/dev/null; done
"$operator" run --kubeconfig "$KUBECONFIG" --metrics-bind-address 127.0.0.1:0 \
  --health-probe-bind-address 127.0.0.1:0 ${MAX_CONCURRENT:+--max-concurrent-reconciles "$MAX_CONCURRENT"} \
  >"${BENCH_LOG_DIR:-$dir}/operator.log" 2>&1 &
op_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*"msg":"serving metrics","port":\([0-9]*\).*/\1/p' "${BENCH_LOG_DIR:-$dir}/operator.log" | head -1)
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n $port ]] || { echo "operator did not start" >&2; cat "${BENCH_LOG_DIR:-$dir}/operator.log" >&2; exit 1; }
writes() {
  curl -fsS "http://127.0.0.1:$port/metrics" |
    awk '/^rest_client_requests_total/ && /method="(POST|PUT|PATCH|DELETE)"/ { s += $NF } END { printf "%d", s }'
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$op_pid/stat"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$op_pid/status"; }

for i in $(seq -w 1 "$count"); do
  read -r ns name <<<"$(place bench-o "$i")"
  resource "$ns" "$name"
  echo "---"
done >"$dir/crs.yaml"
idle_ticks() { awk '/^cpu / { print $5 + $6 }' /proc/stat; }
burst_c0=$(cpu_ticks)
burst_i0=$(idle_ticks)
burst_w0=$(writes)
t0=$(now)
kubectl create -f "$dir/crs.yaml" >/dev/null
# Polled with curl, not kubectl: a kubectl process costs the shared cores
# about a tenth of a second of CPU, five times a second.
server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
while :; do
  done_count=$(curl -fsS --cacert "$cp_dir/ca.crt" --cert "$cp_dir/admin.crt" --key "$cp_dir/admin.key" \
    "$server/apis/stillontime.app/v1alpha1/stillontimes" | grep -o '"reason":"WaitingForComponents"' | wc -l)
  ((done_count >= count)) && break
  sleep 0.2
done
t1=$(now)
burst_idle=$(awk -v t=$(($(idle_ticks) - burst_i0)) -v hz="$(getconf CLK_TCK)" -v n="$(nproc)" -v a="$t0" -v b="$t1" \
  'BEGIN { printf "%.0f", 100 * t / hz / n / (b - a) }')
operator_time=$(elapsed "$t0" "$t1")
children=0
for kind in deployments statefulsets services secrets networkpolicies persistentvolumeclaims serviceaccounts roles rolebindings; do
  n=$(kubectl get "$kind" -A -l app.kubernetes.io/managed-by=stillontime-operator --no-headers 2>/dev/null | grep -c '^bench-o' || true)
  children=$((children + n))
done
ratio=$(awk -v a="$operator_time" -v b="$kubectl_time" 'BEGIN { printf "%.2f", a / b }')
burst_cpu=$(awk -v t=$(($(cpu_ticks) - burst_c0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')
reconciles() {
  curl -fsS "http://127.0.0.1:$port/metrics" |
    awk '/^controller_runtime_reconcile_total/ { s += $NF } END { printf "%d", s }'
}
echo "operator: $count resources reconciled (${children} children counted) in ${operator_time}s: ${ratio}x kubectl" \
  "($(($(writes) - burst_w0)) write requests, $(reconciles) reconciles, ${burst_cpu}s of operator CPU, machine ${burst_idle}% idle)"

# ---- 3. at rest
sleep 5
w0=$(writes)
c0=$(cpu_ticks)
sleep "$window"
w1=$(writes)
c1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
cpu=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v w="$window" 'BEGIN { printf "%.2f", 100 * t / hz / w }')
echo "at rest for ${window}s: $((w1 - w0)) write requests, ${cpu}% CPU, RSS $(($(rss_kib) / 1024)) MiB"

# ---- 4. a resync of every resource: restart the operator over the same objects
kill "$op_pid"; wait "$op_pid" 2>/dev/null || true
"$operator" run --kubeconfig "$KUBECONFIG" --metrics-bind-address 127.0.0.1:0 \
  --health-probe-bind-address 127.0.0.1:0 >"$dir/operator2.log" 2>&1 &
op_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*"msg":"serving metrics","port":\([0-9]*\).*/\1/p' "$dir/operator2.log" | head -1)
  [[ -n $port ]] && break
  sleep 0.1
done
sleep 15
echo "restart (every resource reconciled again from warm caches): $(writes) write requests in 15s, RSS $(($(rss_kib) / 1024)) MiB"
