#!/usr/bin/env bash
# GitOps release: sets spec.version of the StillOnTime resource in FILE of the
# GitOps repository checked out in DIR, commits and pushes. Argo CD or Flux
# applies it; the operator rolls the backend and frontend. A no-op when FILE
# already says VERSION.
#   .github/scripts/gitops-set-version.sh DIR FILE VERSION
set -euo pipefail
dir=${1:?gitops checkout} file=${2:?path in the gitops repository} version=${3:?version}
cd "$dir"
# mikefarah yq keeps comments and layout.
VERSION=$version yq -i '.spec.version = strenv(VERSION)' "$file"
if git diff --quiet -- "$file"; then
  echo "$file already at $version"
  exit 0
fi
git config user.name "stillontime-ci"
git config user.email "stillontime-ci@users.noreply.github.com"
git add "$file"
git commit -m "Deploy StillOnTime $version ($file)"
git push
