#!/usr/bin/env bash
# StillOnTime container images, built on this machine from the project's own Dockerfiles with
# Debian's buildah: no Docker daemon and no registry. See docs/images.md.
#
#   scripts/images.sh build [--tag TAG]... [--full-build] [--only NAME[,NAME]] [--bin-dir DIR]
#                           [--storage-driver overlay|vfs] [--parallel N] [--rebuild]
#       Makes the Debian bookworm base images with mmdebstrap from the machine's own apt
#       sources, builds every image (or those named: base, operator, backend, frontend,
#       postgres, redis) and writes one docker-archive tarball per image to
#       $STILLONTIME_CACHE/images/NAME.tar. TAG (repeatable, default 1.4.2, the examples'
#       spec.version) tags backend, frontend and operator. An image whose inputs (Dockerfile,
#       every file it copies, its base image) are unchanged is not built again.
#       --full-build compiles the C++ inside the images (the Dockerfiles' default stage);
#       without it the binaries in --bin-dir (default $BUILD_DIR/bin or build/bin, brought up
#       to date with cmake first) go into the `runtime-prebuilt` stage. --parallel N images
#       build at once after the base (default 5).
#   scripts/images.sh import --address SOCKET [--namespace NS] [--only NAME[,NAME]]
#       Imports the tarballs into a running containerd with ctr (namespace k8s.io).
#   scripts/images.sh list        The tarballs, their sizes and tags.
#   scripts/images.sh buildah ARGS... | podman ARGS...
#       Runs buildah or podman on the project's image storage (tests use this).
#
# Environment: STILLONTIME_CACHE (default ~/.cache/stillontime), BUILD_DIR, JOBS (default 2),
# STILLONTIME_IMAGES_STORAGE_DRIVER (default overlay). Must run as root (mmdebstrap's root
# mode and buildah's chroot isolation; any other user: scripts/as-root.sh scripts/images.sh ...);
# the binaries are built as the user who owns the checkout, so its build tree stays theirs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE_ROOT=${STILLONTIME_CACHE:-${HOME:?}/.cache/stillontime}
OUT=$CACHE_ROOT/images
WORK=$CACHE_ROOT/images-work
STORAGE_DRIVER=${STILLONTIME_IMAGES_STORAGE_DRIVER:-overlay}
JOBS=${JOBS:-2}

DEFAULT_TAG=1.4.2
REPO=ghcr.io/ruvnet/stillontime
BASE_FULL=docker.io/library/debian:bookworm
BASE_SLIM=docker.io/library/debian:bookworm-slim
POSTGRES_REF=localhost/stillontime/postgres:15
REDIS_REF=localhost/stillontime/redis:7
KEY_LABEL=app.stillontime.content-key
ALL_IMAGES=(base operator backend frontend postgres redis postgres-exporter redis-exporter prometheus alertmanager)
# The monitoring images from Debian's packages (spec.monitoring.images), tagged with Debian's versions.
MONITORING_REFS=(postgres-exporter=localhost/stillontime/postgres-exporter:0.11
  redis-exporter=localhost/stillontime/redis-exporter:1.45 prometheus=localhost/stillontime/prometheus:2.42
  alertmanager=localhost/stillontime/alertmanager:0.25)
# Bumped when the way a base image is made changes (mmdebstrap options, slimming).
BASE_RECIPE=bookworm-minbase-v2

say() { printf 'images: %s\n' "$*" >&2; }
die() { printf 'images: ERROR: %s\n' "$*" >&2; exit 1; }
now_us() { local t=${EPOCHREALTIME//[!0-9]/}; printf '%s' "$t"; }
since() {
  local d=$(($(now_us) - $1))
  printf '%d.%01ds' $((d / 1000000)) $(((d / 100000) % 10))
}

# One storage per driver (a storage cannot change its driver): containers/storage for
# overlay, containers/storage-DRIVER for another. Its run-time state (locks, mounts) is on
# tmpfs: /run/stillontime-images for the default cache, a directory named after the storage
# root for any other (podman records both paths and refuses a storage seen with others).
set_storage() {
  STORAGE_ROOT=$CACHE_ROOT/containers/storage
  if [[ $STORAGE_DRIVER != overlay ]]; then STORAGE_ROOT+=-$STORAGE_DRIVER; fi
  RUN_ROOT=/run/stillontime-images
  if [[ $STORAGE_ROOT != "${HOME:?}/.cache/stillontime/containers/storage" ]]; then
    RUN_ROOT+=-$(printf '%s' "$STORAGE_ROOT" | sha256sum | cut -c1-12)
  fi
}

storage_flags() { printf '%s\n' --root "$STORAGE_ROOT" --runroot "$RUN_ROOT" --storage-driver "$STORAGE_DRIVER"; }
bah() {
  local f
  mapfile -t f < <(storage_flags)
  buildah "${f[@]}" "$@"
}
pod() {
  local f
  mapfile -t f < <(storage_flags)
  if [[ ${1:-} == run || ${1:-} == create ]]; then
    # podman asks for open-file and process limits above the machine's hard limits, which
    # root without CAP_SYS_RESOURCE (as on this VM) may not set: stay within them (and
    # within the 32768 processes podman's own monitor, conmon, runs with here).
    local sub=$1 limits=() n u
    shift
    n=$(ulimit -Hn)
    u=$(ulimit -Hu)
    [[ $u =~ ^[0-9]+$ ]] || u=32768
    ((u <= 32768)) || u=32768
    [[ $n =~ ^[0-9]+$ ]] && limits+=(--ulimit "nofile=$n:$n")
    limits+=(--ulimit "nproc=$u:$u")
    # Images come from this storage only: never from a registry.
    set -- "$sub" --pull=never "${limits[@]}" "$@"
  fi
  podman "${f[@]}" --cgroup-manager cgroupfs --events-backend file "$@"
}

sha_stdin() { sha256sum | cut -d' ' -f1; }

# Binary (Types: deb) apt entries of this machine in one-line form, from sources.list,
# *.list and deb822 *.sources alike. They go into the base images so that `RUN apt-get
# install` in a build reaches the same archive as the machine; no host name is written here.
derive_binary_entries() {
  local SL SP f
  eval "$(apt-config shell SL Dir::Etc::SourceList/f SP Dir::Etc::SourceParts/d)"
  SL=${SL:-/etc/apt/sources.list}
  SP=${SP:-/etc/apt/sources.list.d/}
  local one_line=()
  [[ -f $SL ]] && one_line+=("$SL")
  for f in "$SP"/*.list; do [[ -f $f ]] && one_line+=("$f"); done
  for f in "${one_line[@]}"; do
    awk '/^[[:space:]]*#/ || NF == 0 { next } $1 == "deb" { print }' "$f"
  done
  for f in "$SP"/*.sources; do
    [[ -f $f ]] || continue
    awk '
      function val(   v) { v = $0; sub(/^[^:]*:[[:space:]]*/, "", v); sub(/[[:space:]]+$/, "", v); return v }
      function flush(   i, j, ns, nu, s, u, opt) {
        if (deb && enabled && uris != "" && suites != "") {
          opt = (signed != "" && signed !~ /BEGIN PGP/) ? " [signed-by=" signed "]" : ""
          nu = split(uris, u, /[[:space:]]+/)
          ns = split(suites, s, /[[:space:]]+/)
          for (j = 1; j <= nu; j++) for (i = 1; i <= ns; i++) print "deb" opt " " u[j] " " s[i] " " comps
        }
        deb = 0; enabled = 1; uris = ""; suites = ""; comps = ""; signed = ""
      }
      BEGIN { enabled = 1 }
      /^#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      tolower($1) == "types:" { if (val() ~ /(^|[[:space:]])deb([[:space:]]|$)/) deb = 1; next }
      tolower($1) == "enabled:" { if (tolower(val()) == "no") enabled = 0; next }
      tolower($1) == "uris:" { uris = val(); next }
      tolower($1) == "suites:" { suites = val(); next }
      tolower($1) == "components:" { comps = val(); next }
      tolower($1) == "signed-by:" { signed = val(); next }
      END { flush() }
    ' "$f"
  done
}

# ---------------------------------------------------------------------------------------
# Keys: a build is skipped when the key recorded beside its tarball equals the key of its
# inputs now. The key is a hash of the Dockerfile, every file of the build context and the
# keys of the base images, so a change anywhere below an image rebuilds it.

# Hash of the files under DIR (relative names and contents), sorted.
tree_key() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) | sha_stdin
}

# The files of the source tree a C++ build uses: tracked, or new and not ignored.
source_files() {
  git -C "$ROOT" ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [[ -f $ROOT/$f ]] && printf '%s\0' "$f"; done
}

source_key() { (cd "$ROOT" && source_files | LC_ALL=C sort -z | xargs -0 -r sha256sum) | sha_stdin; }

recorded_key() { cat "$OUT/$1.key" 2>/dev/null || true; }

image_exists() { bah inspect --type image "$1" >/dev/null 2>&1; }
image_key() { bah inspect --type image --format "{{index .OCIv1.Config.Labels \"$KEY_LABEL\"}}" "$1" 2>/dev/null || true; }

# ---------------------------------------------------------------------------------------
# Base images: one mmdebstrap (variant minbase: Essential, apt and Priority required, what
# debian:bookworm holds) gives both; the slim one drops documentation, man pages and
# translations and tells dpkg to keep leaving them out, as debian:bookworm-slim does.

base_key() {
  { echo "$BASE_RECIPE"; derive_binary_entries; } | sha_stdin
}

import_rootfs() {
  local tar=$1 ref=$2 key=$3 c
  c=$(bah from scratch)
  bah add "$c" "$tar" / >/dev/null
  bah config --cmd bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --label "$KEY_LABEL=$key" "$c"
  bah commit -q --rm "$c" "$ref" >/dev/null
}

build_base() {
  local key t0
  key=$(base_key)
  if ((!REBUILD)) && [[ $(recorded_key base) == "$key" ]] && image_exists "$BASE_FULL" && image_exists "$BASE_SLIM" &&
    [[ $(image_key "$BASE_FULL") == "$key" && $(image_key "$BASE_SLIM") == "$key" ]]; then
    report base cached 0 "$BASE_FULL $BASE_SLIM" "(storage only)"
    BASE_KEY=$key
    return 0
  fi
  t0=$(now_us)
  local dir=$WORK/base rootfs
  rootfs=$dir/rootfs
  rm -rf "$dir"
  mkdir -p "$dir"
  derive_binary_entries >"$dir/sources.list"
  [[ -s $dir/sources.list ]] || die "no binary apt sources on this machine to make a base image from"
  say "base: mmdebstrap bookworm (minbase) from the machine's apt sources"
  mmdebstrap --mode=root --variant=minbase --format=directory --skip=output/dev,output/mknod \
    --aptopt='Acquire::Retries "3"' bookworm "$rootfs" "$dir/sources.list" >"$dir/mmdebstrap.log" 2>&1 || {
    tail -n 30 "$dir/mmdebstrap.log" >&2
    die "mmdebstrap failed (log: $dir/mmdebstrap.log)"
  }
  rm -rf "${rootfs:?}"/dev/* "${rootfs:?}"/var/lib/apt/lists/* "${rootfs:?}"/var/cache/apt/*.bin
  # Every `apt-get update` in a build fetches the package lists only, not their translations.
  printf 'Acquire::Languages "none";\n' >"$rootfs/etc/apt/apt.conf.d/90stillontime-no-translations"
  tar -C "$rootfs" --numeric-owner -cf "$dir/full.tar" .
  # Slim: what dpkg would not have unpacked with the excludes below.
  mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/stillontime-slim" <<'EOF'
# Slim image: no documentation, man pages or translations (keep copyrights).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "${rootfs:?}"/usr/share/man/* "${rootfs:?}"/usr/share/info/* "${rootfs:?}"/usr/share/lintian/*
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  tar -C "$rootfs" --numeric-owner -cf "$dir/slim.tar" .
  rm -rf "$rootfs"
  import_rootfs "$dir/full.tar" "$BASE_FULL" "$key"
  import_rootfs "$dir/slim.tar" "$BASE_SLIM" "$key"
  rm -f "$dir/full.tar" "$dir/slim.tar"
  printf '%s\n' "$key" >"$OUT/base.key"
  BASE_KEY=$key
  report base built "$(since "$t0")" "$BASE_FULL $BASE_SLIM" "(storage only)"
}

# ---------------------------------------------------------------------------------------
# Application images.

# Fills CTX (a fresh directory) with the build context of NAME and prints its key parts.
stage_context() {
  local name=$1 ctx=$2 bin
  rm -rf "$ctx"
  mkdir -p "$ctx"
  case $name in
    operator | backend)
      bin=$(binary_of "$name")
      if ((FULL_BUILD)); then
        (cd "$ROOT" && source_files | tar --null -T - -cf -) | tar -C "$ctx" -xf -
        echo "full $(source_key)"
      else
        mkdir -p "$ctx/prebuilt"
        local b
        for b in $bin; do
          strip -o "$ctx/prebuilt/$b" "$BIN_DIR/$b"
          echo "prebuilt $b $(sha256sum <"$ctx/prebuilt/$b" | cut -d' ' -f1)"
        done
      fi
      ;;
    frontend)
      if [[ -f $ROOT/app/web/Dockerfile ]]; then
        # app/web's own image; its context is app/web (tracked and new files, not ignored ones).
        (cd "$ROOT/app/web" && git ls-files -z --cached --others --exclude-standard . |
          while IFS= read -r -d '' f; do [[ -f $f ]] && printf '%s\0' "$f"; done |
          tar --null -T - -cf -) | tar -C "$ctx" -xf -
        echo "app/web $(tree_key "$ctx")"
      else
        cp -a "$ROOT/images/frontend/." "$ctx/"
        echo "stand-in $(tree_key "$ctx")"
      fi
      ;;
    postgres | redis | postgres-exporter | redis-exporter | prometheus | alertmanager)
      cp -a "$ROOT/images/$name/." "$ctx/"
      echo "$name $(tree_key "$ctx")"
      ;;
  esac
}

# The binaries an image's prebuilt stage copies (space separated; the first is the main one).
binary_of() { case $1 in operator) echo stillontime-operator ;; backend) echo stillontime-server stillontime-pdf-text ;; esac; }

dockerfile_of() {
  case $1 in
    operator) echo "$ROOT/operator/Dockerfile" ;;
    backend) echo "$ROOT/app/Dockerfile" ;;
    frontend) if [[ -f $ROOT/app/web/Dockerfile ]]; then echo "$ROOT/app/web/Dockerfile"; else echo "$ROOT/images/frontend/Dockerfile"; fi ;;
    postgres | redis | postgres-exporter | redis-exporter | prometheus | alertmanager) echo "$ROOT/images/$1/Dockerfile" ;;
  esac
}

# Every name NAME is tagged with, one per line; the first is the one it is built as.
refs_of() {
  local t
  case $1 in
    operator)
      for t in "${TAGS[@]}"; do echo "$REPO/operator:$t"; done
      # The tag manifests/default installs, so `kubectl apply -k manifests/default` finds it.
      local kt
      kt=$(awk '/name: stillontime-operator/ {f = 1} f && /newTag:/ {print $2; exit}' "$ROOT/manifests/default/kustomization.yaml")
      if [[ -n $kt ]]; then echo "$REPO/operator:$kt"; fi
      ;;
    backend) for t in "${TAGS[@]}"; do echo "$REPO/backend:$t"; done ;;
    frontend) for t in "${TAGS[@]}"; do echo "$REPO/frontend:$t"; done ;;
    postgres) echo "$POSTGRES_REF" ;;
    redis) echo "$REDIS_REF" ;;
    *)
      local m
      for m in "${MONITORING_REFS[@]}"; do [[ ${m%%=*} == "$1" ]] && echo "${m#*=}"; done
      ;;
  esac | awk '!seen[$0]++'
}

build_image() {
  local name=$1 t0 ctx dockerfile parts key refs target=()
  t0=$(now_us)
  ctx=$WORK/ctx-$name
  dockerfile=$(dockerfile_of "$name")
  parts=$(stage_context "$name" "$ctx")
  mapfile -t refs < <(refs_of "$name")
  if [[ $name == operator || $name == backend ]] && ((!FULL_BUILD)); then target=(--target runtime-prebuilt); fi
  # The frontend's npm ci reaches the npm registry over TLS; the machine's CA bundle (which
  # trusts a TLS-inspecting proxy where there is one) is mounted for that step (app/web/Dockerfile).
  local volumes=()
  if [[ $name == frontend && -s /etc/ssl/certs/ca-certificates.crt ]]; then
    volumes=(--volume /etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro)
  fi
  key=$({
    echo "$name ${target[*]}"
    echo "$parts"
    sha256sum <"$dockerfile"
    echo "base $BASE_KEY"
  } | sha_stdin)
  local tarball=$OUT/$name.tar export_key
  export_key=$(printf '%s\n' "$key" "${refs[@]}" | sha_stdin)

  if ((!REBUILD)) && [[ $(recorded_key "$name") == "$export_key" && -f $tarball ]]; then
    # Unchanged. The tarball is what the node imports; the local storage gets it back if lost.
    if ! image_exists "${refs[0]}" || [[ $(image_key "${refs[0]}") != "$key" ]]; then
      pod load -q -i "$tarball" >/dev/null
    fi
    rm -rf "$ctx"
    report "$name" cached "$(since "$t0")" "${refs[*]}" "$tarball"
    return 0
  fi

  local tags=() r
  for r in "${refs[@]}"; do tags+=(-t "$r"); done
  say "$name: building from ${dockerfile#"$ROOT"/} ${target[*]}"
  if [[ $(image_key "${refs[0]}") != "$key" ]] || ((REBUILD)); then
    bah bud --pull=never --isolation chroot --layers --jobs 1 -f "$dockerfile" "${target[@]}" "${volumes[@]}" \
      --label "$KEY_LABEL=$key" "${tags[@]}" "$ctx" >"$WORK/$name.log" 2>&1 || {
      tail -n 40 "$WORK/$name.log" >&2
      die "$name: buildah bud failed (log: $WORK/$name.log)"
    }
  else
    for r in "${refs[@]:1}"; do bah tag "${refs[0]}" "$r"; done
  fi
  rm -f "$tarball.partial"
  pod save -q --format docker-archive -m -o "$tarball.partial" "${refs[@]}" >/dev/null
  mv -f "$tarball.partial" "$tarball"
  printf '%s\n' "$export_key" >"$OUT/$name.key"
  rm -rf "$ctx"
  report "$name" built "$(since "$t0")" "${refs[*]}" "$tarball"
}

# NAME built|cached SECONDS "REF..." TARBALL: two lines of the summary, kept in a file per
# image because the builds run in parallel subshells.
report() { printf '  %-17s %-7s %8s  %s\n  %37s%s\n' "$1" "$2" "$3" "$4" "" "$5" >"$WORK/$1.report"; }

# Brings the prebuilt binaries up to date (a no-op build when nothing changed).
# as_tree_owner CMD...: runs CMD as the user who owns the checkout, so that a
# build through sudo leaves no root-owned files in that user's build tree.
as_tree_owner() {
  local owner home
  owner=$(stat -c %U "$ROOT")
  if [[ $(id -u) -ne 0 || $owner == root || $owner == UNKNOWN ]]; then
    "$@"
    return
  fi
  home=$(getent passwd "$owner" | cut -d: -f6)
  runuser -u "$owner" -- env HOME="$home" USER="$owner" LOGNAME="$owner" "$@"
}

ensure_binaries() {
  local build_dir=$1 t0 targets=()
  [[ $(contains operator) == 1 ]] && targets+=(stillontime-operator)
  [[ $(contains backend) == 1 ]] && targets+=(stillontime-server stillontime-pdf-text)
  ((${#targets[@]})) || return 0
  t0=$(now_us)
  if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    as_tree_owner cmake -S "$ROOT" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  # One build at a time in the tree (scripts/test.sh and the quickstart take the same lock).
  as_tree_owner flock "$build_dir/.stillontime-build.lock" cmake --build "$build_dir" -j"$JOBS" \
    --target "${targets[@]}" >"$WORK/binaries.log" 2>&1 || {
    tail -n 30 "$WORK/binaries.log" >&2
    die "building ${targets[*]} in $build_dir failed"
  }
  say "binaries up to date in $build_dir ($(since "$t0"))"
}

contains() {
  local n
  for n in "${ONLY[@]}"; do [[ $n == "$1" ]] && { echo 1; return; }; done
  echo 0
}

cmd_build() {
  TAGS=()
  ONLY=()
  FULL_BUILD=0
  REBUILD=0
  PARALLEL=${STILLONTIME_IMAGES_PARALLEL:-5}
  BIN_DIR=""
  while (($#)); do
    case $1 in
      --tag) TAGS+=("${2:?--tag needs a value}"); shift 2 ;;
      --full-build) FULL_BUILD=1; shift ;;
      --only) IFS=, read -r -a ONLY <<<"${2:?--only needs a value}"; shift 2 ;;
      --bin-dir) BIN_DIR=${2:?--bin-dir needs a value}; shift 2 ;;
      --storage-driver) STORAGE_DRIVER=${2:?--storage-driver needs a value}; shift 2 ;;
      --rebuild) REBUILD=1; shift ;;
      --parallel) PARALLEL=${2:?--parallel needs a number}; shift 2 ;;
      *) die "build: unknown option $1" ;;
    esac
  done
  ((${#TAGS[@]})) || TAGS=("$DEFAULT_TAG")
  ((${#ONLY[@]})) || ONLY=("${ALL_IMAGES[@]}")
  local n
  for n in "${ONLY[@]}"; do
    [[ " ${ALL_IMAGES[*]} " == *" $n "* ]] || die "unknown image $n (one of: ${ALL_IMAGES[*]})"
  done
  [[ $(id -u) -eq 0 ]] || die "run as root (mmdebstrap --mode=root, buildah --isolation chroot): sudo $0 build ..."
  set_storage
  local tool
  for tool in buildah podman mmdebstrap; do
    command -v "$tool" >/dev/null || die "$tool is not installed (scripts/install-deps.sh)"
  done
  mkdir -p "$OUT" "$WORK" "$STORAGE_ROOT" "$RUN_ROOT"
  exec 9>"$OUT/.lock"
  flock 9

  local t_all
  t_all=$(now_us)
  rm -f "$WORK"/*.report
  if ((!FULL_BUILD)); then
    local build_dir=${BUILD_DIR:-build}
    [[ $build_dir == /* ]] || build_dir=$ROOT/$build_dir
    if [[ -z $BIN_DIR ]]; then
      BIN_DIR=$build_dir/bin
      ensure_binaries "$build_dir"
    fi
    [[ $BIN_DIR == /* ]] || BIN_DIR=$PWD/$BIN_DIR
    for n in operator backend; do
      local want
      for want in $(binary_of "$n"); do
        if [[ $(contains "$n") == 1 && ! -x $BIN_DIR/$want ]]; then
          die "$BIN_DIR/$want is missing: build it, or use --full-build"
        fi
      done
    done
  fi
  # The base images come first: every other image starts FROM one of them.
  build_base
  # Then the others, PARALLEL at a time: most of a build waits on apt and disk, not the CPU.
  local names=() failed=() running=0
  for n in "${ALL_IMAGES[@]:1}"; do
    [[ $(contains "$n") == 1 ]] || continue
    rm -f "$WORK/$n.report"
    if ((running >= PARALLEL)); then
      wait -n || true
      running=$((running - 1))
    fi
    build_image "$n" &
    running=$((running + 1))
    names+=("$n")
  done
  wait
  # A build that got to the end wrote its report line.
  for n in "${names[@]}"; do [[ -f $WORK/$n.report ]] || failed+=("$n"); done
  local how="C++ compiled inside the images"
  ((FULL_BUILD)) || how="prebuilt binaries from $BIN_DIR"
  echo "images ($how; storage $STORAGE_DRIVER in $STORAGE_ROOT):"
  for n in "${ALL_IMAGES[@]}"; do
    if [[ -f $WORK/$n.report ]]; then cat "$WORK/$n.report"; fi
  done
  echo "total $(since "$t_all")"
  ((${#failed[@]} == 0)) || die "failed: ${failed[*]} (logs in $WORK)"
}

cmd_import() {
  local address="" ns=k8s.io
  ONLY=()
  while (($#)); do
    case $1 in
      --address) address=${2:?--address needs a socket}; shift 2 ;;
      --namespace) ns=${2:?--namespace needs a value}; shift 2 ;;
      --only) IFS=, read -r -a ONLY <<<"${2:?--only needs a value}"; shift 2 ;;
      *) die "import: unknown option $1" ;;
    esac
  done
  [[ -n $address ]] || die "import: --address SOCKET (containerd's socket) is required"
  command -v ctr >/dev/null || die "ctr not found: containerd is not installed"
  [[ -S $address ]] || die "import: $address is not a socket (is containerd running?)"
  # Named images must all be there; without --only, every image that has a tarball.
  local named=1
  if ((${#ONLY[@]} == 0)); then
    named=0
    ONLY=("${ALL_IMAGES[@]:1}")
  fi
  # A build (which holds this lock exclusively) does not replace a tarball being imported.
  mkdir -p "$OUT"
  exec 9>"$OUT/.lock"
  flock -s 9
  local n f t0 imported=0
  for n in "${ONLY[@]}"; do
    f=$OUT/$n.tar
    if [[ ! -f $f ]]; then
      ((named)) && die "no tarball $f: run scripts/images.sh build first"
      say "no tarball for $n (not built): skipped"
      continue
    fi
    imported=$((imported + 1))
    t0=$(now_us)
    ctr --address "$address" -n "$ns" images import "$f" >/dev/null ||
      die "ctr import of $f failed"
    say "imported $n ($(since "$t0")): $(tar -xOf "$f" manifest.json | python3 -c 'import json,sys; print(" ".join(t for m in json.load(sys.stdin) for t in m["RepoTags"]))')"
  done
  ((imported)) || die "no image tarballs in $OUT: run scripts/images.sh build first"
}

cmd_list() {
  local f n
  for f in "$OUT"/*.tar; do
    [[ -f $f ]] || continue
    n=$(basename "$f" .tar)
    printf '%s\t%s\t%s\t%s\n' "$n" "$(du -h "$f" | cut -f1)" "$f" \
      "$(tar -xOf "$f" manifest.json | python3 -c 'import json,sys; print(" ".join(t for m in json.load(sys.stdin) for t in m["RepoTags"]))')"
  done
}

main() {
  local cmd=${1:-}
  (($#)) && shift
  case $cmd in
    build) cmd_build "$@" ;;
    import) cmd_import "$@" ;;
    list) cmd_list ;;
    buildah) set_storage; mkdir -p "$RUN_ROOT"; bah "$@" ;;
    podman) set_storage; mkdir -p "$RUN_ROOT"; pod "$@" ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

main "$@"
