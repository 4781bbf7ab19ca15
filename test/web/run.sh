#!/usr/bin/env bash
# The crew UI's test command (CTest label `web`): installs the locked npm packages (cache outside
# the repository), type-checks, lints and unit-tests (vitest) the app, makes the production build,
# then runs the browser test (e2e.mjs) against it.
# Usage (CTest sets these): SERVER_BIN=... SERVICES_SCRIPT=... OUT_DIR=... [NGINX=...] [SCREENSHOT_DIR=...] run.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
web=$root/app/web
export npm_config_cache=${NPM_CACHE:-$HOME/.cache/stillontime/npm}
export npm_config_update_notifier=false

# npm ci again only when the lockfile changed since the last install.
install() {
  local dir=$1
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.stillontime-lock.json"; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$dir/node_modules/.stillontime-lock.json"
  fi
}
install "$web"
install "$here"

cd "$web"
echo "web: tsc --noEmit"
npx --no-install tsc --noEmit
echo "web: eslint"
npx --no-install eslint --max-warnings 0 src
echo "web: vitest"
npx --no-install vitest run
echo "web: vite build"
npx --no-install vite build --logLevel warn

# The image's entrypoint runs "nginx" from PATH, which for a user other than root
# lacks /usr/sbin, where Debian puts it.
if [[ -n ${NGINX:-} ]]; then PATH=$(dirname "$NGINX"):$PATH; fi
export WEB_ROOT=$web/dist
export NGINX_DIR=$web/nginx
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
exec node "$here/e2e.mjs"
