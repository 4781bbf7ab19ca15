#!/usr/bin/env bash
# A real one-node Kubernetes 1.20 cluster on this machine, built only from
# Debian packages and Debian's Kubernetes source: the control plane of
# scripts/control-plane.sh (bound to the node's bridge address so pods reach
# it) plus containerd and runc, bridge CNI, kubelet, kube-scheduler,
# kube-proxy (iptables), dnsmasq for Service names and a local-volume
# provisioner (scripts/node/agent.py). Pods run for real.
#
#   scripts/node.sh up [--dir DIR] [--wait[=SECONDS]]
#       start (cleans what a killed run left first). While a node runs on this
#       machine (from any checkout) it changes nothing, says whose node it is
#       and exits 3; with --wait (or STILLONTIME_NODE_WAIT=SECONDS|forever) it
#       waits until that node is down first.
#   scripts/node.sh down [--dir DIR] [--force]
#       stop, restore every host setting changed, remove only what "up" added.
#       A running node started from another checkout or DIR is left alone
#       (exit 3) unless --force.
#   scripts/node.sh import FILE...      import image tarballs (docker-archive or
#                                       OCI) into the node's containerd
#   scripts/node.sh status [--dir DIR]
#
# Needs root: any other user runs it with sudo. DIR defaults to
# ${STILLONTIME_NODE_DIR:-/var/lib/stillontime/node} (root's own, not in the
# world-writable /tmp); after `up` DIR/env holds KUBECONFIG and the rest
# (`set -a; . DIR/env; set +a`). Run through sudo, `up` also writes
# DIR/kubeconfig-USER, the admin kubeconfig with its certificates inline that
# only the invoking user can read, and env names it: kubectl then runs as that
# user. One node per machine: the kubelet and containerd use fixed paths
# (/var/lib/kubelet, /var/log/pods, /run/containerd, /var/lib/cni) and ports
# 10248-10259. /run/stillontime-node/owner records whose node runs (checkout,
# DIR, user, start time) and /run/stillontime-node/lock (flock) lets one `up`
# or `down` run at a time.
#
# Host changes, each recorded before it is made and undone by `down` (and by
# the next `up` when a run was killed): sysctls net.ipv4.ip_forward,
# net.ipv4.conf.all.route_localnet, net.bridge.bridge-nf-call-iptables,
# kernel.panic, kernel.panic_on_oops, vm.overcommit_memory (the last three the
# kubelet sets); the bridge sot0 with 10.244.0.1/24; iptables chains named
# KUBE-*, CNI-* and STILLONTIME-* and the jumps to them (the machine's own
# rules are never flushed). Pods may reach only the bridge: the
# STILLONTIME-NODE chain drops anything they forward elsewhere.

# shellcheck disable=SC2317 # functions run from traps
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
CACHE_ROOT=${STILLONTIME_CACHE:-${HOME:?}/.cache/stillontime}
DIR=${STILLONTIME_NODE_DIR:-/var/lib/stillontime/node}
RECORD=/var/lib/stillontime-node # host settings of the running node (survives a killed run's DIR)
LOCK_DIR=/run/stillontime-node   # owner record and lock of the machine's one node
OWNER=$LOCK_DIR/owner
BUSY=3                           # exit code: another checkout's node runs here
WAIT=${STILLONTIME_NODE_WAIT:-0} # seconds "up" waits for another node to go down; forever, or 0
FORCE=0
KUBE_BIN=""
BRIDGE=sot0
NODE_IP=10.244.0.1
POD_CIDR=10.244.0.0/24
NODE_NAME=$(hostname)
PAUSE_IMAGE=registry.k8s.io/pause:3.2
SYSCTLS=(net.ipv4.ip_forward net.ipv4.conf.all.route_localnet net.bridge.bridge-nf-call-iptables
  kernel.panic kernel.panic_on_oops vm.overcommit_memory)
PACKAGES=(containerd runc containernetworking-plugins iptables conntrack dnsmasq-base iproute2 python3 gcc libc6-dev)

say() { printf 'node: %s\n' "$*"; }
die() {
  printf 'node: error: %s\n' "$*" >&2
  exit 1
}
now_us() { local t=${EPOCHREALTIME//[!0-9]/}; printf '%s' "$t"; }
since() {
  local d=$(($(now_us) - $1))
  printf '%d.%01ds' $((d / 1000000)) $(((d / 100000) % 10))
}

ensure_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  say "installing ${missing[*]}"
  local policy=/usr/sbin/policy-rc.d created=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null || rc=$?
  ((created)) && rm -f "$policy"
  ((rc == 0)) || die "could not install ${missing[*]}"
}

# ------------------------------------------------------------ processes

# start NAME CMD...: run in its own session, log to DIR/NAME.log, pid in DIR/NAME.pid.
start() {
  local name=$1
  shift
  # fd 8 is the machine-wide lock, which must not outlive this script.
  setsid "$@" </dev/null >>"$DIR/$name.log" 2>&1 8>&- &
  echo $! >"$DIR/$name.pid"
}

# stop_pidfile FILE TENTHS: SIGTERM, then SIGKILL after TENTHS/10 seconds.
stop_pidfile() {
  local f=$1 tenths=${2:-50} pid i
  [[ -f $f ]] || return 0
  pid=$(cat "$f")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < tenths; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

wait_for() {
  local what=$1 tries=$2
  shift 2
  local i
  for ((i = 0; i < tries; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  die "timed out waiting for $what (logs in $DIR)"
}

# ------------------------------------------------------------ host settings

record_host() {
  mkdir -p "$RECORD"
  [[ -f $RECORD/sysctl ]] && return 0 # an earlier run's record is the original state
  local s
  for s in "${SYSCTLS[@]}"; do
    printf '%s=%s\n' "$s" "$(sysctl -n "$s" 2>/dev/null || echo '')"
  done >"$RECORD/sysctl.tmp"
  mv "$RECORD/sysctl.tmp" "$RECORD/sysctl"
}

restore_host() {
  if [[ -f $RECORD/sysctl ]]; then
    local line key value
    while IFS= read -r line; do
      key=${line%%=*} value=${line#*=}
      if [[ -n $value ]]; then sysctl -q -w "$key=$value" >/dev/null 2>&1 || true; fi
    done <"$RECORD/sysctl"
  fi
  remove_iptables
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link delete "$BRIDGE" 2>/dev/null || true; fi
  rm -rf "$RECORD"
}

# Deletes the chains the node made (KUBE-*, CNI-*, STILLONTIME-*) and every
# rule that jumps to them, in every table; nothing else.
remove_iptables() {
  local table chain
  for table in filter nat mangle; do
    local builtin nums n
    for builtin in INPUT OUTPUT FORWARD PREROUTING POSTROUTING; do
      nums=$(iptables -t "$table" -L "$builtin" -n --line-numbers 2>/dev/null |
        awk 'NR > 2 && $2 ~ /^(KUBE-|CNI-|STILLONTIME-)/ { print $1 }' | sort -rn || true)
      for n in $nums; do iptables -t "$table" -D "$builtin" "$n" 2>/dev/null || true; done
    done
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^(KUBE-|CNI-|STILLONTIME-)/ { print $2 }'); do
      iptables -t "$table" -F "$chain" 2>/dev/null || true
    done
    for chain in $(iptables -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^(KUBE-|CNI-|STILLONTIME-)/ { print $2 }'); do
      iptables -t "$table" -X "$chain" 2>/dev/null || true
    done
  done
}

# ------------------------------------------------------------ one node per machine

owner_field() {
  [[ -f $OWNER ]] || return 0
  sed -n "s/^$1=//p" "$OWNER" | head -n 1
}

describe_owner() {
  if [[ ! -f $OWNER ]]; then
    printf 'not recorded yet'
    return 0
  fi
  printf 'started from checkout %s (--dir %s) by %s at %s' "$(owner_field CHECKOUT)" \
    "$(owner_field DIR)" "$(owner_field USER)" "$(owner_field STARTED)"
}

# node_alive DIR: the containerd or kubelet of the node in DIR still runs.
node_alive() {
  local d=$1 name pid
  for name in containerd kubelet; do
    pid=$(cat "$d/$name.pid" 2>/dev/null) || continue
    [[ $pid =~ ^[0-9]+$ ]] || continue
    if tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$d/"; then return 0; fi
  done
  return 1
}

# Prints the pid of a kubelet that is not the one of DIR (a node no owner record names).
stranger_kubelet() {
  local pid
  for pid in $(pgrep -x kubelet || true); do
    if ! tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "--config=$DIR/kubelet.yaml"; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

# What runs on this machine, empty when no node does.
running_node() {
  local o pid
  o=$(owner_field DIR)
  if [[ -n $o ]] && node_alive "$o"; then
    echo "a node $(describe_owner)"
  elif pid=$(stranger_kubelet); then
    echo "a kubelet (pid $pid) that no node.sh record names: $(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | cut -c1-160 || true)"
  fi
}

# wait_deadline: seconds since the epoch when waiting stops (0: forever).
wait_deadline() {
  case $WAIT in
    forever) echo 0 ;;
    *) echo $((EPOCHSECONDS + WAIT)) ;;
  esac
}

# Takes the machine-wide lock on fd 8 (held until this script exits). Another
# up or down holds it only while it runs.
take_lock() {
  local deadline=$1 left
  mkdir -p "$LOCK_DIR"
  exec 8>"$LOCK_DIR/lock"
  flock -n 8 && return 0
  if [[ $WAIT == 0 ]]; then
    release_lock
    die_busy "another node.sh up or down is running right now (the node here: $(describe_owner)); nothing was changed"
  fi
  say "another node.sh up or down is running right now (the node here: $(describe_owner)); waiting for it"
  if ((deadline == 0)); then
    flock 8
  else
    left=$((deadline - EPOCHSECONDS))
    if ((left <= 0)) || ! flock -w "$left" 8; then
      die_busy "another node.sh up or down still runs after waiting ${WAIT}s (the node here: $(describe_owner))"
    fi
  fi
}

release_lock() { exec 8>&-; }

die_busy() {
  printf 'node: %s\n' "$1" >&2
  exit "$BUSY"
}

# For "up": returns with the lock held and no node running, or exits $BUSY
# (after waiting, with --wait) without touching the node that runs.
claim_machine() {
  local deadline what last=0
  deadline=$(wait_deadline)
  while true; do
    take_lock "$deadline"
    what=$(running_node)
    [[ -z $what ]] && return 0
    release_lock
    if [[ $WAIT == 0 ]]; then
      printf 'node: one node per machine, and %s runs here; nothing was changed.\n' "$what" >&2
      printf 'node: stop it from its checkout (scripts/node.sh down), or here with: scripts/node.sh down --force\n' >&2
      die_busy "or wait for it to go down: scripts/node.sh up --wait[=SECONDS]"
    fi
    if ((deadline != 0 && EPOCHSECONDS >= deadline)); then
      die_busy "$what still runs after waiting ${WAIT}s; nothing was changed"
    fi
    if ((EPOCHSECONDS - last >= 60)); then
      say "waiting: $what"
      last=$EPOCHSECONDS
    fi
    sleep 5
  done
}

write_owner() {
  mkdir -p "$LOCK_DIR"
  {
    echo "CHECKOUT=$ROOT"
    echo "DIR=$DIR"
    echo "USER=${SUDO_USER:-$(id -un)}"
    echo "PID=$$"
    echo "STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$OWNER.tmp"
  mv "$OWNER.tmp" "$OWNER"
}

# ------------------------------------------------------------ teardown

stop_node_processes() {
  local d=$1 name
  for name in agent dnsmasq kube-proxy kube-scheduler; do stop_pidfile "$d/$name.pid" 30; done
  if [[ -f $d/kubelet.pid ]]; then
    # Pods first, with a short grace: the kubelet stops their containers.
    if [[ -f $d/env ]] && kill -0 "$(cat "$d/kubelet.pid")" 2>/dev/null; then
      # Nothing may recreate what is deleted now: the controllers stop first.
      local kcm
      kcm=$(awk '$1 == "kube-controller-manager" { print $2 }' "$d/cp/pids" 2>/dev/null || true)
      if [[ $kcm =~ ^[0-9]+$ ]]; then kill -TERM "$kcm" 2>/dev/null || true; fi
      local kc
      kc=$(sed -n 's/^KUBECONFIG=//p' "$d/env")
      timeout 20 kubectl --kubeconfig "$kc" delete pods --all-namespaces --all --grace-period=1 --wait=false \
        >/dev/null 2>&1 || true
      local i
      for ((i = 0; i < 30; i++)); do
        [[ -z $(crictl_ls "$d") ]] && break
        sleep 0.5
      done
    fi
    stop_pidfile "$d/kubelet.pid" 50
  fi
  # Whatever still runs: kill the containers' shims that belong to our containerd.
  if [[ -S $d/containerd/containerd.sock ]]; then
    local ids id
    ids=$(ctr --address "$d/containerd/containerd.sock" -n k8s.io tasks ls -q 2>/dev/null || true)
    for id in $ids; do ctr --address "$d/containerd/containerd.sock" -n k8s.io tasks kill -s KILL "$id" >/dev/null 2>&1 || true; done
  fi
  stop_pidfile "$d/containerd.pid" 100
  pkill -KILL -f "containerd-shim-runc-v2 -namespace k8s.io -address $d/containerd/containerd.sock" 2>/dev/null || true
  if [[ -d $d/cp ]]; then "$SCRIPT_DIR/control-plane.sh" down --dir "$d/cp" >/dev/null 2>&1 || true; fi
}

crictl_ls() {
  ctr --address "$1/containerd/containerd.sock" -n k8s.io tasks ls -q 2>/dev/null || true
}

unmount_under() {
  local base=$1 m
  [[ -d $base ]] || return 0
  # Deepest first.
  local mounts
  mounts=$(awk -v b="$base" '$2 == b || index($2, b "/") == 1 { print $2 }' /proc/self/mounts | sort -r)
  while read -r m; do
    if [[ -n $m ]]; then umount -l "$m" 2>/dev/null || true; fi
  done <<<"$mounts"
}

teardown() {
  local d=$1
  stop_node_processes "$d"
  unmount_under /var/lib/kubelet
  unmount_under "$d"
  unmount_under /run/containerd
  rm -rf /var/lib/kubelet /var/log/pods /var/log/containers /var/lib/cni/networks/stillontime /var/lib/cni/results
  restore_host
  if [[ -f $d/.stillontime-node ]]; then rm -rf "$d"; fi
}

# ------------------------------------------------------------ up

node_pki() {
  local pki=$DIR/pki cp=$DIR/cp
  mkdir -p "$pki"
  cat >"$pki/kubelet.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:$NODE_NAME, IP:127.0.0.1, IP:$NODE_IP
EOF
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -config "$pki/kubelet.cnf" \
    -subj "/CN=$NODE_NAME" -keyout "$pki/kubelet.key" -out "$pki/kubelet.csr" 2>/dev/null
  openssl x509 -req -sha256 -days 365 -in "$pki/kubelet.csr" -CA "$cp/ca.crt" -CAkey "$cp/pki/ca.key" \
    -set_serial "0x$(openssl rand -hex 12)" -extfile "$pki/kubelet.cnf" -extensions ext -out "$pki/kubelet.crt" 2>/dev/null
}

# The pod sandbox image: pause.c from the same Kubernetes source tree, static,
# as a one-layer docker-archive that containerd imports.
pause_image() {
  local src=$KUBE_BIN/../pause.c out=$CACHE_ROOT/images/pause.tar
  [[ -f $src ]] || die "no pause.c beside $KUBE_BIN (run scripts/control-plane.sh build)"
  local key
  key=$(sha256sum "$src" | cut -c1-16)
  if [[ ! -f $out || $(cat "$out.key" 2>/dev/null) != "$key" ]]; then
    mkdir -p "$CACHE_ROOT/images"
    local w
    w=$(mktemp -d)
    gcc -Os -static -DVERSION=3.2 -o "$w/pause" "$src"
    python3 "$SCRIPT_DIR/node/docker_archive.py" --binary "$w/pause" --path /pause --tag "$PAUSE_IMAGE" \
      --user 65535:65535 --out "$out"
    rm -rf "$w"
    echo "$key" >"$out.key"
  fi
  printf '%s' "$out"
}

write_configs() {
  mkdir -p "$DIR/containerd" "$DIR/cni/net.d" "$DIR/dns" "$DIR/volumes"
  cat >"$DIR/containerd/config.toml" <<EOF
version = 2
root = "$DIR/containerd/root"
state = "$DIR/containerd/state"
oom_score = 0
[grpc]
  address = "$DIR/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # root here lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj below
  # the parent's, which fails every sandbox unless the value is clamped.
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  # No registry is ever contacted: every registry resolves to a closed loopback
  # port, so a missing image fails at once (ErrImagePull) instead of reaching
  # out; the node runs only images imported with "import".
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$DIR/containerd/certs.d"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni/net.d"
EOF
  mkdir -p "$DIR/containerd/certs.d/_default"
  cat >"$DIR/containerd/certs.d/_default/hosts.toml" <<EOF
server = "http://127.0.0.1:9"
[host."http://127.0.0.1:9"]
  capabilities = ["pull", "resolve"]
EOF
  cat >"$DIR/cni/net.d/10-stillontime.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "stillontime",
  "plugins": [
    {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
              "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  # Pods resolve only cluster names; nothing is forwarded outside.
  printf 'nameserver %s\n' "$NODE_IP" >"$DIR/resolv.conf"
  cat >"$DIR/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $DIR/pki/kubelet.crt
tlsPrivateKeyFile: $DIR/pki/kubelet.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $DIR/cp/ca.crt}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
failSwapOn: false
clusterDNS: [$NODE_IP]
clusterDomain: cluster.local
resolvConf: $DIR/resolv.conf
# The disk is shared with the rest of the machine: evict only when it is
# really full, and never garbage-collect the images imported by hand.
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, nodefs.inodesFree: 1%, imagefs.available: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 110
syncFrequency: 10s
fileCheckFrequency: 20s
nodeStatusUpdateFrequency: 5s
EOF
}

# Run through sudo: the admin kubeconfig, certificates inline, for the invoking
# user alone (kubectl then runs as that user). Prints its path, or the root one.
user_kubeconfig() {
  if [[ -z ${SUDO_UID:-} || $SUDO_UID == 0 || ! ${SUDO_USER:-} =~ ^[a-z_][a-z0-9_.-]*$ ]]; then
    printf '%s' "$DIR/cp/kubeconfig"
    return 0
  fi
  local f=$DIR/kubeconfig-$SUDO_USER
  (umask 077 && kubectl config view --raw --flatten --kubeconfig "$DIR/cp/kubeconfig" >"$f")
  chown "$SUDO_UID:${SUDO_GID:-$SUDO_UID}" "$f"
  printf '%s' "$f"
}

cmd_up() {
  local t_all t0
  t_all=$(now_us)
  [[ $(id -u) -eq 0 ]] || die "the node needs root (containerd, runc, iptables, sysctls): run it with sudo"
  ensure_packages
  KUBE_BIN=$("$SCRIPT_DIR/control-plane.sh" bin-dir)
  [[ -x $KUBE_BIN/kubelet ]] || die "no kubelet in $KUBE_BIN"
  claim_machine

  # Whatever an earlier run left, whether it stopped or was killed (no node runs
  # now: claim_machine saw to that).
  local earlier
  earlier=$(owner_field DIR)
  if [[ -n $earlier && $earlier != "$DIR" && $earlier =~ ^/[A-Za-z0-9._/+-]+$ ]]; then
    say "cleaning up what the stopped node $(describe_owner) left"
    teardown "$earlier"
  fi
  if [[ -d $DIR || -d $RECORD ]] || ip link show "$BRIDGE" >/dev/null 2>&1; then
    say "cleaning up what an earlier run left"
    teardown "$DIR"
  fi
  pkill -KILL -f "containerd-shim-runc-v2 -namespace k8s.io -address $DIR/containerd/containerd.sock" 2>/dev/null || true

  t0=$(now_us)
  write_owner
  mkdir -p "$DIR"
  chmod 0755 "$DIR"
  touch "$DIR/.stillontime-node"
  record_host
  UP_STARTED=1
  sysctl -q -w net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 >/dev/null
  ip link add "$BRIDGE" type bridge
  ip addr add "$NODE_IP/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # Pods reach the bridge (each other, the API server, DNS) and nothing else.
  iptables -N STILLONTIME-NODE
  iptables -A STILLONTIME-NODE -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
  iptables -A STILLONTIME-NODE -i "$BRIDGE" -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  iptables -A STILLONTIME-NODE -i "$BRIDGE" -j DROP
  iptables -I FORWARD 1 -j STILLONTIME-NODE
  say "host prepared: bridge $BRIDGE $NODE_IP/24 ($(since "$t0"))"

  t0=$(now_us)
  "$SCRIPT_DIR/control-plane.sh" up --dir "$DIR/cp" --node-ip "$NODE_IP" 8>&- | sed 's/^/  /'
  local api_url
  api_url=$(sed -n 's/^KUBE_API_URL=//p' "$DIR/cp/env")
  export KUBECONFIG=$DIR/cp/kubeconfig
  say "control plane up at $api_url ($(since "$t0"))"

  t0=$(now_us)
  node_pki
  write_configs
  start containerd containerd --config "$DIR/containerd/config.toml"
  wait_for containerd 60 ctr --address "$DIR/containerd/containerd.sock" version
  local pause
  pause=$(pause_image)
  ctr --address "$DIR/containerd/containerd.sock" -n k8s.io images import --no-unpack=false "$pause" >/dev/null
  say "containerd running, pause image imported ($(since "$t0"))"

  t0=$(now_us)
  start dnsmasq dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-poll --bind-interfaces \
    --listen-address="$NODE_IP" --port=53 --hostsdir="$DIR/dns" --local=/cluster.local/ \
    --domain-needed --bogus-priv --log-facility=- --user=root
  start agent python3 "$SCRIPT_DIR/node/agent.py" --server "$api_url" --ca "$DIR/cp/ca.crt" \
    --cert "$DIR/cp/admin.crt" --key "$DIR/cp/admin.key" --node "$NODE_NAME" \
    --hosts-dir "$DIR/dns" --volume-root "$DIR/volumes"
  start kubelet "$KUBE_BIN/kubelet" --config="$DIR/kubelet.yaml" --kubeconfig="$KUBECONFIG" \
    --container-runtime=remote --container-runtime-endpoint="unix://$DIR/containerd/containerd.sock" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --cert-dir="$DIR/pki/kubelet-generated" \
    --register-node=true --v=1
  start kube-scheduler "$KUBE_BIN/kube-scheduler" --kubeconfig="$KUBECONFIG" --bind-address=127.0.0.1 \
    --port=0 --leader-elect=false
  start kube-proxy "$KUBE_BIN/kube-proxy" --kubeconfig="$KUBECONFIG" --hostname-override="$NODE_NAME" \
    --proxy-mode=iptables --cluster-cidr="$POD_CIDR" --conntrack-max-per-core=0 \
    --metrics-bind-address=127.0.0.1:10249 --healthz-bind-address=127.0.0.1:10256
  wait_for "node $NODE_NAME Ready" 180 node_ready
  say "kubelet, scheduler, proxy, dns and volumes running; node $NODE_NAME Ready ($(since "$t0"))"

  t0=$(now_us)
  kubectl apply -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: stillontime.app/local-node
reclaimPolicy: Delete
volumeBindingMode: Immediate
EOF
  wait_for "the default ServiceAccount" 120 kubectl -n default get serviceaccount default
  local kubeconfig
  kubeconfig=$(user_kubeconfig)
  UP_STARTED=0
  cat >"$DIR/env" <<EOF
KUBECONFIG=$kubeconfig
KUBE_API_URL=$api_url
NODE_NAME=$NODE_NAME
NODE_IP=$NODE_IP
NODE_DIR=$DIR
CONTAINERD_ADDRESS=$DIR/containerd/containerd.sock
CONTROL_PLANE_DIR=$DIR/cp
EOF
  chmod 644 "$DIR/env"
  say "up in $(since "$t_all"): set -a; . $DIR/env; set +a"
}

node_ready() {
  [[ $(kubectl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

cmd_down() {
  local t0
  t0=$(now_us)
  [[ $(id -u) -eq 0 ]] || die "the node needs root: run it with sudo"
  if ((FORCE)); then WAIT=forever; fi
  take_lock "$(wait_deadline)"
  local target=$DIR owner_dir pid
  owner_dir=$(owner_field DIR)
  [[ $owner_dir =~ ^/[A-Za-z0-9._/+-]+$ ]] || owner_dir=""
  if [[ -n $owner_dir ]] && node_alive "$owner_dir"; then
    if [[ $(owner_field CHECKOUT) != "$ROOT" || $owner_dir != "$DIR" ]] && ((!FORCE)); then
      printf 'node: the node running here was %s; this is checkout %s (--dir %s).\n' "$(describe_owner)" "$ROOT" "$DIR" >&2
      die_busy "not stopping it: run down from there, or pass --force"
    fi
    target=$owner_dir
  elif [[ -n $owner_dir ]]; then
    target=$owner_dir # a node that was killed: what it left
  elif pid=$(stranger_kubelet) && ((!FORCE)); then
    die_busy "a kubelet (pid $pid) that no node.sh record names runs here; not touching it (--force to restore the host anyway)"
  fi
  if [[ ! -d $target && ! -d $RECORD ]] && ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    rm -f "$OWNER"
    say "no node here; nothing to do"
    return 0
  fi
  teardown "$target"
  rm -f "$OWNER"
  say "down: host restored ($(since "$t0"))"
}

cmd_import() {
  (($#)) || die "import: name at least one image tarball"
  [[ -S $DIR/containerd/containerd.sock ]] || die "no node running in $DIR"
  local f t0
  for f in "$@"; do
    t0=$(now_us)
    ctr --address "$DIR/containerd/containerd.sock" -n k8s.io images import "$f" | sed 's/^/  /'
    say "imported $(basename "$f") ($(since "$t0"))"
  done
}

cmd_status() {
  if [[ -f $OWNER ]]; then say "the node here was $(describe_owner)"; fi
  [[ -f $DIR/env ]] || die "no node in $DIR"
  local name
  for name in containerd kubelet kube-scheduler kube-proxy dnsmasq agent; do
    if [[ -f $DIR/$name.pid ]] && kill -0 "$(cat "$DIR/$name.pid")" 2>/dev/null; then
      printf '  %-16s running\n' "$name"
    else
      printf '  %-16s STOPPED\n' "$name"
    fi
  done
  "$SCRIPT_DIR/control-plane.sh" status --dir "$DIR/cp"
  KUBECONFIG=$DIR/cp/kubeconfig kubectl get nodes -o wide
}

UP_STARTED=0
on_exit() {
  local rc=$?
  if ((rc != 0 && UP_STARTED)); then
    UP_STARTED=0
    say "start failed; tearing down (logs kept in $DIR.failed)" >&2
    rm -rf "$DIR.failed"
    cp -r "$DIR" "$DIR.failed" 2>/dev/null || true
    teardown "$DIR" || true
    rm -f "$OWNER"
  fi
}

main() {
  trap on_exit EXIT
  local sub=${1:-}
  (($#)) && shift
  local args=()
  while (($#)); do
    case $1 in
      --dir) DIR=${2:?--dir needs a value}; shift ;;
      --wait) WAIT=forever ;;
      --wait=*) WAIT=${1#--wait=} ;;
      --force) FORCE=1 ;;
      *) args+=("$1") ;;
    esac
    shift
  done
  [[ $WAIT == forever || $WAIT =~ ^[0-9]+$ ]] || die "--wait takes whole seconds (or STILLONTIME_NODE_WAIT=forever)"
  DIR=$(realpath -m -- "$DIR")
  [[ $DIR =~ ^/[A-Za-z0-9._/+-]+$ && $DIR != / ]] || die "DIR must be a plain absolute path: $DIR"
  cd "$ROOT"
  case $sub in
    up) cmd_up ;;
    down) cmd_down ;;
    import) cmd_import "${args[@]}" ;;
    status) cmd_status ;;
    *) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
  esac
}

main "$@"
exit
