#!/usr/bin/env python3
"""The local node's two cluster services that Debian does not package.

1. Cluster DNS records. There is no CoreDNS in Debian bookworm, so dnsmasq
   answers Service names from a hosts directory (it re-reads changed files on
   its own); this agent keeps that directory current from the API server's
   Services and Endpoints: `svc.ns.svc.cluster.local` for every Service with a
   cluster IP, and for headless Services every ready address plus
   `hostname.svc.ns.svc.cluster.local` for StatefulSet pods.

2. Dynamic PersistentVolumes. A PVC of a StorageClass whose provisioner is
   `stillontime.app/local-node` gets a directory under the node's volume root
   and a `local` PersistentVolume pre-bound to it. `local` (unlike `hostPath`)
   volumes honour the pod's fsGroup, as the storage of a real cluster does, so
   the restricted non-root pods the operator renders can write to them. A
   Released volume of reclaim policy Delete loses its directory and object.

It polls (one list of each kind a second) rather than watches: the node is
small, and a poll cannot miss an event. Everything is read with the node's
client certificate; TLS is verified against the control plane's CA.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import ssl
import sys
import time
import urllib.parse

PROVISIONER = "stillontime.app/local-node"
DOMAIN = "cluster.local"


def log(msg, **kv):
    kv.update(ts=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), msg=msg, component="node-agent")
    print(json.dumps(kv), flush=True)


class Api:
    def __init__(self, url, ca, cert, key):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port or 443
        self.ctx = ssl.create_default_context(cafile=ca)
        self.ctx.load_cert_chain(cert, key)
        self.conn = None

    def call(self, method, path, body=None):
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=10)
            try:
                data = json.dumps(body).encode() if body is not None else None
                headers = {"Accept": "application/json"}
                if data is not None:
                    headers["Content-Type"] = "application/json"
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                payload = resp.read()
                return resp.status, (json.loads(payload) if payload else {})
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def items(self, path):
        status, obj = self.call("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: HTTP {status}")
        return obj.get("items", [])


def dns_records(services, endpoints):
    eps = {(e["metadata"]["namespace"], e["metadata"]["name"]): e for e in endpoints}
    lines = []
    for s in services:
        ns, name = s["metadata"]["namespace"], s["metadata"]["name"]
        fqdn = f"{name}.{ns}.svc.{DOMAIN}"
        ip = s.get("spec", {}).get("clusterIP")
        if ip and ip != "None":
            lines.append(f"{ip} {fqdn}")
            continue
        for subset in eps.get((ns, name), {}).get("subsets", []) or []:
            for addr in subset.get("addresses", []) or []:
                lines.append(f"{addr['ip']} {fqdn}")
                if addr.get("hostname"):
                    lines.append(f"{addr['ip']} {addr['hostname']}.{fqdn}")
    return "".join(sorted(set(line + "\n" for line in lines)))


def write_if_changed(path, text):
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
    return True


def provision(api, node, volume_root, classes, pvcs, pvs):
    ours = {c["metadata"]["name"] for c in classes if c.get("provisioner") == PROVISIONER}
    bound = {(pv["spec"].get("claimRef") or {}).get("uid") for pv in pvs}
    for pvc in pvcs:
        meta, spec = pvc["metadata"], pvc["spec"]
        if pvc.get("status", {}).get("phase") != "Pending" or spec.get("volumeName"):
            continue
        if spec.get("storageClassName") not in ours or meta["uid"] in bound or meta.get("deletionTimestamp"):
            continue
        name = "pvc-" + meta["uid"]
        path = os.path.join(volume_root, name)
        os.makedirs(path, mode=0o755, exist_ok=True)
        size = spec.get("resources", {}).get("requests", {}).get("storage", "1Gi")
        pv = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER}},
            "spec": {
                "capacity": {"storage": size},
                "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Delete",
                "storageClassName": spec["storageClassName"],
                "volumeMode": spec.get("volumeMode", "Filesystem"),
                "local": {"path": path},
                "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": meta["namespace"],
                             "name": meta["name"], "uid": meta["uid"]},
                "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                    {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]}},
            },
        }
        status, body = api.call("POST", "/api/v1/persistentvolumes", pv)
        if status in (200, 201):
            log("provisioned", pvc=f"{meta['namespace']}/{meta['name']}", pv=name, size=size)
        elif status != 409:
            log("provisioning failed", pvc=f"{meta['namespace']}/{meta['name']}", status=status,
                reason=body.get("message", ""))
    for pv in pvs:
        ann = pv["metadata"].get("annotations", {})
        if ann.get("pv.kubernetes.io/provisioned-by") != PROVISIONER:
            continue
        if pv.get("status", {}).get("phase") != "Released" or pv["spec"].get("persistentVolumeReclaimPolicy") != "Delete":
            continue
        path = pv["spec"].get("local", {}).get("path", "")
        if os.path.dirname(path) == volume_root:
            shutil.rmtree(path, ignore_errors=True)
        status, _ = api.call("DELETE", "/api/v1/persistentvolumes/" + pv["metadata"]["name"])
        log("deleted released volume", pv=pv["metadata"]["name"], status=status)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--server", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--node", required=True)
    p.add_argument("--hosts-dir", required=True)
    p.add_argument("--volume-root", required=True)
    p.add_argument("--interval", type=float, default=1.0)
    a = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    api = Api(a.server, a.ca, a.cert, a.key)
    volume_root = os.path.realpath(a.volume_root)
    os.makedirs(volume_root, exist_ok=True)
    os.makedirs(a.hosts_dir, exist_ok=True)
    hosts = os.path.join(a.hosts_dir, "services")
    failing = False
    while True:
        try:
            records = dns_records(api.items("/api/v1/services"), api.items("/api/v1/endpoints"))
            if write_if_changed(hosts, records):
                log("dns records updated", records=records.count("\n"))
            provision(api, a.node, volume_root, api.items("/apis/storage.k8s.io/v1/storageclasses"),
                      api.items("/api/v1/persistentvolumeclaims"), api.items("/api/v1/persistentvolumes"))
            if failing:
                log("api server reachable again")
            failing = False
        except (OSError, RuntimeError, http.client.HTTPException, ValueError) as e:
            if not failing:
                log("poll failed; retrying", error=str(e))
            failing = True
        time.sleep(a.interval)


if __name__ == "__main__":
    main()
