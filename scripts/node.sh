#!/usr/bin/env bash
# A real one-node Kubernetes 1.20 cluster on this machine, built only from
# Debian packages and Debian's Kubernetes source: the control plane of
# scripts/control-plane.sh (bound to the node's bridge address so pods reach
# it) plus containerd and runc, bridge CNI, kubelet, kube-scheduler,
# kube-proxy (iptables), dnsmasq for Service names and a local-volume
# provisioner (scripts/node/agent.py). Pods run for real.
#
#   scripts/node.sh up [--dir DIR]      start (cleans what a killed run left first)
#   scripts/node.sh down [--dir DIR]    stop, restore every host setting changed,
#                                       remove only what "up" added
#   scripts/node.sh import FILE...      import image tarballs (docker-archive or
#                                       OCI) into the node's containerd
#   scripts/node.sh status [--dir DIR]
#
# DIR defaults to ${STILLONTIME_NODE_DIR:-/tmp/stillontime-node}; after `up`
# DIR/env holds KUBECONFIG and the rest (`set -a; . DIR/env; set +a`). One node
# per machine: the kubelet and containerd use fixed paths (/var/lib/kubelet,
# /var/log/pods, /run/containerd, /var/lib/cni) and ports 10248-10259.
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
DIR=${STILLONTIME_NODE_DIR:-/tmp/stillontime-node}
RECORD=/var/lib/stillontime-node # host settings of the running node (survives a killed run's DIR)
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
  setsid "$@" </dev/null >>"$DIR/$name.log" 2>&1 &
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
  local src out=$CACHE_ROOT/images/pause.tar
  src=$(find "$CACHE_ROOT" -maxdepth 2 -path '*/kubernetes-*/pause.c' | head -n 1)
  [[ -n $src ]] || die "no pause.c in the control-plane cache (run scripts/control-plane.sh build)"
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

cmd_up() {
  local t_all t0
  t_all=$(now_us)
  [[ $(id -u) -eq 0 ]] || die "the node needs root (containerd, runc, iptables, sysctls)"
  ensure_packages
  "$SCRIPT_DIR/control-plane.sh" build >/dev/null
  local kube_bin
  kube_bin=$(dirname "$(find "$CACHE_ROOT" -maxdepth 3 -path '*/kubernetes-*/bin/kubelet' | head -n 1)")

  # Whatever an earlier run left, whether it stopped or was killed.
  if [[ -d $DIR || -d $RECORD ]] || ip link show "$BRIDGE" >/dev/null 2>&1; then
    say "cleaning up what an earlier run left"
    teardown "$DIR"
  fi
  pkill -KILL -f "containerd-shim-runc-v2 -namespace k8s.io -address $DIR/containerd/containerd.sock" 2>/dev/null || true

  t0=$(now_us)
  mkdir -p "$DIR"
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
  "$SCRIPT_DIR/control-plane.sh" up --dir "$DIR/cp" --node-ip "$NODE_IP" | sed 's/^/  /'
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
  start kubelet "$kube_bin/kubelet" --config="$DIR/kubelet.yaml" --kubeconfig="$KUBECONFIG" \
    --container-runtime=remote --container-runtime-endpoint="unix://$DIR/containerd/containerd.sock" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --cert-dir="$DIR/pki/kubelet-generated" \
    --register-node=true --v=1
  start kube-scheduler "$kube_bin/kube-scheduler" --kubeconfig="$KUBECONFIG" --bind-address=127.0.0.1 \
    --port=0 --leader-elect=false
  start kube-proxy "$kube_bin/kube-proxy" --kubeconfig="$KUBECONFIG" --hostname-override="$NODE_NAME" \
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
  UP_STARTED=0
  cat >"$DIR/env" <<EOF
KUBECONFIG=$DIR/cp/kubeconfig
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
  if [[ ! -d $DIR && ! -d $RECORD ]] && ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    say "no node here; nothing to do"
    return 0
  fi
  teardown "$DIR"
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
      *) args+=("$1") ;;
    esac
    shift
  done
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
