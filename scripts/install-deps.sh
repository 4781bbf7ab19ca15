#!/usr/bin/env bash
# Installs every Debian package the project needs on a fresh bookworm machine.
# Idempotent: when everything is present it prints one line and touches nothing.
set -euo pipefail

packages=(
  # toolchain and build
  g++ cmake make pkg-config git ccache
  # operator
  libcpprest-dev libyaml-cpp-dev libssl-dev libboost-dev libboost-system-dev
  prometheus-cpp-dev doctest-dev nlohmann-json3-dev
  # application server
  libpq-dev libpqxx-dev libhiredis-dev libpoppler-cpp-dev
  # local services for tests
  etcd-server postgresql redis-server
  # control-plane build (kube-apiserver from Debian's source package)
  golang-go dpkg-dev rsync
  # libFuzzer targets (scripts/fuzz.sh): clang with its fuzzer and sanitizer runtimes
  clang libclang-rt-dev
  # test and lint tools
  curl openssl python3 python3-icalendar python3-yaml prometheus iproute2 yamllint shellcheck wrk poppler-utils clang-format
  # exporters the live monitoring test (test/e2e/monitoring) scrapes
  prometheus-postgres-exporter prometheus-redis-exporter
  # amtool, which checks the embedded Alertmanager configuration
  prometheus-alertmanager
  # the crew UI's browser test (test/web): chromium driven through playwright-core, and nginx
  # serving the production build with the frontend image's own configuration
  chromium nginx
  # the one-node cluster of scripts/node.sh (test/node)
  containerd runc containernetworking-plugins iptables conntrack dnsmasq-base gcc libc6-dev
  # container images without a Docker daemon or a registry (scripts/images.sh, test/images)
  buildah podman mmdebstrap
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js and npm (the schema test validates rendered objects with the npm
# package kubernetes-models): the machine's own Node.js when it has one,
# Debian's otherwise.
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Services installed here must not start on the machine's default ports; the
# scripts start their own instances on free loopback ports.
policy_rc=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e $policy_rc ]]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy_rc" >/dev/null
  $sudo chmod +x "$policy_rc"
  created_policy=1
fi
# shellcheck disable=SC2317 # invoked by the EXIT trap
cleanup() { if ((created_policy)); then $sudo rm -f "$policy_rc"; fi; }
trap cleanup EXIT

for attempt in 1 2 3; do
  if $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    echo "install-deps: done"
    exit 0
  fi
  echo "install-deps: attempt $attempt failed, retrying" >&2
  sleep $((attempt * 5))
done
echo "install-deps: could not install: ${missing[*]}" >&2
exit 1
