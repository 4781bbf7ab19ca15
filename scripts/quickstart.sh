#!/usr/bin/env bash
# The main job on a fresh machine: install, build, start a local control plane,
# install the CRD, run the operator, apply examples/staging.yaml, and show what
# the operator reports. No kubelet runs locally, so workloads never become
# ready: the status shows them desired but not ready, which is the truth.
#
#   scripts/quickstart.sh [--keep]
#     --keep   leave the control plane and the operator running afterwards
#              (stop them with: scripts/control-plane.sh down --dir DIR)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
keep=0
[[ ${1:-} == --keep ]] && keep=1
cp_dir=${STILLONTIME_CP_DIR:-/tmp/stillontime-quickstart}
operator_pid=""

step() { printf '\n==> %s\n' "$*"; }
cleanup() {
  if ((keep)); then
    echo
    echo "Left running: control plane in $cp_dir${operator_pid:+, operator pid $operator_pid}"
    echo "  export KUBECONFIG=$cp_dir/kubeconfig"
    echo "  stop: ${operator_pid:+kill $operator_pid; }scripts/control-plane.sh down --dir $cp_dir"
    return
  fi
  if [[ -n $operator_pid ]]; then kill "$operator_pid" 2>/dev/null || true; wait "$operator_pid" 2>/dev/null || true; fi
  scripts/control-plane.sh down --dir "$cp_dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT

step "Installing Debian packages"
scripts/install-deps.sh
step "Building kube-apiserver from Debian's source (cached after the first run)"
scripts/control-plane.sh build
step "Building StillOnTime"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target stillontime-operator
step "Starting a local control plane (etcd + kube-apiserver on loopback)"
scripts/control-plane.sh up --dir "$cp_dir" --controllers
export KUBECONFIG=$cp_dir/kubeconfig

if [[ ! -f crds/stillontime.app_stillontimes.yaml ]]; then
  step "Connecting the operator's client"
  build/bin/stillontime-operator run --kubeconfig "$KUBECONFIG"
  exit 0
fi

step "Installing the StillOnTime CRD"
kubectl apply --server-side -f crds/stillontime.app_stillontimes.yaml
kubectl wait --for=condition=Established --timeout=60s crd/stillontimes.stillontime.app

step "Running the operator (logs: $cp_dir/operator.log)"
build/bin/stillontime-operator run --kubeconfig "$KUBECONFIG" \
  --metrics-bind-address 127.0.0.1:0 --health-probe-bind-address 127.0.0.1:0 >"$cp_dir/operator.log" 2>&1 &
operator_pid=$!

step "Applying examples/staging.yaml"
kubectl create namespace stillontime-staging --dry-run=client -o yaml | kubectl apply -f -
# The staging example reads the OAuth client from a Secret the admin provides
# (spec.backend.secretRef); the quickstart stands one in.
kubectl -n stillontime-staging create secret generic stillontime-external \
  --from-literal=GOOGLE_CLIENT_ID=quickstart-client-id --from-literal=GOOGLE_CLIENT_SECRET=quickstart-not-a-secret \
  --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -f examples/staging.yaml

step "Waiting for the operator to reconcile"
for _ in $(seq 1 60); do
  reason=$(kubectl get stillontime -n stillontime-staging stillontime \
    -o jsonpath='{.status.conditions[?(@.type=="Reconciling")].reason}' 2>/dev/null || true)
  if [[ $reason == WaitingForComponents ]]; then break; fi
  sleep 0.5
done
kubectl get stillontime -A
echo
kubectl get stillontime -n stillontime-staging -o \
  jsonpath='{range .items[*].status.conditions[*]}{.type}{"\t"}{.status}{"\t"}{.reason}{"\t"}{.message}{"\n"}{end}'
echo
kubectl get deployments,statefulsets,services,networkpolicies,pvc,hpa -n stillontime-staging
cat <<'TXT'

No kubelet runs in this local control plane, so no pod ever starts: the
Deployments and StatefulSets above stay at 0 ready replicas, and the resource
reports Ready=False with the components that are not ready. On a real cluster
the same resource becomes Ready once the pods pass their readiness probes.
TXT
