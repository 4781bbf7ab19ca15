#!/usr/bin/env bash
# Packages kubectl-stillontime for a release: the archive that users (and krew)
# download, its SHA-256, and the krew manifest filled in from the template
# plugin/krew/stillontime.yaml.
#
#   scripts/plugin-release.sh --version 0.2.0 --base-url URL [--build-dir build] [--out dist]
#
# URL is where the release's files will be downloadable from (the CI passes its
# own repository's release page); nothing here names a download host. The
# archive is for this machine's architecture (dpkg --print-architecture) and
# links Debian bookworm's shared libraries (docs/install.md lists them).
# Builds the target first when it is missing. Prints the files it wrote.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
version="" base_url="" build="$root/build" out="$root/dist"
while (($#)); do
  case $1 in
    --version) version=${2:?--version needs a value}; shift 2 ;;
    --base-url) base_url=${2:?--base-url needs a value}; shift 2 ;;
    --build-dir) build=${2:?--build-dir needs a value}; shift 2 ;;
    --out) out=${2:?--out needs a value}; shift 2 ;;
    *) echo "plugin-release: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] || { echo "plugin-release: --version X.Y.Z is required" >&2; exit 2; }
[[ $base_url == https://* ]] || { echo "plugin-release: --base-url must be an https:// URL" >&2; exit 2; }
base_url=${base_url%/}

binary="$build/bin/kubectl-stillontime"
if [[ ! -x $binary ]]; then
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" --target kubectl-stillontime -j"${JOBS:-2}"
fi
built=$("$binary" version)
[[ $built == "kubectl-stillontime "* ]] || { echo "plugin-release: $binary does not answer 'version'" >&2; exit 1; }

arch=$(dpkg --print-architecture)
name="kubectl-stillontime_${version}_linux_${arch}"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
install -m 0755 "$binary" "$stage/kubectl-stillontime"
install -m 0755 "$root/plugin/kubectl_complete-stillontime" "$stage/kubectl_complete-stillontime"
cat >"$stage/README.txt" <<TXT
kubectl-stillontime $version (linux/$arch), the kubectl plugin of the StillOnTime operator.

Install both files on your PATH, beside kubectl:
  install -m 0755 kubectl-stillontime kubectl_complete-stillontime /usr/local/bin/
  kubectl stillontime --help

Built on Debian bookworm; it needs these packages there (or the same libraries elsewhere):
  libcpprest2.10 libyaml-cpp0.7 libssl3 libprometheus-cpp-core1.0 zlib1g
Documentation: docs/operations.md and docs/install.md in the repository.
TXT
mkdir -p "$out"
# Reproducible: fixed owner, order and times.
tar --owner=0 --group=0 --numeric-owner --sort=name --mtime='@0' -C "$stage" -cf - \
  kubectl-stillontime kubectl_complete-stillontime README.txt | gzip -9n >"$out/$name.tar.gz"
sha=$(sha256sum "$out/$name.tar.gz" | cut -d' ' -f1)
printf '%s  %s\n' "$sha" "$name.tar.gz" >"$out/$name.tar.gz.sha256"

arch_upper=$(printf '%s' "$arch" | tr '[:lower:]' '[:upper:]')
sed -e "s|@VERSION@|$version|g" -e "s|@BASE_URL@|$base_url|g" -e "s|@SHA256_LINUX_${arch_upper}@|$sha|g" \
  "$root/plugin/krew/stillontime.yaml" >"$out/stillontime.yaml"
if grep -q '@[A-Z0-9_]*@' "$out/stillontime.yaml"; then
  echo "plugin-release: note: $out/stillontime.yaml still has placeholders for other architectures:" >&2
  grep -o '@[A-Z0-9_]*@' "$out/stillontime.yaml" | sort -u >&2
fi
echo "$out/$name.tar.gz"
echo "$out/$name.tar.gz.sha256"
echo "$out/stillontime.yaml"
