#!/bin/sh
# Renders the nginx configuration from the environment into the runtime directory and runs
# nginx in the foreground. Nothing is written outside the runtime directory, so the image works
# with a read-only root filesystem and an emptyDir mounted at /tmp.
#
#   BACKEND_URL         required: http://HOST:PORT of the backend Service (no path)
#   NGINX_LISTEN        default 8080 (a port, or ADDRESS:PORT)
#   NGINX_RUNTIME_DIR   default /tmp/nginx (config, pid file, temp files)
#   NGINX_WEB_ROOT      default /usr/share/stillontime/web (the built app)
#   NGINX_WORKER_PROCESSES  default 1
# A bad value stops start-up with exit code 2 and a message that names the variable.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
template_dir=${NGINX_TEMPLATE_DIR:-$here}
runtime=${NGINX_RUNTIME_DIR:-/tmp/nginx}
listen=${NGINX_LISTEN:-8080}
web_root=${NGINX_WEB_ROOT:-/usr/share/stillontime/web}
workers=${NGINX_WORKER_PROCESSES:-1}

fail() {
  echo "$1" >&2
  exit 2
}

[ -n "${BACKEND_URL:-}" ] || fail "BACKEND_URL: required, e.g. http://stillontime-backend:3000"
case $BACKEND_URL in
  http://*) hostport=${BACKEND_URL#http://} ;;
  *) fail "BACKEND_URL: must start with http:// (got a different scheme)" ;;
esac
hostport=${hostport%/}
# Only a host name or address and a port: nothing that could change the meaning of the config.
printf '%s' "$hostport" | grep -Eq '^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):[0-9]{1,5}$' ||
  fail "BACKEND_URL: must be http://HOST:PORT with no path"
printf '%s' "$listen" | grep -Eq '^(([0-9.]+|\[[0-9A-Fa-f:]+\]):)?[0-9]{1,5}$' || fail "NGINX_LISTEN: must be PORT or ADDRESS:PORT"
printf '%s' "$workers" | grep -Eq '^([1-9][0-9]?|auto)$' || fail "NGINX_WORKER_PROCESSES: must be 1..99 or auto"
case $runtime in /*) ;; *) fail "NGINX_RUNTIME_DIR: must be an absolute path" ;; esac
case $web_root in /*) ;; *) fail "NGINX_WEB_ROOT: must be an absolute path" ;; esac
[ -f "$web_root/index.html" ] || fail "NGINX_WEB_ROOT: $web_root/index.html does not exist"

mkdir -p "$runtime" || fail "NGINX_RUNTIME_DIR: cannot create $runtime (mount a writable volume there)"
cp "$template_dir/security-headers.conf" "$template_dir/proxy.conf" "$runtime/"
sed -e "s|@BACKEND_HOSTPORT@|$hostport|g" \
    -e "s|@LISTEN@|$listen|g" \
    -e "s|@RUNTIME_DIR@|$runtime|g" \
    -e "s|@WEB_ROOT@|$web_root|g" \
    -e "s|@WORKER_PROCESSES@|$workers|g" \
    "$template_dir/nginx.conf.template" > "$runtime/nginx.conf"

# -e stderr: nginx opens its compiled-in error log before reading the config; keep it off disk.
exec nginx -e stderr -p "$runtime" -c "$runtime/nginx.conf" -g 'daemon off;'
