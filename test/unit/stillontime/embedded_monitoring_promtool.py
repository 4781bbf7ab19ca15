#!/usr/bin/env python3
"""The embedded Prometheus's files under promtool (CTest embedded_monitoring_promtool,
label `monitoring`).

Renders an example with spec.monitoring.embedded (`stillontime-operator render`),
lays the ConfigMaps out in a temporary directory exactly as the Prometheus
Deployment's projected volume lays them out in the pod (so the config's relative
`rule_files` find the rule file as they do there), then runs
  promtool check config  <dir>/prometheus.yml   (which also checks the rule files it finds)
  promtool check rules   each rule file
and `amtool check-config` on the Alertmanager configuration.

Debian's promtool is built without Kubernetes service discovery (its
prometheus package removes that plugin), so it refuses `kubernetes_sd_configs`.
When, and only when, that is promtool's complaint, the script checks those
blocks itself (role endpoints, this namespace only, nothing else), replaces each
with a static target, says so on stdout, and runs promtool on the rest; an
upstream promtool checks the file as rendered.

Usage: embedded_monitoring_promtool.py OPERATOR_BINARY EXAMPLE.yaml
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

NO_K8S_SD = "field kubernetes_sd_configs not found"


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run(args):
    p = subprocess.run(args, capture_output=True, text=True)
    out = p.stdout + p.stderr
    print("$ " + " ".join(args) + "\n" + out.rstrip())
    return p.returncode, out


def lay_out_volume(volume, config_maps, root):
    """Writes the files a configMap or projected volume shows in the pod under root."""
    sources = volume["projected"]["sources"] if "projected" in volume else [{"configMap": volume["configMap"]}]
    for source in sources:
        cm = config_maps[source["configMap"]["name"]]
        items = source["configMap"].get("items") or [{"key": k, "path": k} for k in cm["data"]]
        for item in items:
            path = os.path.join(root, item["path"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(cm["data"][item["key"]])


def mounted_file(container, volumes, config_maps, flag, root):
    """The file a container's --flag=PATH names, laid out under root; its path there."""
    arg = next((a for a in container["args"] if a.startswith(flag + "=")), None)
    if arg is None:
        fail("%s has no %s" % (container["name"], flag))
    path = arg.split("=", 1)[1]
    for m in container["volumeMounts"]:
        if path.startswith(m["mountPath"].rstrip("/") + "/"):
            lay_out_volume(volumes[m["name"]], config_maps, root)
            return os.path.join(root, os.path.relpath(path, m["mountPath"]))
    fail("%s: %s is on no mounted volume" % (container["name"], path))


def check_kubernetes_sd(config, namespace):
    """The fields Debian's promtool cannot check: each block is role endpoints in namespace only."""
    count = 0
    for job in config["scrape_configs"]:
        for sd in job.get("kubernetes_sd_configs", []):
            count += 1
            if sd != {"role": "endpoints", "namespaces": {"names": [namespace]}}:
                fail("job %s: kubernetes_sd_configs %s is not {role: endpoints, namespaces: {names: [%s]}}"
                     % (job["job_name"], json.dumps(sd), namespace))
            if not any(r.get("action") == "keep" for r in job.get("relabel_configs", [])):
                fail("job %s discovers every endpoint of the namespace and keeps them all" % job["job_name"])
    return count


def main():
    operator, example = sys.argv[1], sys.argv[2]
    if not shutil.which("promtool"):
        fail("promtool missing: install the Debian package prometheus")
    rendered = subprocess.run([operator, "render", "-f", example, "--api-versions", "latest"],
                              check=True, capture_output=True, text=True).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    config_maps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}

    def deployment(component):
        found = [d for d in docs if d["kind"] == "Deployment"
                 and d["metadata"]["labels"].get("app.kubernetes.io/component") == component]
        if len(found) != 1:
            fail("expected one %s Deployment in the rendering of %s, found %d" % (component, example, len(found)))
        return found[0]

    prometheus = deployment("prometheus")
    namespace = prometheus["metadata"]["namespace"]
    pod = prometheus["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    work = tempfile.mkdtemp(prefix="embedded-promtool.")
    try:
        config_path = mounted_file(pod["containers"][0], volumes, config_maps, "--config.file",
                                   os.path.join(work, "prometheus"))
        config = yaml.safe_load(open(config_path))
        rule_files = []
        for pattern in config.get("rule_files", []):
            if os.path.isabs(pattern):
                fail("rule_files entry %s is absolute: the check could not see the file the pod loads" % pattern)
            base = os.path.join(os.path.dirname(config_path), os.path.dirname(pattern))
            if os.path.isdir(base):
                rule_files += sorted(os.path.join(base, f) for f in os.listdir(base) if f.endswith(".yml"))
        if not rule_files:
            fail("the rule_files of the config match no file of the mounted volume")

        code, out = run(["promtool", "check", "config", config_path])
        if code != 0 and NO_K8S_SD in out:
            sd_blocks = check_kubernetes_sd(config, namespace)
            print("NOTE: this promtool has no Kubernetes service discovery (Debian builds it without); "
                  "checked the %d kubernetes_sd_configs blocks here and give promtool a static target "
                  "in their place for the rest of the file." % sd_blocks)
            for job in config["scrape_configs"]:
                if job.pop("kubernetes_sd_configs", None) is not None:
                    job["static_configs"] = [{"targets": ["sd-target.invalid:9090"]}]
            checked = os.path.join(os.path.dirname(config_path), "prometheus.static-sd.yml")
            with open(checked, "w") as f:
                yaml.safe_dump(config, f, sort_keys=False)
            code, out = run(["promtool", "check", "config", checked])
        if code != 0:
            fail("promtool check config")
        if "SUCCESS: %d rule files found" % len(rule_files) not in out:
            fail("promtool did not load the %d rule file(s) the config names" % len(rule_files))

        code, out = run(["promtool", "check", "rules"] + rule_files)
        if code != 0:
            fail("promtool check rules")

        alertmanager = deployment("alertmanager")
        am_pod = alertmanager["spec"]["template"]["spec"]
        am_config = mounted_file(am_pod["containers"][0], {v["name"]: v for v in am_pod["volumes"]}, config_maps,
                                 "--config.file", os.path.join(work, "alertmanager"))
        # amtool comes with Debian's prometheus-alertmanager (scripts/install-deps.sh).
        code, _ = run(["amtool", "check-config", am_config])
        if code != 0:
            fail("amtool check-config")
    finally:
        shutil.rmtree(work)
    print("ok: the embedded Prometheus configuration and its rules pass promtool")
    return 0


if __name__ == "__main__":
    sys.exit(main())
