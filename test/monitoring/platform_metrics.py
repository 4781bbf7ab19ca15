"""Series that the dashboards and alert rules query but that StillOnTime does
not export: the one place that lists them, shared by the static name check
(metric_names.py) and the live check against a real Prometheus
(test/e2e/monitoring/live_monitoring.py).

PROMETHEUS: made by Prometheus itself for every target; the live test
queries them.

PLATFORM: exported by kube-state-metrics v2, the kubelet's cAdvisor endpoint
(/metrics/cadvisor) and the kubelet itself. None of them can run here (no
kubelet), so the live test checks these statically (check_selector):
  - the name is listed here;
  - every label a query matches on is one the exporter documents ("labels",
    from the upstream docs: kube-state-metrics docs/*-metrics.md, cAdvisor
    docs/storage/prometheus.md, the kubelet's volume stats collector) or one
    of TARGET_LABELS that every scrape adds;
  - an equality matcher on a label with a closed set of values ("values")
    uses one of them;
  - given the Kubernetes objects StillOnTime makes (objects()), the matchers
    on the object's labels (namespace, pod, container, deployment, ...) fit
    at least one of them: the series the exporter would export for it.
"""
import random
import re

PROMETHEUS = {
    "up": "Prometheus: 1 when the last scrape of the target succeeded",
}

# Labels Prometheus adds to every series of a target.
TARGET_LABELS = {"job", "instance"}

_KSM = "kube-state-metrics v2"
_CADVISOR = "cAdvisor (kubelet /metrics/cadvisor)"
_KUBELET = "kubelet"
_CADVISOR_LABELS = ["container", "id", "image", "name", "namespace", "pod"]

# "object": the kind of object one series describes (see objects()).
PLATFORM = {
    "kube_pod_status_phase": {
        "source": _KSM, "object": "pod", "labels": ["namespace", "pod", "uid", "phase"],
        "values": {"phase": ["Pending", "Running", "Succeeded", "Failed", "Unknown"]}},
    "kube_pod_container_status_restarts_total": {
        "source": _KSM, "object": "container", "labels": ["namespace", "pod", "uid", "container"]},
    "kube_pod_info": {
        "source": _KSM, "object": "pod",
        "labels": ["namespace", "pod", "uid", "host_ip", "pod_ip", "node", "created_by_kind", "created_by_name",
                   "priority_class", "host_network"]},
    "kube_pod_container_resource_limits": {
        "source": _KSM, "object": "container",
        "labels": ["namespace", "pod", "uid", "container", "node", "resource", "unit"]},
    "kube_deployment_status_replicas_available": {
        "source": _KSM, "object": "deployment", "labels": ["namespace", "deployment"]},
    "kube_deployment_spec_replicas": {
        "source": _KSM, "object": "deployment", "labels": ["namespace", "deployment"]},
    "kube_statefulset_status_replicas_ready": {
        "source": _KSM, "object": "statefulset", "labels": ["namespace", "statefulset"]},
    "kube_horizontalpodautoscaler_status_current_replicas": {
        "source": _KSM, "object": "horizontalpodautoscaler", "labels": ["namespace", "horizontalpodautoscaler"]},
    "kube_horizontalpodautoscaler_spec_max_replicas": {
        "source": _KSM, "object": "horizontalpodautoscaler", "labels": ["namespace", "horizontalpodautoscaler"]},
    "container_cpu_usage_seconds_total": {
        "source": _CADVISOR, "object": "container", "labels": _CADVISOR_LABELS + ["cpu"]},
    "container_memory_working_set_bytes": {
        "source": _CADVISOR, "object": "container", "labels": _CADVISOR_LABELS},
    # Network counters are per pod (the pod's sandbox), not per container.
    "container_network_receive_bytes_total": {
        "source": _CADVISOR, "object": "pod", "labels": _CADVISOR_LABELS + ["interface"]},
    "container_network_transmit_bytes_total": {
        "source": _CADVISOR, "object": "pod", "labels": _CADVISOR_LABELS + ["interface"]},
    "kubelet_volume_stats_used_bytes": {
        "source": _KUBELET, "object": "persistentvolumeclaim", "labels": ["namespace", "persistentvolumeclaim"]},
    "kubelet_volume_stats_capacity_bytes": {
        "source": _KUBELET, "object": "persistentvolumeclaim", "labels": ["namespace", "persistentvolumeclaim"]},
}


def _suffix(n):
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


def objects(docs):
    """The label sets the exporters above would give the objects among `docs`
    (Kubernetes manifests): {"object": kind, <its labels>}. Pods get the
    names their controllers give them (Deployment: name-hash-xxxxx,
    StatefulSet: name-0.., CronJob: name-<minute>-xxxxx), StatefulSet claims
    template-name-ordinal."""
    out = []
    for d in docs:
        kind, meta = d.get("kind"), d.get("metadata", {})
        name, ns = meta.get("name"), meta.get("namespace", "default")
        if kind in ("Deployment", "StatefulSet", "CronJob"):
            spec = d["spec"]
            template = spec["jobTemplate"]["spec"]["template"] if kind == "CronJob" else spec["template"]
            replicas = spec.get("replicas", 1) if kind == "StatefulSet" else 1
            for i in range(replicas):
                pod = {"Deployment": "%s-%s-%s" % (name, _suffix(10), _suffix(5)),
                       "StatefulSet": "%s-%d" % (name, i),
                       "CronJob": "%s-%d-%s" % (name, 28000000 + i, _suffix(5))}[kind]
                out.append({"object": "pod", "namespace": ns, "pod": pod})
                for c in template["spec"]["containers"]:
                    out.append({"object": "container", "namespace": ns, "pod": pod, "container": c["name"]})
                for t in spec.get("volumeClaimTemplates", []):
                    out.append({"object": "persistentvolumeclaim", "namespace": ns,
                                "persistentvolumeclaim": "%s-%s-%d" % (t["metadata"]["name"], name, i)})
            if kind in ("Deployment", "StatefulSet"):
                out.append({"object": kind.lower(), "namespace": ns, kind.lower(): name})
        elif kind == "HorizontalPodAutoscaler":
            out.append({"object": "horizontalpodautoscaler", "namespace": ns, "horizontalpodautoscaler": name})
        elif kind == "PersistentVolumeClaim":
            out.append({"object": "persistentvolumeclaim", "namespace": ns, "persistentvolumeclaim": name})
    return out


def _matches(op, value, actual):
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    hit = re.fullmatch(value, actual) is not None
    return hit if op == "=~" else not hit


def check_selector(name, matchers, known_objects=None):
    """(problems, number of known objects the selector fits or None) for a
    selector on a PLATFORM metric. matchers: (label, op, value) tuples."""
    spec = PLATFORM.get(name)
    if spec is None:
        return ["%s is not a known platform metric" % name], None
    problems = []
    allowed = set(spec["labels"]) | TARGET_LABELS
    for label, op, value in matchers:
        if label == "__name__":
            continue
        if label not in allowed:
            problems.append("%s has no label %s (%s documents: %s)" % (
                name, label, spec["source"], ", ".join(spec["labels"])))
            continue
        values = spec.get("values", {}).get(label)
        if values and op == "=" and value not in values:
            problems.append("%s: %s=%r is not one of %s" % (name, label, value, ", ".join(values)))
    if known_objects is None:
        return problems, None
    fits = 0
    for obj in known_objects:
        if obj["object"] != spec["object"]:
            continue
        if all(_matches(op, value, obj[label]) for label, op, value in matchers if label in obj and label != "object"):
            fits += 1
    if not fits:
        problems.append("%s: no %s that StillOnTime makes fits %s" % (
            name, spec["object"], ",".join("%s%s%r" % m for m in matchers)))
    return problems, fits
