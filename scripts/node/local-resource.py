#!/usr/bin/env python3
"""Prints a StillOnTime resource with the images that scripts/images.sh builds
from Debian's packages (PostgreSQL, Redis, the exporters, Prometheus,
Alertmanager), for the one-node cluster that cannot pull the upstream ones.
On a real cluster the same resource runs the default images.

    local-resource.py FILE [NAMESPACE] [PYTHON]   (PYTHON edits `doc` further)
"""
import sys

import yaml

doc = yaml.safe_load(open(sys.argv[1]))
if len(sys.argv) > 2 and sys.argv[2]:
    doc["metadata"]["namespace"] = sys.argv[2]
spec = doc["spec"]
spec.setdefault("postgres", {})["image"] = "localhost/stillontime/postgres:15"
spec.setdefault("redis", {})["image"] = "localhost/stillontime/redis:7"
spec.setdefault("monitoring", {})["images"] = {
    "postgresExporter": "localhost/stillontime/postgres-exporter:0.11",
    "redisExporter": "localhost/stillontime/redis-exporter:1.45",
    "prometheus": "localhost/stillontime/prometheus:2.42",
    "alertmanager": "localhost/stillontime/alertmanager:0.25",
}
if len(sys.argv) > 3:
    exec(sys.argv[3])
print(yaml.safe_dump(doc))
