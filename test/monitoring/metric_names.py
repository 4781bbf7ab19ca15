#!/usr/bin/env python3
"""Every metric name that a dashboard panel, a dashboard variable or an alert
rule queries must be one that something we run exports. A static check (no
Prometheus here):

  exported by us   names registered in the source with prometheus-cpp
                   (`.Name("...")` in app/ and operator/) and the process_*
                   series app/service/metrics.cpp writes by hand ("# TYPE x");
                   histograms also give x_bucket, x_sum and x_count;
  exported by the  kube-state-metrics v2, cAdvisor and kubelet volume names the
  platform         infrastructure panels use, and Prometheus's own `up`
                   (platform_metrics.py, checked against their upstream
                   documentation; test/e2e/monitoring uses the same list).

Checked: manifests/monitoring/dashboards/*.json, the PrometheusRules of
manifests/monitoring, and (given the operator binary) the PrometheusRule that
`stillontime-operator render --api-versions latest` makes for each example.
Usage: metric_names.py REPO_ROOT [OPERATOR_BINARY]
"""
import glob
import json
import os
import re
import subprocess
import sys

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import platform_metrics  # noqa: E402  (the list shared with test/e2e/monitoring)

PLATFORM = set(platform_metrics.PLATFORM) | set(platform_metrics.PROMETHEUS)
# Names promised by work in flight: reported as pending, not as errors, until
# the source registers them. Keep empty when nothing is in flight.
PENDING = set()

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset", "and", "or",
            "unless", "inf", "nan", "atan2"}


def exported(root):
    names = set()
    for path in glob.glob(os.path.join(root, "app", "**", "*.cpp"), recursive=True) + \
            glob.glob(os.path.join(root, "operator", "**", "*.cpp"), recursive=True):
        text = open(path, encoding="utf-8").read()
        for m in re.finditer(r'Build(Counter|Gauge|Histogram|Summary)\(\)\s*\.Name\("([a-zA-Z_:][a-zA-Z0-9_:]*)"\)', text):
            kind, name = m.group(1), m.group(2)
            names.add(name)
            if kind in ("Histogram", "Summary"):
                names.update({name + "_sum", name + "_count"})
                if kind == "Histogram":
                    names.add(name + "_bucket")
        for m in re.finditer(r'# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) ', text):
            names.add(m.group(1))
    return names


def metric_names(expr):
    """Metric names in a PromQL expression (Grafana variables allowed)."""
    e = re.sub(r'\$\{?\w+\}?', "x", expr)                     # Grafana variables
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', e)                   # string literals
    e = re.sub(r"\{[^}]*\}", "", e)                            # label matchers
    e = re.sub(r"\[[^\]]*\]", "", e)                           # ranges
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?", e):
        word, call = m.group(1), m.group(2)
        if call or word in KEYWORDS:
            continue
        names.add(word)
    return names


def dashboard_queries(path):
    d = json.load(open(path))
    for p in d.get("panels", []):
        for t in p.get("targets", []):
            yield "%s panel %r" % (os.path.basename(path), p.get("title")), t["expr"]
    for v in d.get("templating", {}).get("list", []):
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        if v.get("type") == "query" and q:
            m = re.match(r"label_values\((.*),\s*\w+\)\s*$", q)
            yield "%s variable %s" % (os.path.basename(path), v["name"]), m.group(1) if m else q


def rule_queries(doc, where):
    for g in doc["spec"]["groups"]:
        for r in g["rules"]:
            yield "%s %s" % (where, r.get("alert") or r.get("record")), r["expr"]


def main():
    root = sys.argv[1]
    ours = exported(root)
    queries = []
    dashboards = sorted(glob.glob(os.path.join(root, "manifests", "monitoring", "dashboards", "*.json")))
    assert len(dashboards) >= 4, dashboards
    for path in dashboards:
        queries += list(dashboard_queries(path))
    for path in sorted(glob.glob(os.path.join(root, "manifests", "monitoring", "*.yaml"))):
        for doc in yaml.safe_load_all(open(path)):
            if doc and doc.get("kind") == "PrometheusRule":
                queries += list(rule_queries(doc, os.path.basename(path)))
    if len(sys.argv) > 2:
        for example in ("staging", "production"):
            out = subprocess.run([sys.argv[2], "render", "-f", os.path.join(root, "examples", example + ".yaml"),
                                  "--api-versions", "latest"], check=True, capture_output=True, text=True).stdout
            rules = [d for d in yaml.safe_load_all(out) if d and d.get("kind") == "PrometheusRule"]
            for doc in rules:
                queries += list(rule_queries(doc, "operator-built rule (%s)" % example))
    bad, pending, used = [], set(), set()
    for where, expr in queries:
        for name in metric_names(expr):
            used.add(name)
            if name in ours or name in PLATFORM:
                continue
            if name in PENDING:
                pending.add(name)
                continue
            bad.append("%s: %s" % (where, name))
    print("checked %d queries, %d metric names (%d ours)" % (len(queries), len(used), len(used & ours)))
    for name in sorted(pending):
        print("pending (backup work has not registered it yet): %s" % name)
    if bad:
        print("queries of metrics nothing exports:\n  " + "\n  ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
