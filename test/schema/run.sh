#!/bin/sh
# Schema check of the rendered children for current Kubernetes versions.
# Usage (CTest sets the variables): RENDER=... NODE=... NPM=... SCHEMA_CACHE=... run.sh EXAMPLES_DIR
# Installs the locked npm packages once into $SCHEMA_CACHE (again only when
# package-lock.json changes), renders each example with --api-versions latest
# and validates every object.
set -eu
EXAMPLES=$1
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$SCHEMA_CACHE"
if ! cmp -s "$HERE/package-lock.json" "$SCHEMA_CACHE/package-lock.json" || [ ! -d "$SCHEMA_CACHE/node_modules" ]; then
  cp "$HERE/package.json" "$HERE/package-lock.json" "$SCHEMA_CACHE/"
  (cd "$SCHEMA_CACHE" && "$NPM" ci --no-audit --no-fund --loglevel=error)
fi
# The script runs from the cache directory so its imports resolve there.
cp "$HERE/validate.mjs" "$SCHEMA_CACHE/validate.mjs"
status=0
for f in "$EXAMPLES"/*.yaml; do
  if ! "$RENDER" -f "$f" --api-versions latest > "$SCHEMA_CACHE/rendered.yaml"; then
    echo "FAIL render $f"
    status=1
    continue
  fi
  "$NODE" "$SCHEMA_CACHE/validate.mjs" "$f" < "$SCHEMA_CACHE/rendered.yaml" || status=1
done
exit $status
