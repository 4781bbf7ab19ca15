#!/usr/bin/env python3
"""Writes a one-layer image holding one static binary as a docker-archive
tarball (manifest.json, config, layer), which `ctr images import` reads. Used
for the node's pod sandbox (pause) image; no registry and no image builder
needed. Deterministic: the same binary gives the same image id."""

import argparse
import hashlib
import io
import json
import tarfile


def tar_bytes(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data, mode in files:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--tag", required=True)
    p.add_argument("--user", default="65535:65535")
    p.add_argument("--out", required=True)
    a = p.parse_args()
    with open(a.binary, "rb") as f:
        binary = f.read()
    layer = tar_bytes([(a.path.lstrip("/"), binary, 0o755)])
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": {"Entrypoint": [a.path], "User": a.user},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "scripts/node/docker_archive.py"}],
    }, sort_keys=True).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [a.tag], "Layers": ["layer.tar"]}]).encode()
    with open(a.out + ".tmp", "wb") as f:
        f.write(tar_bytes([("manifest.json", manifest, 0o644), (config_name, config, 0o644),
                           ("layer.tar", layer, 0o644)]))
    import os
    os.replace(a.out + ".tmp", a.out)


if __name__ == "__main__":
    main()
