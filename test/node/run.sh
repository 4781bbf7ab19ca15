#!/usr/bin/env bash
# What a user sees, shown on a real one-node cluster (scripts/node.sh): our
# images built from our Dockerfiles, the operator running as two pods from the
# install manifests, and a StillOnTime resource that comes up for real.
#
#   test/node/run.sh [--keep]      (root; ctest -L node runs it through scripts/as-root.sh)
#
# Checks, in order (each prints PASS/FAIL; the first FAIL stops the run):
#   operator   the operator's Deployment from manifests/overlays/kubernetes-1.20
#              (restricted pods, read-only root, probes) gets two Ready pods and
#              one leader
#   ready      examples/staging.yaml becomes Ready=True (kubectl wait); the
#              backend answers /health through its Service, ran its migrations
#              against the Postgres pod and reaches Redis with the generated
#              password (/ready); the frontend serves its page through its Service
#   heal       a deleted backend pod and a deleted child Service come back
#   backup     an on-demand backup runs as a pod, writes a dump and a Redis
#              snapshot to the backups volume, status.backup reports it
#   restore    after rows are changed, a restore from that dump brings back
#              every row (counted and compared)
#   bootstrap  a new resource bootstrapped from the dump has the same rows
#   retention  old dumps are deleted by the next run
#   rollout    a spec.version change rolls backend and frontend while a client
#              polls /health through the Service: no failed request
#   handover   deleting the leader pod hands the Lease over within its timings
#   production examples/production.yaml (3 backend replicas, HPAs, PDBs)
#              becomes Ready
#   monitoring with spec.monitoring.embedded the exporter sidecars, the
#              backend's metrics and Alertmanager answer through their Services
#              (Debian's Prometheus lacks Kubernetes discovery and Grafana has
#              no Debian package, so those two do not run here)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
# shellcheck source=test/node/lib.sh
. test/node/lib.sh

keep=0
[[ ${1:-} == --keep ]] && keep=1
node_dir=${STILLONTIME_NODE_DIR:-/var/lib/stillontime/node}
node_started=0
ns=stillontime-staging
version=$(sed -n 's/^  version: "\(.*\)"$/\1/p' examples/staging.yaml)
operator_tag=$(sed -n 's/^  newTag: //p' manifests/default/kustomization.yaml)
next_version=$version-next

finish() {
  local rc=$?
  if ((rc != 0)); then
    echo "---- operator logs (last 40 lines)" >&2
    kubectl -n stillontime-system logs -l app.kubernetes.io/name=stillontime-operator --tail=40 2>/dev/null >&2 || true
  fi
  if ((!node_started)); then
    : # the node did not start (another checkout's may run): nothing of ours to stop
  elif ((keep)); then
    echo "node left running: export KUBECONFIG=$KUBECONFIG; stop: scripts/node.sh down --dir $node_dir"
  else
    scripts/node.sh down --dir "$node_dir" >/dev/null 2>&1 || true
  fi
  exit "$rc"
}

# resource_from FILE NAMESPACE [EXTRA-PY]: the example in NAMESPACE with the
# locally built data and monitoring images (and EXTRA-PY applied to `doc`).
resource_from() { python3 scripts/node/local-resource.py "$1" "$2" "${3:-}"; }

external_secret() {
  kubectl create namespace "$1" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl -n "$1" create secret generic stillontime-external \
    --from-literal=GOOGLE_CLIENT_ID=node-test-client-id --from-literal=GOOGLE_CLIENT_SECRET=node-test-not-a-secret \
    --dry-run=client -o yaml | kubectl apply -f - >/dev/null
}

step "node and images"
scripts/images.sh build --tag "$version" --tag "$next_version" --tag "$operator_tag"
trap finish EXIT
scripts/node.sh up --dir "$node_dir"
node_started=1
set -a
# shellcheck disable=SC1091 # written by node.sh up
. "$node_dir/env"
set +a
scripts/images.sh import --address "$CONTAINERD_ADDRESS"
pass "node $NODE_NAME Ready, images imported"

# ---------------------------------------------------------------- operator
step "operator"
kubectl apply --server-side -k manifests/overlays/kubernetes-1.20 >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/stillontimes.stillontime.app >/dev/null
kubectl -n stillontime-system rollout status deployment/stillontime-operator --timeout=180s >/dev/null ||
  fail "operator Deployment did not roll out"
ready=$(kubectl -n stillontime-system get deployment stillontime-operator -o jsonpath='{.status.readyReplicas}')
[[ $ready == 2 ]] || fail "operator: $ready of 2 replicas Ready"
leader() { kubectl -n stillontime-system get lease stillontime-operator -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
retry 60 "a leader holds the Lease" test -n "$(leader)"
pass "operator: 2 pods Ready (restricted, read-only root), leader $(leader)"

# ---------------------------------------------------------------- ready
step "ready"
external_secret "$ns"
resource_from examples/staging.yaml "$ns" | kubectl apply -f - >/dev/null
wait_ready "$ns" stillontime 300
pass "staging: kubectl wait --for=condition=Ready succeeded"
backend_ip=$(svc_ip "$ns" stillontime-backend)
frontend_ip=$(svc_ip "$ns" stillontime-frontend)
health=$(curl -fsS --max-time 5 "http://$backend_ip:3000/health") || fail "backend /health through the Service"
pass "backend /health through the Service: $health"
curl -fsS --max-time 5 "http://$backend_ip:3000/ready" >/dev/null || fail "backend /ready (database and redis) through the Service"
pass "backend /ready: database and Redis reachable with the generated credentials"
pg_pod=stillontime-postgres-0
tables=$(psql_in "$ns" "$pg_pod" "select count(*) from information_schema.tables where table_schema = 'public'")
((tables > 0)) || fail "no tables in the database: migrations did not run"
pass "migrations ran against the Postgres pod: $tables tables"
page=$(curl -fsS --max-time 5 "http://$frontend_ip:8080/") || fail "frontend page through the Service"
grep -qi '<html' <<<"$page" || fail "frontend answered without an HTML page"
pass "frontend serves its page through the Service"

# ---------------------------------------------------------------- heal
step "heal"
old_pod=$(kubectl -n "$ns" get pods -l app.kubernetes.io/component=backend -o jsonpath='{.items[0].metadata.name}')
kubectl -n "$ns" delete pod "$old_pod" --wait=false >/dev/null
kubectl -n "$ns" delete service stillontime-frontend >/dev/null
retry 60 "the frontend Service comes back" kubectl -n "$ns" get service stillontime-frontend
retry 120 "the backend is back to full strength" bash -c "
  [[ \$(kubectl -n $ns get deployment stillontime-backend -o jsonpath='{.status.readyReplicas}') == \
     \$(kubectl -n $ns get deployment stillontime-backend -o jsonpath='{.spec.replicas}') ]] &&
  ! kubectl -n $ns get pod $old_pod"
wait_ready "$ns" stillontime 120
frontend_ip=$(svc_ip "$ns" stillontime-frontend)
curl -fsS --max-time 5 "http://$frontend_ip:8080/" >/dev/null || fail "frontend after its Service was recreated"
pass "deleted backend pod replaced, deleted frontend Service recreated, Ready again"

# ---------------------------------------------------------------- data
# A fingerprint of the application's data: rows and a digest of their content.
fingerprint() {
  psql_in "$ns" "$pg_pod" "select (select count(*) from users) || ' users, ' || (select count(*) from schedules) || ' schedules, ' ||
    (select md5(coalesce(string_agg(u::text, '|' order by id), '')) from users u) ||
    (select md5(coalesce(string_agg(s::text, '|' order by id), '')) from schedules s)"
}
psql_in "$ns" "$pg_pod" "insert into users (email, name) select 'crew' || i || '@node.test', 'Crew ' || i from generate_series(1, 200) i;
  insert into schedules (user_id, shooting_date, call_time, title, location)
  select u.id, date '2027-01-01' + (g % 300), time '06:00' + (g % 60) * interval '1 minute', 'Day ' || g, 'Stage ' || (g % 7)
  from users u cross join generate_series(1, 10) g" >/dev/null
before=$(fingerprint)
pass "data written: ${before%% users*} users and more ($before)"

# ---------------------------------------------------------------- backup
step "backup"
volume_of() { # NAMESPACE PVC -> the directory behind it on this node
  local pv
  pv=$(kubectl -n "$1" get pvc "$2" -o jsonpath='{.spec.volumeName}')
  kubectl get pv "$pv" -o jsonpath='{.spec.local.path}'
}
backup_now() { # ID: annotate and wait for Succeeded
  kubectl -n "$ns" annotate stillontime stillontime --overwrite "stillontime.app/backup-request=$1" >/dev/null
  local phase="" i
  for ((i = 0; i < 240; i++)); do
    phase=$(kubectl -n "$ns" get stillontime stillontime -o jsonpath='{.status.backup.lastRequest.id}/{.status.backup.lastRequest.phase}')
    [[ $phase == "$1/Succeeded" ]] && return 0
    [[ $phase == "$1/Failed" ]] && break
    sleep 1
  done
  kubectl -n "$ns" get jobs,pods >&2
  kubectl -n "$ns" logs -l job-name --all-containers --tail=20 >&2 2>/dev/null || true
  fail "backup $1: $phase"
}
backup_now node-first
backups=$(volume_of "$ns" stillontime-backups)
dump=$(kubectl -n "$ns" get stillontime stillontime -o jsonpath='{.status.backup.lastBackup}')
[[ -n $dump && -s $backups/$dump ]] || fail "status.backup.lastBackup '$dump' is not a file on the backups volume ($(ls "$backups"))"
ls "$backups"/*.rdb >/dev/null 2>&1 || fail "no Redis snapshot on the backups volume: $(ls "$backups")"
last_ok=$(kubectl -n "$ns" get stillontime stillontime -o jsonpath='{.status.backup.lastSuccessfulTime}')
[[ -n $last_ok ]] || fail "status.backup.lastSuccessfulTime not set"
pass "on-demand backup ran as a pod: $dump ($(stat -c %s "$backups/$dump") bytes) and a Redis snapshot; lastSuccessfulTime $last_ok"

# ---------------------------------------------------------------- restore
step "restore"
psql_in "$ns" "$pg_pod" "delete from schedules where title like 'Day 1%'; update users set name = 'changed' where email like 'crew1%'" >/dev/null
changed=$(fingerprint)
[[ $changed != "$before" ]] || fail "the change did not change the data"
kubectl -n "$ns" patch stillontime stillontime --type merge -p "{\"spec\":{\"restore\":{\"from\":\"$dump\",\"id\":\"node-restore-1\"}}}" >/dev/null
retry 300 "the restore succeeds" bash -c "[[ \$(kubectl -n $ns get stillontime stillontime -o jsonpath='{.status.restore.phase}') == Succeeded ]]"
wait_ready "$ns" stillontime 180
after=$(fingerprint)
[[ $after == "$before" ]] || fail "restored data differs: before '$before', after '$after'"
pass "restore brought back every row: $after"

# ---------------------------------------------------------------- bootstrap
step "bootstrap"
ns2=stillontime-bootstrap
external_secret "$ns2"
kubectl -n "$ns2" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: stillontime-backups}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
YAML
retry 60 "the new backups claim is bound" bash -c "[[ \$(kubectl -n $ns2 get pvc stillontime-backups -o jsonpath='{.status.phase}') == Bound ]]"
cp -p "$backups/$dump" "$(volume_of "$ns2" stillontime-backups)/"
resource_from examples/development.yaml "$ns2" 'doc["spec"]["postgres"]["bootstrap"] = {"fromBackup": "latest"}; doc["metadata"]["name"] = "stillontime"' |
  kubectl apply -f - >/dev/null
wait_ready "$ns2" stillontime 300
boot=$(ns=$ns2 fingerprint)
[[ $boot == "$before" ]] || fail "bootstrapped data differs: '$boot' vs '$before'"
kubectl delete namespace "$ns2" --wait=false >/dev/null
pass "a new resource bootstrapped from the dump has every row: $boot"

# ---------------------------------------------------------------- retention
step "retention"
old=stillontime-20200101T020000Z.dump
cp -p "$backups/$dump" "$backups/$old"
touch -d '2020-01-01 02:00:00' "$backups/$old"
kubectl -n "$ns" patch stillontime stillontime --type merge -p '{"spec":{"backup":{"retentionDays":30}}}' >/dev/null
backup_now node-retention
[[ ! -e $backups/$old ]] || fail "retention kept $old (older than 30 days)"
[[ -s $backups/$(kubectl -n "$ns" get stillontime stillontime -o jsonpath='{.status.backup.lastBackup}') ]] || fail "newest dump missing"
pass "retention deleted the dump older than 30 days, kept the new ones: $(find "$backups" -maxdepth 1 -name "*.dump" -printf "%f ")"

# ---------------------------------------------------------------- rollout
step "rollout"
backend_ip=$(svc_ip "$ns" stillontime-backend)
poll_log=$(mktemp)
# A client polling /health through the Service, 10 requests a second, bounded
# to 3 minutes; it stops when the file "$poll_log.stop" appears.
(
  for ((i = 0; i < 1800; i++)); do
    [[ -e $poll_log.stop ]] && break
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$backend_ip:3000/health" || true)
    echo "$code" >>"$poll_log"
    sleep 0.1
  done
) &
poller=$!
kubectl -n "$ns" patch stillontime stillontime --type merge -p "{\"spec\":{\"version\":\"$next_version\"}}" >/dev/null
image_rolled() {
  local c
  for c in backend frontend; do
    [[ $(kubectl -n "$ns" get deployment "stillontime-$c" -o jsonpath='{.spec.template.spec.containers[0].image}') == *":$next_version" ]] || return 1
    kubectl -n "$ns" rollout status "deployment/stillontime-$c" --timeout=5s >/dev/null 2>&1 || return 1
  done
}
retry 240 "backend and frontend roll to $next_version" image_rolled
wait_ready "$ns" stillontime 120
sleep 2
touch "$poll_log.stop"
wait "$poller" || true
total=$(wc -l <"$poll_log")
bad=$(grep -vc '^200$' "$poll_log" || true)
rm -f "$poll_log" "$poll_log.stop"
((total > 20)) || fail "the poller made only $total requests"
((bad == 0)) || fail "$bad of $total /health requests failed during the rollout"
[[ $(kubectl -n "$ns" get stillontime stillontime -o jsonpath='{.status.version}') == "$next_version" ]] || fail "status.version not $next_version"
pass "rolled to $next_version with $total /health requests during the rollout, none failed"

# ---------------------------------------------------------------- scaling
step "scaling"
hpas=$(kubectl -n "$ns" get hpa -o jsonpath='{range .items[*]}{.metadata.name}={.spec.minReplicas}-{.spec.maxReplicas} {end}')
[[ $hpas == *"stillontime-backend=2-5"* && $hpas == *"stillontime-frontend=1-3"* ]] || fail "staging HPAs: $hpas"
replicas=$(kubectl -n "$ns" get deployment stillontime-backend -o jsonpath='{.status.readyReplicas}')
((replicas >= 2)) || fail "staging backend has $replicas ready replicas, the profile says 2"
pass "staging profile: $replicas backend pods Ready, HPAs $hpas"

# ---------------------------------------------------------------- handover
step "handover"
first=$(leader)
t_kill=${EPOCHREALTIME/./}
# The holder identity is POD_UID: the pod's name before the underscore.
kubectl -n stillontime-system delete pod "${first%%_*}" --wait=false >/dev/null
new=""
for ((i = 0; i < 60; i++)); do
  new=$(leader)
  [[ -n $new && $new != "$first" ]] && break
  sleep 0.5
done
[[ -n $new && $new != "$first" ]] || fail "no new leader within 30 s of deleting $first"
took=$(((${EPOCHREALTIME/./} - t_kill) / 1000))
((took <= 17000)) || fail "handover took ${took} ms, more than the 15 s lease + 2 s retry"
kubectl -n "$ns" annotate stillontime stillontime --overwrite stillontime.app/handover-check="$new" >/dev/null
kubectl -n "$ns" delete service stillontime-frontend >/dev/null
retry 60 "the new leader repairs a deleted child" kubectl -n "$ns" get service stillontime-frontend
pass "leader $first deleted; $new took over in ${took} ms and reconciles"

# ---------------------------------------------------------------- production
step "production"
kubectl delete namespace "$ns" --wait=true --timeout=120s >/dev/null || true
kubectl apply -f - >/dev/null <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: gp2}
provisioner: stillontime.app/local-node
reclaimPolicy: Delete
volumeBindingMode: Immediate
YAML
external_secret stillontime
resource_from examples/production.yaml stillontime | kubectl apply -f - >/dev/null
wait_ready stillontime stillontime 420
replicas=$(kubectl -n stillontime get deployment stillontime-backend -o jsonpath='{.status.readyReplicas}')
((replicas == 3)) || fail "production backend: $replicas ready replicas, want 3"
kubectl -n stillontime get pdb stillontime-backend >/dev/null || fail "production has no backend PodDisruptionBudget"
curl -fsS --max-time 5 "http://$(svc_ip stillontime stillontime-backend):3000/health" >/dev/null || fail "production /health"
pass "production: Ready with 3 backend pods, PDBs and HPAs; /health answers"

# ---------------------------------------------------------------- monitoring
step "monitoring"
# What of the embedded stack (spec.monitoring.embedded) this machine can run:
# the exporter sidecars and Alertmanager from Debian's packages, scraped here
# through their Services as Prometheus would. Debian's Prometheus is built
# without Kubernetes service discovery (it refuses the rendered
# kubernetes_sd_configs) and Grafana has no Debian package, so neither runs
# here; promtool and amtool check their rendered configuration in test/unit.
kubectl delete namespace stillontime --wait=false >/dev/null
ns3=stillontime-monitoring
external_secret "$ns3"
resource_from examples/development.yaml "$ns3" 'doc["spec"]["monitoring"]["embedded"] = True' | kubectl apply -f - >/dev/null
ready_replicas() { [[ $(kubectl -n "$ns3" get "$1" -o jsonpath='{.status.readyReplicas}') == 1 ]]; }
retry 240 "the Postgres pod with its exporter is Ready" ready_replicas statefulset/stillontime-postgres
retry 120 "the Redis pod with its exporter is Ready" ready_replicas statefulset/stillontime-redis
retry 120 "the backend is Ready" ready_replicas deployment/stillontime-backend
retry 120 "the embedded Alertmanager is Ready" ready_replicas deployment/stillontime-alertmanager
metric() { # SERVICE PORT NAME: the first sample of NAME on the Service's /metrics
  curl -fsS --max-time 5 "http://$(svc_ip "$ns3" "$1"):$2/metrics" | awk -v n="$3" '$1 == n || index($1, n "{") == 1 { print $2; exit }'
}
[[ $(metric stillontime-postgres 9187 pg_up) == 1 ]] || fail "pg_up from the Postgres exporter sidecar is not 1"
[[ $(metric stillontime-redis 9121 redis_up) == 1 ]] || fail "redis_up from the Redis exporter sidecar is not 1"
[[ -n $(metric stillontime-backend 9090 http_requests_total) ]] || fail "no http_requests_total on the backend's metrics port"
curl -fsS --max-time 5 "http://$(svc_ip "$ns3" stillontime-alertmanager):9093/-/ready" >/dev/null || fail "Alertmanager not ready on its Service"
pass "exporter sidecars report pg_up 1 and redis_up 1, the backend exports http_requests_total, Alertmanager answers on its Service; Prometheus and Grafana not runnable from Debian's packages here"

step "all real-node checks passed"
