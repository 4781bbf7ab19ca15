#!/usr/bin/env bash
# Runs one command as root: as it is when already root, through sudo otherwise.
# The steps that need root (apt, the images, the node) go through it, so that
# scripts/test.sh and scripts/quickstart.sh run everything else as the user
# who started them.
#
#   scripts/as-root.sh COMMAND [ARGS...]
#   scripts/as-root.sh --keep-alive PID   (from a script that runs for long:
#       ask for the password now, then keep sudo's cached credentials fresh
#       in the background until PID exits; does nothing as root)
#
# sudo resets the environment; the variables the project's scripts read
# (STILLONTIME_*, BUILD_DIR, JOBS) are passed on. Without STILLONTIME_CACHE,
# root keeps its own cache (/root/.cache/stillontime: images, image storage)
# and takes the Kubernetes binaries the user built from STILLONTIME_USER_CACHE,
# set here to the user's ~/.cache/stillontime.
set -euo pipefail

(($#)) || {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}
if [[ $(id -u) -eq 0 ]]; then
  [[ $1 == --keep-alive ]] && exit 0
  exec "$@"
fi
command -v sudo >/dev/null || {
  echo "as-root: '$*' needs root, and sudo is not installed (as root: apt-get install sudo; adduser $(id -un) sudo)" >&2
  exit 1
}

if [[ $1 == --keep-alive ]]; then
  owner=${2:?--keep-alive needs the pid of the script it serves}
  if sudo -n -v 2>/dev/null; then
    : # credentials cached: keep them fresh
  elif sudo -n true 2>/dev/null; then
    exit 0 # sudo needs no password here
  else
    echo "as-root: some steps need root (apt, the images, the node); sudo asks for $(id -un)'s password once" >&2
    sudo -v
  fi
  # Refresh the cached credentials while the script runs; stop with it.
  (
    exec </dev/null >/dev/null 2>&1
    while kill -0 "$owner" 2>/dev/null; do
      sudo -n -v || exit 0
      sleep 50
    done
  ) &
  exit 0
fi

pass=()
if [[ -z ${STILLONTIME_CACHE:-} ]]; then pass+=("STILLONTIME_USER_CACHE=${HOME:?}/.cache/stillontime"); fi
while IFS= read -r name; do
  pass+=("$name=${!name}")
done < <(compgen -e | grep -E '^(STILLONTIME_[A-Z0-9_]+|BUILD_DIR|JOBS)$' || true)
exec sudo -- env "${pass[@]}" "$@"
