#!/usr/bin/env bash
# The main job on a fresh machine: install, build, start a real one-node
# Kubernetes cluster (scripts/node.sh), build our images from our Dockerfiles
# and import them into the node, install the operator from
# manifests/overlays/kubernetes-1.20 (it runs as a pod), apply
# examples/staging.yaml and wait until it is Ready. Then it shows how to reach
# the application and checks its health through the Service.
#
#   scripts/quickstart.sh [--keep]
#     --keep   leave the node and everything on it running afterwards
#              (stop it with: scripts/node.sh down, through sudo when not root)
#
# Run it as root or as a user with sudo: only the Debian packages, the images
# and the node use root (through sudo, scripts/as-root.sh); the build and
# kubectl run as the user. One node per machine: when another checkout's node
# runs, it says whose and stops (exit 3) without touching it, or with
# STILLONTIME_NODE_WAIT=SECONDS|forever waits for it to go down.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
keep=0
[[ ${1:-} == --keep ]] && keep=1
node_dir=${STILLONTIME_NODE_DIR:-/var/lib/stillontime/node}
as_root=(scripts/as-root.sh)
sudo_hint=""
if [[ $(id -u) -ne 0 ]]; then sudo_hint="sudo "; fi
node_started=0
ns=stillontime-staging
version=$(sed -n 's/^  version: "\(.*\)"$/\1/p' examples/staging.yaml)
operator_tag=$(sed -n 's/^  newTag: //p' manifests/default/kustomization.yaml)

step() { printf '\n==> %s\n' "$*"; }
cleanup() {
  local rc=$?
  ((node_started)) || return 0 # nothing of ours runs (another checkout's node may)
  if ((keep && rc == 0)); then
    cat <<EOF

Left running. Use it with:
  export KUBECONFIG=$KUBECONFIG
Stop it with:
  ${sudo_hint}scripts/node.sh down --dir $node_dir
EOF
    return
  fi
  step "Stopping the node (scripts/node.sh down)"
  "${as_root[@]}" scripts/node.sh down --dir "$node_dir" || true
}

scripts/as-root.sh --keep-alive $$
step "Installing Debian packages"
scripts/install-deps.sh
step "Building the control plane and the node from Debian's Kubernetes source (cached after the first run)"
scripts/control-plane.sh build
step "Building StillOnTime"
mkdir -p build
( # one build at a time in the tree (scripts/test.sh may be building it)
  flock 9
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j2 --target stillontime-operator stillontime-server
) 9>build/.stillontime-build.lock
step "Building the images from our Dockerfiles (cached by content)"
"${as_root[@]}" scripts/images.sh build --tag "$version" --tag "$operator_tag"

step "Starting a one-node cluster"
trap cleanup EXIT
"${as_root[@]}" scripts/node.sh up --dir "$node_dir"
node_started=1
set -a
# shellcheck disable=SC1091 # written by node.sh up
. "$node_dir/env"
set +a
"${as_root[@]}" scripts/images.sh import --address "$CONTAINERD_ADDRESS"

step "Installing the operator (manifests/overlays/kubernetes-1.20): CRD, RBAC, two replicas with leader election"
kubectl apply --server-side -k manifests/overlays/kubernetes-1.20 >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/stillontimes.stillontime.app >/dev/null
kubectl -n stillontime-system rollout status deployment/stillontime-operator --timeout=180s

step "Applying examples/staging.yaml"
kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
# The staging example reads the OAuth client from a Secret the admin provides
# (spec.backend.secretRef); the quickstart stands one in.
kubectl -n "$ns" create secret generic stillontime-external \
  --from-literal=GOOGLE_CLIENT_ID=quickstart-client-id --from-literal=GOOGLE_CLIENT_SECRET=quickstart-not-a-secret \
  --dry-run=client -o yaml | kubectl apply -f - >/dev/null
# PostgreSQL, Redis and the exporters from the images built here out of Debian's packages;
# on a real cluster the same resource runs the default upstream images.
python3 scripts/node/local-resource.py examples/staging.yaml | kubectl apply -f -

step "Waiting for Ready (kubectl wait --for=condition=Ready stillontime/stillontime)"
if ! kubectl -n "$ns" wait --for=condition=Ready --timeout=300s stillontime/stillontime; then
  kubectl -n "$ns" get stillontime stillontime -o jsonpath='{range .status.conditions[*]}{.type}={.status} {.reason}: {.message}{"\n"}{end}'
  kubectl -n "$ns" get pods -o wide
  exit 1
fi
kubectl get stillontime -A
echo
kubectl -n "$ns" get pods,services,pvc -o wide

step "Health check through the backend Service"
backend_ip=$(kubectl -n "$ns" get service stillontime-backend -o jsonpath='{.spec.clusterIP}')
frontend_ip=$(kubectl -n "$ns" get service stillontime-frontend -o jsonpath='{.spec.clusterIP}')
curl -fsS --max-time 5 "http://$backend_ip:3000/health"
echo
curl -fsS --max-time 5 -o /dev/null -w 'frontend: HTTP %{http_code}\n' "http://$frontend_ip:8080/"
cat <<EOF

The application is up. Reach it from this machine:
  frontend:  http://$frontend_ip:8080/
  backend:   curl http://$backend_ip:3000/health
or forward a local port:
  kubectl -n $ns port-forward service/stillontime-frontend 8080:8080
EOF
