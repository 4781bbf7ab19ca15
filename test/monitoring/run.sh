#!/usr/bin/env bash
# promtool over manifests/monitoring: `check rules` on the rule groups of every
# PrometheusRule (their `spec` is a plain Prometheus rule file, extracted here),
# then `promtool test rules` with the tests of this directory. The tests get the
# rules without annotations (promtool would otherwise compare every rendered
# summary); `check rules` above validates the annotation templates.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/promtool.XXXXXX")
trap 'rm -rf "$work"' EXIT

command -v promtool >/dev/null || {
  echo "promtool missing: install the Debian package prometheus" >&2
  exit 1
}
for name in application operator; do
  python3 - "$root/manifests/monitoring/prometheus_rule_$name.yaml" "$work/$name.full.yaml" "$work/$name.rules.yaml" <<'PY'
import sys, yaml
rule = yaml.safe_load(open(sys.argv[1]))
assert rule["kind"] == "PrometheusRule", sys.argv[1]
yaml.safe_dump(rule["spec"], open(sys.argv[2], "w"), sort_keys=False)
for group in rule["spec"]["groups"]:
    for r in group["rules"]:
        r.pop("annotations", None)
yaml.safe_dump(rule["spec"], open(sys.argv[3], "w"), sort_keys=False)
PY
  promtool check rules "$work/$name.full.yaml"
  cp "$here/${name}_test.yaml" "$work/"
done
cd "$work"
promtool test rules application_test.yaml operator_test.yaml

# Every alert of the rules has a test that shows it firing and one that does not.
python3 - "$work" <<'PY'
import sys, yaml, os
work = sys.argv[1]
missing = []
for name in ("application", "operator"):
    rules = yaml.safe_load(open(os.path.join(work, name + ".rules.yaml")))
    tests = yaml.safe_load(open(os.path.join(work, name + "_test.yaml")))
    firing, quiet = set(), set()
    for t in tests["tests"]:
        for a in t.get("alert_rule_test", []):
            (firing if a.get("exp_alerts") else quiet).add(a["alertname"])
    for g in rules["groups"]:
        for r in g["rules"]:
            if "alert" in r:
                if r["alert"] not in firing: missing.append(r["alert"] + " (never shown firing)")
                if r["alert"] not in quiet: missing.append(r["alert"] + " (never shown quiet)")
if missing:
    sys.exit("alerts without a test:\n  " + "\n  ".join(missing))
print("every alert is shown firing and not firing")
PY
