#!/usr/bin/env bash
# Every kustomization under manifests/ (and crds/) goes through
# `kubectl apply --server-side --dry-run=server` against the e2e control plane
# (Kubernetes 1.20), after `kubectl kustomize` renders it exactly as
# `kubectl apply -k` would. Two adaptations to the old server, both printed:
#   - when policy/v1 is not served, the PodDisruptionBudget goes through the
#     component manifests/components/pdb-policy-v1beta1, as docs/install.md
#     tells 1.20 users to do;
#   - kinds of API groups the server does not serve (monitoring.coreos.com
#     without the Prometheus Operator) are left out and listed.
# Namespaces the manifests create are created for real first: a server-side
# dry run of a namespace does not make it exist for the objects inside it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cp_dir=${STILLONTIME_CP_DIR:?STILLONTIME_CP_DIR is not set}
export KUBECONFIG=$cp_dir/kubeconfig
work=$(mktemp -d "${TMPDIR:-/tmp}/manifests-dry-run.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$root"

fail() {
  printf 'dry-run: FAIL: %s\n' "$*" >&2
  exit 1
}

# The CRD for real, so StillOnTime documents have a mapping.
kubectl apply --server-side -k crds >/dev/null
kubectl wait --for=condition=Established --timeout=60s crd/stillontimes.stillontime.app >/dev/null

served_groups=$(kubectl api-versions)
policy_v1=0
grep -qx 'policy/v1' <<<"$served_groups" && policy_v1=1

# filter_unserved FILE: drops documents whose apiVersion the server does not
# serve (saying which); prints the names of the Namespaces in FILE.
filter_unserved() {
  python3 - "$1" "$work/served" <<'PY'
import sys, yaml
path, served_path = sys.argv[1], sys.argv[2]
served = set(open(served_path).read().split())
kept = []
for doc in yaml.safe_load_all(open(path)):
    if not doc:
        continue
    if doc["apiVersion"] not in served:
        print("  left out (not served here): %s %s/%s" % (doc["apiVersion"], doc["kind"], doc["metadata"]["name"]), file=sys.stderr)
        continue
    if doc["kind"] == "Namespace":
        print(doc["metadata"]["name"])
    kept.append(doc)
yaml.safe_dump_all(kept, open(path, "w"), sort_keys=False)
PY
}
printf '%s\n' "$served_groups" >"$work/served"

mapfile -t kustomizations < <(find crds manifests -name kustomization.yaml -printf '%h\n' | sort)
((${#kustomizations[@]} >= 4)) || fail "expected crds, manifests/default and two overlays, found: ${kustomizations[*]}"
checked=0
for dir in "${kustomizations[@]}"; do
  if grep -q '^kind: Component' "$dir/kustomization.yaml"; then continue; fi
  echo "== $dir"
  rendered=$work/$(tr / _ <<<"$dir").yaml
  source_dir=$dir
  if ((!policy_v1)) && kubectl kustomize "$dir" | grep -q '^apiVersion: policy/v1$'; then
    # A kustomization that adds the 1.20 component to this one.
    wrap=$work/wrap-$(tr / _ <<<"$dir")
    mkdir -p "$wrap"
    # Relative paths: kustomize refuses absolute ones.
    {
      echo "resources:"
      echo "- $(realpath --relative-to="$wrap" "$root/$dir")"
      echo "components:"
      echo "- $(realpath --relative-to="$wrap" "$root/manifests/components/pdb-policy-v1beta1")"
    } >"$wrap/kustomization.yaml"
    source_dir=$wrap
    echo "  policy/v1 not served: with components/pdb-policy-v1beta1"
  fi
  kubectl kustomize "$source_dir" >"$rendered" || fail "$dir does not build"
  mapfile -t namespaces < <(filter_unserved "$rendered")
  # Namespaces for real (idempotent), then everything as a server-side dry run.
  for ns in "${namespaces[@]}"; do
    kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns" >/dev/null
  done
  out=$(kubectl apply --server-side --dry-run=server -f "$rendered" 2>&1) || fail "$dir: $out"
  printf '%s\n' "$out" | sed 's/^/  /'
  # The plain client-side apply (what `kubectl apply -k` does without --server-side) too.
  out=$(kubectl apply --dry-run=server -f "$rendered" 2>&1) || fail "$dir (client-side apply): $out"
  checked=$((checked + 1))
done
echo "dry-run: $checked kustomizations pass against the server"
