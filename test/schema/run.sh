#!/bin/sh
# Schema check of the rendered children for current Kubernetes versions.
# Usage (CTest sets the variables): RENDER=... NODE=... NPM=... SCHEMA_CACHE=... run.sh EXAMPLES_DIR
# Installs the locked npm packages once into $SCHEMA_CACHE (again only when
# package-lock.json changes), renders each example with --api-versions latest
# and validates every object. The cache is shared by every checkout of the
# user: installs take its lock exclusively, checks share it, and each run
# keeps its own files (a script named after the run, a temporary render).
set -eu
EXAMPLES=$1
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$SCHEMA_CACHE"
exec 9>"$SCHEMA_CACHE/.lock"
flock 9
if ! cmp -s "$HERE/package-lock.json" "$SCHEMA_CACHE/package-lock.json" || [ ! -d "$SCHEMA_CACHE/node_modules" ]; then
  cp "$HERE/package.json" "$HERE/package-lock.json" "$SCHEMA_CACHE/"
  (cd "$SCHEMA_CACHE" && "$NPM" ci --no-audit --no-fund --loglevel=error)
fi
flock -s 9
# The script runs from the cache directory so its imports resolve there.
validate=$SCHEMA_CACHE/validate.$$.mjs
rendered=$(mktemp)
trap 'rm -f "$validate" "$rendered"' EXIT
cp "$HERE/validate.mjs" "$validate"
status=0
for f in "$EXAMPLES"/*.yaml; do
  if ! "$RENDER" -f "$f" --api-versions latest > "$rendered"; then
    echo "FAIL render $f"
    status=1
    continue
  fi
  "$NODE" "$validate" "$f" < "$rendered" || status=1
done
exit $status
