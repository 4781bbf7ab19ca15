#!/usr/bin/env bash
# A real Kubernetes 1.20 control plane (etcd + kube-apiserver, optionally
# kube-controller-manager) on loopback, for the end-to-end tests.
#
#   scripts/control-plane.sh build [--rebuild]
#       Build kube-apiserver and kube-controller-manager from Debian's
#       `kubernetes` source package (deb-src entries derived from this
#       machine's apt sources) and cache them under
#       ${STILLONTIME_CACHE:-$HOME/.cache/stillontime}/kubernetes-<version>/bin.
#       Instant when cached. As root through sudo (the node's steps), the
#       binaries the invoking user built are used when root has none
#       (STILLONTIME_USER_CACHE, else that user's ~/.cache/stillontime).
#   scripts/control-plane.sh bin-dir
#       Build when needed, then print the directory holding the binaries.
#   scripts/control-plane.sh up [--dir DIR] [--controllers]
#       Start etcd and kube-apiserver on free 127.0.0.1 ports (and with
#       --controllers kube-controller-manager running garbagecollector,
#       namespace and pvc-protection). Idempotent.
#       With --node-ip IP (scripts/node.sh uses it) the control plane is the
#       one of a real node: kube-apiserver binds and advertises IP (an address
#       pods can route to) with ServiceAccount admission and the "kubernetes"
#       Service's endpoints on, and can reach the kubelet; the controller
#       manager (implied) runs every controller, signs service-account tokens
#       and provisions hostPath PersistentVolumes.
#   scripts/control-plane.sh down [--dir DIR]
#   scripts/control-plane.sh restart-apiserver [--dir DIR] [--pause SECONDS]
#                            [--grace SECONDS | --kill]
#       Stop kube-apiserver (SIGTERM; a second SIGTERM after --grace seconds,
#       default 5; --kill: SIGKILL at once), wait --pause seconds, start it
#       again with the same flags and port.
#   scripts/control-plane.sh status [--dir DIR]
#
# DIR defaults to ${STILLONTIME_CP_DIR:-${XDG_STATE_HOME:-~/.local/state}/stillontime/control-plane}
# (the user's own: two users or checkouts pass --dir and never share one). After
# `up` it holds ca.crt, admin.crt, admin.key, tokens.csv, kubeconfig (admin,
# client certificate), kubeconfig-token (admin, bearer token),
# kubeconfig-nobody (authenticated, no RBAC grants), kubeconfig-operator
# (user stillontime-operator, no RBAC grants until the tests give some),
# kubeconfig-tenant-a and kubeconfig-tenant-b (users tenant-a and tenant-b, no
# grants: the tenancy tests bind each to a namespace of its own), env
# (KEY=VALUE lines; `set -a; . DIR/env; set +a`), pids and *.log. Without
# --node-ip, kube-apiserver also writes an audit log, audit.log (JSON lines,
# Metadata level, no bodies), of every request of user stillontime-operator and
# every request for a Secret: what the server saw, for tests that count reads.
#
# Environment: STILLONTIME_CACHE, STILLONTIME_USER_CACHE, STILLONTIME_CP_DIR,
# STILLONTIME_CP_TIMEOUT (seconds to wait for readiness, default 120),
# STILLONTIME_APISERVER_EXTRA_ARGS (extra kube-apiserver flags, space separated),
# STILLONTIME_K8S_BUILD_WITH=go (plain `go build` instead of the tree's make).

# SC2317: shellcheck takes the functions run through trap and wait_until for
# unreachable once the last line says "main; exit" (which keeps bash from
# reading past main when the file is edited while it runs).
# shellcheck disable=SC2317
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PATCH_FILE=$SCRIPT_DIR/patches/reflect2-go1.18-mapiterinit.patch
CACHE_ROOT=${STILLONTIME_CACHE:-${HOME:?}/.cache/stillontime}
READY_TIMEOUT=${STILLONTIME_CP_TIMEOUT:-120}
MARKER=.stillontime-control-plane
SERVICE_CIDR=10.96.0.0/16
# The node (scripts/node.sh) runs the last three; one build makes all five.
BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)

SUDO=()
if [[ $(id -u) -ne 0 ]]; then SUDO=(sudo); fi

# ---------------------------------------------------------------- helpers

say() { printf 'control-plane: %s\n' "$*"; }
die() {
  printf 'control-plane: error: %s\n' "$*" >&2
  exit 1
}
now_us() { local t=${EPOCHREALTIME//[!0-9]/}; printf '%s' "$t"; }
# since START_US -> "12.3s"
since() {
  local d=$(($(now_us) - $1))
  printf '%d.%01ds' $((d / 1000000)) $(((d / 100000) % 10))
}

usage() {
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"
}

is_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# ensure_packages PKG... : install what is missing (quietly, waiting for a
# dpkg lock held by someone else, and without starting packaged services).
ensure_packages() {
  local missing=() p attempt rc
  for p in "$@"; do is_installed "$p" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  local t0
  t0=$(now_us)
  say "installing ${missing[*]}"
  local policy=/usr/sbin/policy-rc.d created=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod +x "$policy"
    created=1
  fi
  local apt=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
  rc=1
  for attempt in 1 2 3 4 5 6; do
    if "${apt[@]}" update -qq && "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
      rc=0
      break
    fi
    say "apt-get failed (attempt $attempt; maybe another apt holds the lock), retrying"
    sleep $((attempt * 10))
  done
  if ((created)); then "${SUDO[@]}" rm -f "$policy"; fi
  ((rc == 0)) || die "could not install ${missing[*]}"
  say "installed ${missing[*]} ($(since "$t0"))"
}

# ---------------------------------------------------------------- build

# The caches that may hold binaries: ours, and under sudo the invoking user's (read only: the
# root steps reuse what the user built instead of building it again).
cache_roots() {
  printf '%s\n' "$CACHE_ROOT"
  [[ $(id -u) -eq 0 ]] || return 0
  local user_cache=${STILLONTIME_USER_CACHE:-}
  if [[ -z $user_cache && -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
    local home
    home=$(getent passwd "$SUDO_USER" | cut -d: -f6)
    [[ -n $home ]] && user_cache=$home/.cache/stillontime
  fi
  if [[ -n $user_cache && $user_cache != "$CACHE_ROOT" ]]; then printf '%s\n' "$user_cache"; fi
}

# Sets KUBE_BIN to the newest cached bin directory holding every binary.
find_cached_bin() {
  local root d best=""
  while IFS= read -r root; do
    for d in "$root"/kubernetes-*/bin; do
      local b ok=1
      for b in "${BINARIES[@]}"; do [[ -x $d/$b ]] || ok=0; done
      [[ -f $d/../pause.c ]] || ok=0
      ((ok)) || continue
      if [[ -z $best || $d -nt $best ]]; then best=$d; fi
    done
  done < <(cache_roots)
  KUBE_BIN=$best
  [[ -n $best ]]
}

# Writes deb-src equivalents of the machine's enabled apt sources into $1
# (sources.list for one-line entries, sources.list.d/*.sources for deb822).
derive_source_entries() {
  local out=$1 SL SP f
  eval "$(apt-config shell SL Dir::Etc::SourceList/f SP Dir::Etc::SourceParts/d)"
  SL=${SL:-/etc/apt/sources.list}
  SP=${SP:-/etc/apt/sources.list.d/}
  rm -rf "$out/sources.list" "$out/sources.list.d"
  mkdir -p "$out/sources.list.d"
  : >"$out/sources.list"
  local one_line=()
  [[ -f $SL ]] && one_line+=("$SL")
  for f in "$SP"/*.list; do [[ -f $f ]] && one_line+=("$f"); done
  for f in "${one_line[@]}"; do
    awk '
      /^[[:space:]]*#/ || NF == 0 { next }
      $1 == "deb"     { sub(/^[[:space:]]*deb[[:space:]]+/, "deb-src "); print; next }
      $1 == "deb-src" { print }
    ' "$f" >>"$out/sources.list"
  done
  for f in "$SP"/*.sources; do
    [[ -f $f ]] || continue
    awk '
      function flush(   i) {
        if (n > 0 && want) {
          print "Types: deb-src"
          for (i = 1; i <= n; i++) print lines[i]
          print ""
        }
        n = 0; want = 0
      }
      /^#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      tolower($0) ~ /^types:/ {
        v = $0; sub(/^[^:]*:/, "", v)
        if (v ~ /(^|[[:space:]])deb(-src)?([[:space:]]|$)/) want = 1
        next
      }
      { lines[++n] = $0 }
      END { flush() }
    ' "$f" >"$out/sources.list.d/$(basename "$f")"
  done
  if [[ ! -s $out/sources.list ]] && ! grep -qs '^Types: deb-src' "$out"/sources.list.d/*.sources; then
    die "found no enabled apt sources in $SL or $SP to derive deb-src entries from"
  fi
}

apply_reflect2_patch() {
  local tree=$1
  [[ -f $PATCH_FILE ]] || die "missing $PATCH_FILE"
  if (cd "$tree" && patch -p1 -R --dry-run -s -f <"$PATCH_FILE" >/dev/null 2>&1); then
    say "reflect2 patch already applied"
  else
    (cd "$tree" && patch -p1 -N -s --no-backup-if-mismatch <"$PATCH_FILE") ||
      die "could not apply $PATCH_FILE to the vendored reflect2 (has the source package changed?)"
  fi
  grep -q 'func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer, it \*hiter)' \
    "$tree/vendor/github.com/modern-go/reflect2/unsafe_link.go" ||
    die "reflect2 patch did not take effect"
}

go_env() {
  # Debian's Go first (as debian/rules does); GOPATH mode, no cgo.
  export PATH="/usr/lib/go/bin:$PATH"
  export GOPATH=$1 GO111MODULE=off CGO_ENABLED=0 GOCACHE=$CACHE_ROOT/gocache GOFLAGS=
  unset GOBIN GOROOT
}

cmd_build() {
  local rebuild=0
  while (($#)); do
    case $1 in
      --rebuild) rebuild=1 ;;
      -h | --help) usage; exit 0 ;;
      *) die "build: unknown argument $1" ;;
    esac
    shift
  done
  if ((!rebuild)) && find_cached_bin; then
    say "reusing cached $(cat "$KUBE_BIN/../VERSION" 2>/dev/null || echo binaries) in $KUBE_BIN"
    check_patch_stamp
    return 0
  fi

  local t_all
  t_all=$(now_us)
  mkdir -p "$CACHE_ROOT"
  exec 9>"$CACHE_ROOT/build.lock"
  if ! flock -n 9; then
    say "another build is running; waiting for it"
    flock 9
    if ((!rebuild)) && find_cached_bin; then
      say "reusing binaries built meanwhile in $KUBE_BIN"
      return 0
    fi
  fi

  local t0
  t0=$(now_us)
  ensure_packages golang-go dpkg-dev rsync make patch ca-certificates
  local gov
  gov=$(PATH="/usr/lib/go/bin:$PATH" go version) || die "go is not usable"
  [[ $gov =~ go1\.(1[89]|2[0-9])([^0-9]|$) ]] ||
    die "need Go >= 1.18 for the reflect2 patch, found: $gov"
  say "build dependencies ok ($gov, $(since "$t0"))"

  # Private apt state: the machine's own lists and caches stay untouched.
  t0=$(now_us)
  local aptd=$CACHE_ROOT/apt
  mkdir -p "$aptd/lists/partial" "$aptd/cache/archives/partial"
  derive_source_entries "$aptd"
  local apt_opts=(
    -o "Dir::Etc::SourceList=$aptd/sources.list"
    -o "Dir::Etc::SourceParts=$aptd/sources.list.d"
    -o "Dir::State::Lists=$aptd/lists"
    -o "Dir::Cache=$aptd/cache"
  )
  if [[ $(id -u) -eq 0 ]]; then apt_opts+=(-o APT::Sandbox::User=root); fi
  apt-get "${apt_opts[@]}" update -qq >"$CACHE_ROOT/apt-update.log" 2>&1 || {
    tail -n 20 "$CACHE_ROOT/apt-update.log" >&2
    die "apt-get update of the private deb-src lists failed"
  }
  say "deb-src lists updated ($(since "$t0"))"

  t0=$(now_us)
  local work=$CACHE_ROOT/work
  rm -rf "$work"
  mkdir -p "$work/src"
  (cd "$work/src" && apt-get "${apt_opts[@]}" source -qq --only-source kubernetes) >"$CACHE_ROOT/apt-source.log" 2>&1 || {
    tail -n 10 "$CACHE_ROOT/apt-update.log" "$CACHE_ROOT/apt-source.log" >&2
    die "apt-get source kubernetes failed (deb-src entries: $aptd/sources.list*)"
  }
  local dsc tree version
  dsc=$(find "$work/src" -maxdepth 1 -name 'kubernetes_*.dsc' | head -n 1)
  [[ -n $dsc ]] || die "apt-get source produced no .dsc"
  version=$(basename "$dsc" .dsc)
  version=${version#kubernetes_}
  tree=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'kubernetes-*' | head -n 1)
  [[ -n $tree && -f $tree/Makefile ]] || die "no unpacked kubernetes tree in $work/src"
  say "fetched and unpacked kubernetes $version source ($(since "$t0"))"

  local dest=$CACHE_ROOT/kubernetes-$version
  local have_all=1 b
  for b in "${BINARIES[@]}"; do [[ -x $dest/bin/$b ]] || have_all=0; done
  [[ -f $dest/pause.c ]] || have_all=0
  if ((!rebuild && have_all)); then
    KUBE_BIN=$dest/bin
    rm -rf "$work"
    say "reusing cached binaries in $KUBE_BIN"
    return 0
  fi

  apply_reflect2_patch "$tree"

  # GOPATH mode: $work/gopath/src/k8s.io/kubernetes -> the tree. The
  # Makefile (hack/lib/golang.sh) makes its own GOPATH in _output/local/go
  # and forces GOCACHE=_output/local/go/cache; point that at the persistent
  # Go build cache so that a rebuild only recompiles what changed.
  mkdir -p "$work/gopath/src/k8s.io" "$tree/_output/local/go" "$CACHE_ROOT/gocache"
  ln -sfn "$tree" "$work/gopath/src/k8s.io/kubernetes"
  ln -sfn "$CACHE_ROOT/gocache" "$tree/_output/local/go/cache"

  t0=$(now_us)
  local log=$CACHE_ROOT/build.log
  say "compiling ${BINARIES[*]} with ${STILLONTIME_K8S_BUILD_WITH:-make} (log: $log; takes several minutes)"
  : >"$log"
  local built=""
  if [[ ${STILLONTIME_K8S_BUILD_WITH:-make} == make ]] && (
    go_env "$work/gopath"
    cd "$work/gopath/src/k8s.io/kubernetes" || exit 1
    make WHAT="${BINARIES[*]/#/cmd/}"
  ) >"$log" 2>&1; then
    built=$tree/_output/bin
  else
    if [[ ${STILLONTIME_K8S_BUILD_WITH:-make} == make ]]; then
      tail -n 15 "$log" | sed 's/^/  | /' >&2
      say "make failed after $(since "$t0"); falling back to go build"
    fi
    t0=$(now_us)
    # The tarball lacks pkg/generated/openapi/zz_generated.openapi.go, so the
    # code generators (make generated_files) have to run first either way.
    if (
      go_env "$work/gopath"
      cd "$work/gopath/src/k8s.io/kubernetes" || exit 1
      if [[ ! -f pkg/generated/openapi/zz_generated.openapi.go ]]; then
        make generated_files || exit 1
      fi
      ldflags=$(bash -c 'source hack/lib/init.sh && kube::version::ldflags') || exit 1
      mkdir -p "$work/bin"
      for b in "${BINARIES[@]}"; do
        go build -o "$work/bin/$b" -tags selinux,notest -ldflags "-s -w -buildid= $ldflags" "k8s.io/kubernetes/cmd/$b" || exit 1
      done
    ) >>"$log" 2>&1; then
      built=$work/bin
    else
      tail -n 30 "$log" >&2
      die "building ${BINARIES[*]} failed; see $log"
    fi
  fi
  local b
  for b in "${BINARIES[@]}"; do
    [[ -x $built/$b ]] || die "build finished but $built/$b is missing; see $log"
  done
  local kv
  kv=$("$built/kube-apiserver" --version) || die "built kube-apiserver does not run"
  say "compiled ${BINARIES[*]} ($kv) in $(since "$t0")"

  rm -rf "$dest/bin.tmp"
  mkdir -p "$dest/bin.tmp"
  for b in "${BINARIES[@]}"; do cp "$built/$b" "$dest/bin.tmp/$b"; done
  {
    echo "debian-source-version=$version"
    echo "kube-version=${kv#Kubernetes }"
    echo "go=$gov"
    echo "reflect2-patch-sha256=$(sha256sum <"$PATCH_FILE" | cut -d' ' -f1)"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$dest/BUILDINFO"
  echo "${kv#Kubernetes } (Debian $version)" >"$dest/VERSION"
  # The node's pod sandbox image is built from the same tree (scripts/node.sh).
  cp "$tree/build/pause/linux/pause.c" "$dest/pause.c"
  rm -rf "${dest:?}/bin"
  mv "$dest/bin.tmp" "$dest/bin"
  KUBE_BIN=$dest/bin
  rm -rf "$work"
  exec 9>&-
  say "installed into $KUBE_BIN; build took $(since "$t_all") in total (Go cache kept in $CACHE_ROOT/gocache)"
}

check_patch_stamp() {
  local stamp want
  stamp=$(sed -n 's/^reflect2-patch-sha256=//p' "$KUBE_BIN/../BUILDINFO" 2>/dev/null || true)
  [[ -f $PATCH_FILE ]] || return 0
  want=$(sha256sum <"$PATCH_FILE" | cut -d' ' -f1)
  if [[ -n $stamp && $stamp != "$want" ]]; then
    say "warning: cached binaries were built with another version of $(basename "$PATCH_FILE"); run '$0 build --rebuild'"
  fi
}

# ---------------------------------------------------------------- processes

# pid_matches NAME PID: PID is alive and is NAME started for $DIR.
pid_matches() {
  local name=$1 pid=$2 cmdline
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  cmdline=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ -n $cmdline ]] || return 1 # zombie
  [[ $(basename "$(head -n 1 <<<"$cmdline")") == "$name" ]] || return 1
  grep -qF -- "$DIR/" <<<"$cmdline"
}

pid_of() {
  [[ -f $DIR/pids ]] || return 0
  awk -v n="$1" '$1 == n { p = $2 } END { print p }' "$DIR/pids"
}

set_pid() {
  local tmp=$DIR/pids.tmp
  { awk -v n="$1" '$1 != n' "$DIR/pids" 2>/dev/null || true; echo "$1 $2"; } >"$tmp"
  mv "$tmp" "$DIR/pids"
}

# start_proc NAME: runs the command line stored in $DIR/NAME.args (one
# argument a line) in its own session, logging to $DIR/NAME.log.
start_proc() {
  local name=$1 pidfile=$DIR/.$1.pid
  local -a args
  mapfile -t args <"$DIR/$name.args"
  rm -f "$pidfile"
  echo "---- $(date -u +%Y-%m-%dT%H:%M:%SZ) starting $name" >>"$DIR/$name.log"
  # shellcheck disable=SC2016 # $$ and $@ belong to the inner shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "${args[@]}" </dev/null >>"$DIR/$name.log" 2>&1 9>&- &
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s $pidfile ]] && break
    sleep 0.05
  done
  [[ -s $pidfile ]] || die "could not start $name"
  set_pid "$name" "$(cat "$pidfile")"
  rm -f "$pidfile"
}

# wait_gone NAME PID TENTHS: true once PID is no longer NAME of this DIR.
wait_gone() {
  local i
  for ((i = 0; i < $3; i++)); do
    pid_matches "$1" "$2" || return 0
    sleep 0.1
  done
  ! pid_matches "$1" "$2"
}

# stop_proc NAME [GRACE]: stops NAME if its recorded pid still is ours.
# SIGTERM first. A Kubernetes component that is shutting down gracefully
# waits for open watch connections until --request-timeout (60 s) runs out,
# but exits at once on a second signal, so after GRACE seconds (default 5)
# it gets a second SIGTERM, and SIGKILL 5 s after that.
stop_proc() {
  local name=$1 grace=${2:-5} pid
  pid=$(pid_of "$name")
  if [[ -z $pid ]] || ! pid_matches "$name" "$pid"; then
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$name" "$pid" $((grace * 10)) && return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait_gone "$name" "$pid" 50 && return 0
  say "$name (pid $pid) survived two SIGTERMs; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$name" "$pid" 50 || die "could not stop $name (pid $pid)"
}

log_tail() {
  echo "---- last 30 lines of $DIR/$1.log:" >&2
  tail -n 30 "$DIR/$1.log" >&2 || true
}

# wait_until NAME CHECK-COMMAND...: polls until the command succeeds, failing
# early if NAME's process died.
wait_until() {
  local name=$1
  wait_until_or_exit "$@" && return 0
  log_tail "$name"
  die "$name exited during startup"
}

# wait_until_or_exit NAME CHECK-COMMAND...: like wait_until, but returns 1 when
# NAME's process died instead of failing.
wait_until_or_exit() {
  local name=$1 t0 pid
  shift
  t0=$(now_us)
  pid=$(pid_of "$name")
  while ! "$@" >/dev/null 2>&1; do
    if ! pid_matches "$name" "$pid"; then
      return 1
    fi
    if (($(now_us) - t0 > READY_TIMEOUT * 1000000)); then
      log_tail "$name"
      die "$name was not ready after ${READY_TIMEOUT}s"
    fi
    sleep 0.2
  done
}

etcd_healthy() {
  curl -fsS --max-time 2 "$ETCD_ENDPOINT/health" | grep -q '"health":"true"'
}

api_get() {
  curl -fsS --max-time 3 --cacert "$DIR/ca.crt" --cert "$DIR/admin.crt" --key "$DIR/admin.key" "$KUBE_API_URL$1"
}

apiserver_ready() {
  [[ $(api_get /readyz) == ok ]] && api_get /api/v1/namespaces/default >/dev/null
}

kcm_healthy() {
  [[ $(curl -fsSk --max-time 2 "https://127.0.0.1:$KCM_PORT/healthz") == ok ]]
}

load_env() {
  [[ -f $DIR/env ]] || return 1
  KUBE_API_URL=$(sed -n 's/^KUBE_API_URL=//p' "$DIR/env")
  ETCD_ENDPOINT=$(sed -n 's/^ETCD_ENDPOINT=//p' "$DIR/env")
  NODE_IP=$(sed -n 's/^NODE_IP=//p' "$DIR/env")
  KCM_PORT=$(sed -n 's/^KUBE_CONTROLLER_MANAGER_PORT=//p' "$DIR/env")
}

# ---------------------------------------------------------------- up

USED_PORTS=" "
# pick_port VAR: a port below the ephemeral range that nothing listens on.
pick_port() {
  local p i
  for ((i = 0; i < 500; i++)); do
    p=$((20000 + RANDOM % 12000))
    [[ $USED_PORTS == *" $p "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      USED_PORTS+="$p "
      printf -v "$1" '%s' "$p"
      return 0
    fi
  done
  die "found no free loopback port"
}

gen_pki() {
  local pki=$DIR/pki
  mkdir -p "$pki"
  cat >"$pki/openssl.cnf" <<'EOF'
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost, IP:10.96.0.1, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
EOF
  local cnf=$pki/openssl.cnf
  if [[ -n $NODE_IP ]]; then
    sed -i "s/^subjectAltName = IP:127.0.0.1, /subjectAltName = IP:127.0.0.1, IP:$NODE_IP, /" "$cnf"
  fi
  # ECDSA P-256 throughout: generating RSA keys takes seconds on a busy machine.
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
  openssl req -x509 -new -nodes "${ec[@]}" -sha256 -days 3650 -config "$cnf" -extensions ca_ext \
    -subj "/CN=stillontime-control-plane-ca" -keyout "$pki/ca.key" -out "$DIR/ca.crt" 2>/dev/null
  # sign NAME SUBJECT EXTENSIONS KEYFILE CERTFILE
  sign() {
    openssl req -new -nodes "${ec[@]}" -config "$cnf" -subj "$2" -keyout "$4" -out "$pki/$1.csr" 2>/dev/null
    openssl x509 -req -sha256 -days 3650 -in "$pki/$1.csr" -CA "$DIR/ca.crt" -CAkey "$pki/ca.key" \
      -set_serial "0x$(openssl rand -hex 12)" -extfile "$cnf" -extensions "$3" -out "$5" 2>/dev/null
    rm -f "$pki/$1.csr"
  }
  sign apiserver "/CN=kube-apiserver" server_ext "$pki/apiserver.key" "$pki/apiserver.crt"
  sign admin "/O=system:masters/CN=admin" client_ext "$DIR/admin.key" "$DIR/admin.crt"
  if [[ -n $NODE_IP ]]; then
    sign kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" client_ext \
      "$pki/kubelet-client.key" "$pki/kubelet-client.crt"
  fi
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/sa.key" 2>/dev/null
  openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
}

# write_kubeconfig FILE USER AUTH-LINES
write_kubeconfig() {
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: stillontime
  cluster:
    server: $KUBE_API_URL
    certificate-authority: $DIR/ca.crt
users:
- name: $2
  user:
$3
contexts:
- name: stillontime-$2
  context:
    cluster: stillontime
    user: $2
current-context: stillontime-$2
EOF
}

# The audit policy of the loopback control plane: the operator's test identity
# and every Secret request, at Metadata level (who, what, where; never a body).
write_audit_policy() {
  cat >"$1" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  users: [stillontime-operator]
- level: Metadata
  resources:
  - group: ""
    resources: [secrets]
- level: None
EOF
}

write_args() {
  local name=$1
  shift
  printf '%s\n' "$@" >"$DIR/$name.args"
}

start_kcm() {
  local t0
  t0=$(now_us)
  pick_port KCM_PORT
  write_kubeconfig "$DIR/kubeconfig-controller-manager" admin \
    "    client-certificate: $DIR/admin.crt
    client-key: $DIR/admin.key"
  mkdir -p "$DIR/pki/controller-manager"
  local kcm_what="garbagecollector,namespace,pvc-protection"
  local kcm_mode=("--controllers=$kcm_what")
  if [[ -n $NODE_IP ]]; then
    # A node needs them all: ServiceAccount tokens, Deployments, StatefulSets,
    # Jobs, CronJobs, Endpoints, node lifecycle, PV binding and the hostPath
    # provisioner for dynamic PVCs.
    kcm_mode=(--controllers='*' --service-account-private-key-file="$DIR/pki/sa.key" --root-ca-file="$DIR/ca.crt"
      --cluster-signing-cert-file="$DIR/ca.crt" --cluster-signing-key-file="$DIR/pki/ca.key"
      --enable-hostpath-provisioner --node-monitor-grace-period=40s --terminated-pod-gc-threshold=50)
    kcm_what="all controllers"
  fi
  # No --authentication/authorization-kubeconfig: the apiserver has no
  # front-proxy CA, and with delegated authentication the controller manager
  # logs an error every few seconds about the missing requestheader CA.
  # /healthz is always allowed anyway.
  write_args kube-controller-manager "$KUBE_BIN/kube-controller-manager" \
    --kubeconfig="$DIR/kubeconfig-controller-manager" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --port=0 \
    --cert-dir="$DIR/pki/controller-manager" \
    --leader-elect=false --use-service-account-credentials=false \
    "${kcm_mode[@]}"
  start_proc kube-controller-manager
  wait_until kube-controller-manager kcm_healthy
  if grep -q '^KUBE_CONTROLLER_MANAGER_PORT=' "$DIR/env" 2>/dev/null; then
    sed -i "s/^KUBE_CONTROLLER_MANAGER_PORT=.*/KUBE_CONTROLLER_MANAGER_PORT=$KCM_PORT/" "$DIR/env"
  fi
  say "kube-controller-manager ($kcm_what) healthy on 127.0.0.1:$KCM_PORT ($(since "$t0"))"
}

running_all() {
  local name pid ok=0
  [[ -s $DIR/pids ]] || return 1
  while read -r name pid; do
    pid_matches "$name" "$pid" || ok=1
  done <"$DIR/pids"
  return $ok
}

stop_all() {
  local name
  for name in kube-controller-manager kube-apiserver etcd; do stop_proc "$name"; done
}

remove_dir() {
  [[ -d $DIR ]] || return 0
  if [[ -f $DIR/$MARKER ]] || [[ -z $(ls -A "$DIR") ]]; then
    rm -rf "$DIR"
  else
    die "$DIR exists and was not created by this script; leaving it alone"
  fi
}

find_kubectl() {
  if ! command -v kubectl >/dev/null; then
    ensure_packages kubernetes-client
  fi
  KUBECTL=$(command -v kubectl)
}

cmd_up() {
  local controllers=0
  while (($#)); do
    case $1 in
      --controllers) controllers=1 ;;
      --node-ip) NODE_IP=${2:?--node-ip needs an address}; controllers=1; shift ;;
      --dir) DIR=${2:?--dir needs a value}; shift ;;
      --dir=*) DIR=${1#--dir=} ;;
      -h | --help) usage; exit 0 ;;
      *) die "up: unknown argument $1" ;;
    esac
    shift
  done
  normalize_dir
  local t_all t0
  t_all=$(now_us)

  if running_all; then
    load_env
    say "a control plane from this script is already running in $DIR ($KUBE_API_URL)"
    if ((controllers)) && [[ -z $(pid_of kube-controller-manager) ]]; then
      cmd_build >/dev/null
      umask 077
      start_kcm
      sed -i "s/^KUBE_CONTROLLER_MANAGER=.*/KUBE_CONTROLLER_MANAGER=1/" "$DIR/env"
    fi
    return 0
  fi
  if [[ -f $DIR/pids ]]; then
    say "$DIR holds a stopped or partial control plane; cleaning it up"
    stop_all
  fi
  remove_dir

  cmd_build
  t0=$(now_us)
  ensure_packages etcd-server openssl curl
  find_kubectl
  say "runtime dependencies ok ($(since "$t0"))"

  t0=$(now_us)
  umask 077
  mkdir -p "$DIR"
  touch "$DIR/$MARKER"
  local etcd_port peer_port api_port
  pick_port etcd_port
  pick_port peer_port
  pick_port api_port
  KUBE_API_URL=https://${NODE_IP:-127.0.0.1}:$api_port
  ETCD_ENDPOINT=http://127.0.0.1:$etcd_port
  gen_pki
  local admin_token nobody_token operator_token tenant_a_token tenant_b_token
  admin_token=$(openssl rand -hex 24)
  nobody_token=$(openssl rand -hex 24)
  operator_token=$(openssl rand -hex 24)
  tenant_a_token=$(openssl rand -hex 24)
  tenant_b_token=$(openssl rand -hex 24)
  {
    echo "$admin_token,admin,admin,system:masters"
    echo "$nobody_token,nobody,nobody"
    echo "$operator_token,stillontime-operator,stillontime-operator"
    echo "$tenant_a_token,tenant-a,tenant-a"
    echo "$tenant_b_token,tenant-b,tenant-b"
  } >"$DIR/tokens.csv"
  write_kubeconfig "$DIR/kubeconfig" admin "    client-certificate: $DIR/admin.crt
    client-key: $DIR/admin.key"
  write_kubeconfig "$DIR/kubeconfig-token" admin "    token: $admin_token"
  write_kubeconfig "$DIR/kubeconfig-nobody" nobody "    token: $nobody_token"
  write_kubeconfig "$DIR/kubeconfig-operator" stillontime-operator "    token: $operator_token"
  write_kubeconfig "$DIR/kubeconfig-tenant-a" tenant-a "    token: $tenant_a_token"
  write_kubeconfig "$DIR/kubeconfig-tenant-b" tenant-b "    token: $tenant_b_token"
  say "certificates, tokens and kubeconfigs written ($(since "$t0"))"

  t0=$(now_us)
  UP_STARTED=1
  write_args etcd "$(command -v etcd)" \
    --name=stillontime --data-dir="$DIR/etcd-data" \
    --listen-client-urls="$ETCD_ENDPOINT" --advertise-client-urls="$ETCD_ENDPOINT" \
    --listen-peer-urls="http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
    --initial-cluster="stillontime=http://127.0.0.1:$peer_port" \
    --initial-cluster-state=new --initial-cluster-token="stillontime-$$" \
    --logger=zap --log-level=warn
  start_proc etcd
  wait_until etcd etcd_healthy
  say "etcd healthy at $ETCD_ENDPOINT ($(since "$t0"))"

  t0=$(now_us)
  local extra=()
  if [[ -n ${STILLONTIME_APISERVER_EXTRA_ARGS:-} ]]; then
    read -r -a extra <<<"$STILLONTIME_APISERVER_EXTRA_ARGS"
  fi
  local pki=$DIR/pki
  local audit_log=$DIR/audit.log
  write_audit_policy "$DIR/audit-policy.yaml"
  local mode=(--bind-address=127.0.0.1 --advertise-address=127.0.0.1
    --disable-admission-plugins=ServiceAccount --endpoint-reconciler-type=none
    --audit-policy-file="$DIR/audit-policy.yaml" --audit-log-path="$audit_log"
    --audit-log-maxsize=100 --audit-log-maxbackup=1)
  if [[ -n $NODE_IP ]]; then
    audit_log=""
    mode=(--bind-address="$NODE_IP" --advertise-address="$NODE_IP"
      --kubelet-client-certificate="$pki/kubelet-client.crt" --kubelet-client-key="$pki/kubelet-client.key"
      --kubelet-certificate-authority="$DIR/ca.crt" "--kubelet-preferred-address-types=Hostname,InternalIP")
  fi
  # 1.20 notes: the insecure port (8080) is on unless --insecure-port=0; the
  # service-account issuer and signing key are mandatory; the ServiceAccount
  # admission plugin is off because no controller creates "default" service
  # accounts (as in envtest). PodTemplates (which nothing here uses) bypass the
  # watch cache, so a test can watch etcd directly and see its compaction (410).
  write_args kube-apiserver "$KUBE_BIN/kube-apiserver" \
    "${mode[@]}" \
    --secure-port="$api_port" --insecure-port=0 \
    --etcd-servers="$ETCD_ENDPOINT" \
    --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$DIR/ca.crt" \
    --token-auth-file="$DIR/tokens.csv" \
    --authorization-mode=RBAC \
    --service-account-key-file="$pki/sa.pub" \
    --service-account-signing-key-file="$pki/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --api-audiences=https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --watch-cache-sizes=podtemplates#0 \
    --allow-privileged=true \
    --cert-dir="$pki/apiserver-generated" \
    "${extra[@]}"
  start_proc kube-apiserver
  wait_until kube-apiserver apiserver_ready
  say "kube-apiserver ready at $KUBE_API_URL ($(since "$t0"))"

  KCM_PORT=""
  if ((controllers)); then start_kcm; fi

  cat >"$DIR/env" <<EOF
KUBE_API_URL=$KUBE_API_URL
KUBECONFIG=$DIR/kubeconfig
KUBECONFIG_TOKEN=$DIR/kubeconfig-token
KUBECONFIG_NOBODY=$DIR/kubeconfig-nobody
KUBECONFIG_OPERATOR=$DIR/kubeconfig-operator
KUBECONFIG_TENANT_A=$DIR/kubeconfig-tenant-a
KUBECONFIG_TENANT_B=$DIR/kubeconfig-tenant-b
AUDIT_LOG=$audit_log
KUBE_CA_FILE=$DIR/ca.crt
ETCD_ENDPOINT=$ETCD_ENDPOINT
ADMIN_TOKEN=$admin_token
NOBODY_TOKEN=$nobody_token
OPERATOR_TOKEN=$operator_token
KUBE_CONTROLLER_MANAGER=$controllers
KUBE_CONTROLLER_MANAGER_PORT=$KCM_PORT
CONTROL_PLANE_DIR=$DIR
NODE_IP=$NODE_IP
EOF
  chmod 644 "$DIR/env" "$DIR/ca.crt"

  "$KUBECTL" --kubeconfig "$DIR/kubeconfig" version 2>&1 | sed 's/^/  /'
  local resources
  resources=$("$KUBECTL" --kubeconfig "$DIR/kubeconfig" api-resources -o name 2>/dev/null | sort)
  say "$(wc -l <<<"$resources") API resources:"
  paste -sd ' ' <<<"$resources" | fold -s -w 110 | sed 's/^/  /'
  UP_STARTED=0
  say "up in $(since "$t_all"): $DIR (use: set -a; . $DIR/env; set +a)"
}

# ---------------------------------------------------------------- others

cmd_down() {
  parse_dir_only down "$@"
  local t0
  t0=$(now_us)
  if [[ ! -d $DIR ]]; then
    say "nothing at $DIR"
    return 0
  fi
  [[ -f $DIR/$MARKER || ! -f $DIR/pids ]] || die "$DIR was not created by this script"
  stop_all
  remove_dir
  say "down: stopped and removed $DIR ($(since "$t0"))"
}

cmd_restart_apiserver() {
  local pause=0 args=() grace=5
  while (($#)); do
    case $1 in
      --pause) pause=${2:?--pause needs seconds}; shift ;;
      --grace) grace=${2:?--grace needs seconds}; shift ;;
      --kill) grace=0 ;;
      *) args+=("$1") ;;
    esac
    shift
  done
  [[ $pause =~ ^[0-9]+$ && $grace =~ ^[0-9]+$ ]] || die "--pause and --grace take whole seconds"
  parse_dir_only restart-apiserver "${args[@]}"
  [[ -f $DIR/kube-apiserver.args && -f $DIR/pids ]] || die "no control plane in $DIR (run up first)"
  load_env
  local t0 t1
  t0=$(now_us)
  if ((grace == 0)); then
    local pid
    pid=$(pid_of kube-apiserver)
    if pid_matches kube-apiserver "$pid"; then
      kill -KILL "$pid"
      wait_gone kube-apiserver "$pid" 50 || die "could not kill kube-apiserver (pid $pid)"
    fi
  else
    stop_proc kube-apiserver "$grace"
  fi
  say "kube-apiserver stopped ($(since "$t0"))"
  if [[ $pause != 0 ]]; then sleep "$pause"; fi
  t1=$(now_us)
  # kube-apiserver 1.20 can die of a Go runtime fatal error while it starts
  # under a burst of requests (clients retrying against the port); the kubelet
  # would restart its static pod, and so does this, twice at most, saying why.
  local attempt
  for attempt in 1 2 3; do
    start_proc kube-apiserver
    wait_until_or_exit kube-apiserver apiserver_ready && break
    say "kube-apiserver exited while starting (attempt $attempt): $(grep -E '^(fatal error|panic|F[0-9]{4} )' "$DIR/kube-apiserver.log" | tail -n1 || true)"
    if ((attempt == 3)); then
      log_tail kube-apiserver
      die "kube-apiserver exited during startup"
    fi
  done
  say "kube-apiserver ready again at $KUBE_API_URL ($(since "$t1"); $(since "$t0") since stop)"
}

cmd_status() {
  parse_dir_only status "$@"
  if [[ ! -f $DIR/pids ]]; then
    say "no control plane in $DIR"
    return 1
  fi
  load_env || true
  local name pid rc=0 state
  while read -r name pid; do
    if pid_matches "$name" "$pid"; then state=running; else state=STOPPED; rc=1; fi
    printf '  %-24s pid %-8s %s\n' "$name" "$pid" "$state"
  done <"$DIR/pids"
  if [[ -n ${KUBE_API_URL:-} ]] && [[ $(api_get /readyz 2>/dev/null) == ok ]]; then
    say "kube-apiserver $KUBE_API_URL: ready"
  else
    say "kube-apiserver ${KUBE_API_URL:-?}: NOT ready"
    rc=1
  fi
  say "env: $DIR/env"
  return $rc
}

normalize_dir() {
  DIR=$(realpath -m -- "$DIR")
  [[ $DIR =~ ^/[A-Za-z0-9._/+-]+$ ]] || die "DIR must be a plain path (letters, digits, . _ / + -): $DIR"
  [[ $DIR != / && $DIR != "${HOME:-}" ]] || die "refusing DIR=$DIR"
}

parse_dir_only() {
  local sub=$1
  shift
  while (($#)); do
    case $1 in
      --dir) DIR=${2:?--dir needs a value}; shift ;;
      --dir=*) DIR=${1#--dir=} ;;
      -h | --help) usage; exit 0 ;;
      *) die "$sub: unknown argument $1" ;;
    esac
    shift
  done
  normalize_dir
}

UP_STARTED=0
on_exit() {
  local rc=$?
  if ((rc != 0 && UP_STARTED)); then
    UP_STARTED=0
    say "startup failed; stopping what was started (logs stay in $DIR)" >&2
    stop_all || true
  fi
}

main() {
  trap on_exit EXIT
  DIR=${STILLONTIME_CP_DIR:-${XDG_STATE_HOME:-${HOME:?}/.local/state}/stillontime/control-plane}
  KUBE_BIN="" KUBE_API_URL="" ETCD_ENDPOINT="" KCM_PORT="" KUBECTL="" NODE_IP=""
  local sub=${1:-}
  (($#)) && shift
  case $sub in
    build) cmd_build "$@" ;;
    bin-dir) cmd_build "$@" >&2; printf '%s\n' "$KUBE_BIN" ;;
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    restart-apiserver) cmd_restart_apiserver "$@" ;;
    status) cmd_status "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"; exit
