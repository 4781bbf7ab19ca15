#!/usr/bin/env bash
# Waits until a StillOnTime runs VERSION: the GitOps controller has synced
# spec.version, the operator has observed that generation, status.version says
# VERSION and the Ready condition is True. Fails at once when the resource
# reports Stalled=True (it cannot go on without a human), and after TIMEOUT.
#   .github/scripts/wait-ready.sh NAMESPACE NAME VERSION [TIMEOUT_SECONDS]
set -euo pipefail
ns=${1:?namespace} name=${2:?name} version=${3:?version} timeout=${4:-900}
deadline=$((SECONDS + timeout))
jsonpath='{.spec.version}|{.metadata.generation}|{.status.observedGeneration}|{.status.version}|'
jsonpath+='{.status.conditions[?(@.type=="Ready")].status}|{.status.conditions[?(@.type=="Stalled")].status}|'
jsonpath+='{.status.conditions[?(@.type=="Ready")].message}'
last=""
while ((SECONDS < deadline)); do
  line=$(kubectl -n "$ns" get stillontime "$name" -o jsonpath="$jsonpath")
  IFS='|' read -r spec_version generation observed status_version ready stalled message <<<"$line"
  if [[ $line != "$last" ]]; then
    printf 'spec.version=%s generation=%s observed=%s status.version=%s Ready=%s Stalled=%s %s\n' \
      "$spec_version" "$generation" "$observed" "$status_version" "$ready" "$stalled" "$message"
    last=$line
  fi
  if [[ $spec_version == "$version" && $observed == "$generation" ]]; then
    if [[ $stalled == True ]]; then
      echo "stalled: $message" >&2
      kubectl -n "$ns" describe stillontime "$name" >&2 || true
      exit 1
    fi
    if [[ $status_version == "$version" && $ready == True ]]; then
      echo "$ns/$name is Ready at $version"
      exit 0
    fi
  fi
  sleep 10
done
echo "timed out after ${timeout}s waiting for $ns/$name to be Ready at $version" >&2
kubectl -n "$ns" describe stillontime "$name" >&2 || true
exit 1
