#!/usr/bin/env python3
"""A real Prometheus scrapes a running stillontime-server, stillontime-operator,
Debian's prometheus-postgres-exporter and prometheus-redis-exporter and
itself; then every query of manifests/monitoring (dashboard panels and
variables, PrometheusRule alerts) and of the PrometheusRule the operator
renders for examples/production.yaml must hold up against it:

  - the whole expression is accepted and evaluated (status "success"; an
    alert's comparison may well be empty on a healthy system);
  - every vector selector in it (metric name and label matchers) returns at
    least one series. Series of kube-state-metrics, cAdvisor and the kubelet
    cannot exist here (no kubelet): those selectors are reported as
    "platform: not scraped here" and checked statically against
    test/monitoring/platform_metrics.py (name listed, labels documented,
    matchers fit an object the operator renders for the example).

Targets get the labels a Prometheus Operator gives a ServiceMonitor target
(job and service = the Service's name, namespace, pod, container, endpoint,
honorLabels as set), derived from the ServiceMonitors and Services of
manifests/ and of `stillontime-operator render`, not typed in here.

Without a kubelet or a Job controller, the test plays one part of them, as
the other e2e tests do: it marks the Job of an on-demand backup Complete
through the status subresource, so the operator exports its backup series.

Needs the control plane of the e2e fixture (STILLONTIME_CP_DIR), PostgreSQL
and Redis (scripts/services.sh), and the Debian packages prometheus,
prometheus-postgres-exporter and prometheus-redis-exporter.

Usage: live_monitoring.py --source-dir DIR --server BIN --operator BIN --work-dir DIR
"""
import argparse
import http.server
import json
import os
import random
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "monitoring"))
import platform_metrics  # noqa: E402  (the platform list shared with test/monitoring/metric_names.py)

WAIT_SECONDS = 60          # for the scrapes to land
GRAFANA_BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__range": "1h", "__range_s": "3600",
                    "__range_ms": "3600000", "__interval_ms": "15000"}
EXPORTERS = {"postgres-exporter": "/usr/bin/prometheus-postgres-exporter",
             "redis-exporter": "/usr/bin/prometheus-redis-exporter"}
# The exporters' own "can I reach my server" series (their `up` is 1 either way),
# by container (or plain job) name.
TARGET_HEALTH = {"postgres-exporter": "pg_up", "redis-exporter": "redis_up"}
SETTLE_SECONDS = 3         # once every selector has series: let a few more scrapes land


def log(msg):
    print("live-monitoring: %s" % msg, flush=True)


class Failure(Exception):
    pass


# ---------------------------------------------------------------- PromQL

_TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<dur>\d+(?:ms|s|m|h|d|w|y)(?:\d+(?:ms|s|m|h|d|w|y))*(?![\w.]))
  | (?P<num>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<ident>[a-zA-Z_:][a-zA-Z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=,(){}\[\]:@])
""", re.X)
_GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_BINARY_WORDS = {"and", "or", "unless", "bool", "atan2"}
_AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
                 "topk", "quantile"}


def tokenize(expr):
    out, pos = [], 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise Failure("cannot tokenize %r at %r" % (expr, expr[pos:pos + 20]))
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
    return out


def _unquote(text):
    if text[0] == "`":
        return text[1:-1]
    body, out, i = text[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append({"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}.get(nxt, "\\" + nxt))
            i += 2
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def _skip_balanced(toks, i, open_, close):
    """toks[i] is `open_`: the index just after its matching `close`."""
    depth = 0
    while i < len(toks):
        if toks[i][1] == open_:
            depth += 1
        elif toks[i][1] == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise Failure("unbalanced %s" % open_)


class Selector:
    def __init__(self, name, matchers):
        self.name = name            # None for a bare {...}
        self.matchers = matchers    # [(label, op, value)]

    def text(self):
        inner = ",".join("%s%s%s" % (l, op, json.dumps(v)) for l, op, v in self.matchers)
        if self.name is None:
            return "{%s}" % inner
        return self.name + ("{%s}" % inner if inner else "")


def _matchers(toks, i):
    """toks[i] is '{': (matchers, index after '}')."""
    out, i = [], i + 1
    while toks[i][1] != "}":
        if toks[i][1] == ",":
            i += 1
            continue
        label, op, value = toks[i], toks[i + 1], toks[i + 2]
        if label[0] != "ident" or op[1] not in ("=", "!=", "=~", "!~") or value[0] != "str":
            raise Failure("bad label matcher near %r" % " ".join(t[1] for t in toks[i:i + 3]))
        out.append((label[1], op[1], _unquote(value[1])))
        i += 3
    return out, i + 1


def selectors(expr):
    """Every vector selector of a PromQL expression, in order."""
    toks = tokenize(expr)
    found, i = [], 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else None
        if kind == "ident":
            word = text.lower()
            if word in _GROUPING:
                i = _skip_balanced(toks, i + 1, "(", ")") if nxt == "(" else i + 1
                continue
            if word == "offset":
                i += 3 if nxt == "-" else 2
                continue
            if word in _BINARY_WORDS or word in ("inf", "nan"):
                i += 1
                continue
            if nxt == "(" or (word in _AGGREGATIONS and nxt in ("by", "without")):
                i += 1       # a function or an aggregation
                continue
            if nxt == "{":
                matchers, i = _matchers(toks, i + 1)
            else:
                matchers, i = [], i + 1
            found.append(Selector(text, matchers))
            continue
        if text == "{":
            matchers, i = _matchers(toks, i)
            found.append(Selector(None, matchers))
            continue
        if text == "[":
            i = _skip_balanced(toks, i, "[", "]")
            continue
        i += 1
    return found


def substitute(expr, variables):
    def one(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in variables:
            return variables[name]
        if name in GRAFANA_BUILTINS:
            return GRAFANA_BUILTINS[name]
        raise Failure("unknown dashboard variable $%s in %r" % (name, expr))
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]", one, expr)


# ---------------------------------------------------------------- queries

class Query:
    def __init__(self, source, where, expr, label_values=None, regex=None, expect=None):
        self.source = source
        self.where = where
        self.expr = expr                  # variables substituted
        self.label_values = label_values  # a variable: label_values(<expr>, <label>)
        self.regex = regex
        self.expect = expect              # the value the test gives the variable


def _panels(panels):
    for p in panels:
        yield p
        yield from _panels(p.get("panels", []))


def dashboard_queries(path, variables):
    d = json.load(open(path))
    name = os.path.basename(path)
    out = []
    for p in _panels(d.get("panels", [])):
        for t in p.get("targets", []):
            if t.get("expr"):
                out.append(Query(name, "panel %r" % p.get("title"), substitute(t["expr"], variables)))
    for v in d.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        if isinstance(q, dict):
            q = q.get("query")
        m = re.match(r"^\s*label_values\((.*),\s*(\w+)\)\s*$", q or "")
        if not m:
            raise Failure("%s: variable %s: only label_values(selector, label) is understood: %r" % (
                name, v["name"], q))
        regex = v.get("regex") or None
        if regex:
            regex = re.match(r"^/(.*)/$", regex).group(1)
        out.append(Query(name, "variable $%s" % v["name"], substitute(m.group(1), variables),
                         label_values=m.group(2), regex=regex, expect=variables.get(v["name"])))
    return out


def rule_queries(doc, source):
    out = []
    for g in doc["spec"]["groups"]:
        for r in g["rules"]:
            kind = "alert" if "alert" in r else "record"
            out.append(Query(source, "%s %s" % (kind, r.get("alert") or r.get("record")), r["expr"]))
    return out


# ---------------------------------------------------------------- processes

class Processes:
    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.procs = []   # (name, Popen, log path)

    def start(self, name, argv, env=None):
        path = os.path.join(self.log_dir, name + ".log")
        out = open(path, "w")
        # setpriv --pdeathsig: the child dies with this driver even when it is
        # killed outright (a ctest timeout).
        p = subprocess.Popen(["setpriv", "--pdeathsig", "TERM", "--"] + argv, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, env=env)
        out.close()
        self.procs.append((name, p, path))
        return p

    def check_alive(self):
        for name, p, path in self.procs:
            if p.poll() is not None:
                raise Failure("%s exited with %s; log %s:\n%s" % (name, p.returncode, path, tail(path)))

    def stop_all(self):
        for name, p, _ in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        deadline = time.time() + 15
        for name, p, _ in reversed(self.procs):
            try:
                p.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                log("%s did not stop on SIGTERM; killing it" % name)
                p.kill()
                p.wait()
        self.procs = []


def tail(path, lines=25):
    try:
        return "".join(open(path, errors="replace").readlines()[-lines:])
    except OSError:
        return ""


_used_ports = set()


def free_port():
    # Below the kernel's ephemeral range, as scripts/services.sh does.
    for _ in range(500):
        port = random.randint(20000, 32000)
        if port in _used_ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _used_ports.add(port)
        return port
    raise Failure("no free port")


def http_call(url, method="GET", body=None, headers=None, timeout=10):
    """(status, body text); never raises for an HTTP status."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return -1, ""


def wait_http(url, what, procs, timeout=30, status=200):
    deadline = time.time() + timeout
    while time.time() < deadline:
        procs.check_alive()
        if http_call(url, timeout=2)[0] == status:
            return
        time.sleep(0.2)
    raise Failure("%s did not answer %d on %s within %ds" % (what, status, url, timeout))


def kubectl(*args, check=True):
    r = subprocess.run(["kubectl"] + list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise Failure("kubectl %s: %s" % (" ".join(args), (r.stderr or r.stdout).strip()))
    return r.stdout


# ---------------------------------------------------------------- the fake identity provider

class FakeProvider(http.server.ThreadingHTTPServer):
    """The OAuth token and userinfo endpoints stillontime-server calls at
    sign-in. Code "provider-down" makes the token endpoint fail (500): the
    server answers 502, a real 5xx for the error-ratio queries."""
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _ProviderHandler)
        self.base = "http://127.0.0.1:%d" % self.server_address[1]


class _ProviderHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        form = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
        fields = urllib.parse.parse_qs(form)
        if self.path != "/token":
            return self._reply(404, {"error": "not_found"})
        code = fields.get("code", [""])[0]
        if code == "provider-down":
            return self._reply(500, {"error": "server_error"})
        if code == "good-code" and fields.get("code_verifier"):
            return self._reply(200, {"access_token": "provider-token", "token_type": "Bearer"})
        return self._reply(400, {"error": "invalid_grant"})

    def do_GET(self):
        if self.path == "/userinfo" and self.headers.get("authorization") == "Bearer provider-token":
            return self._reply(200, {"sub": "monitoring-e2e", "email": "crew@example.com", "name": "Crew",
                                     "email_verified": True})
        return self._reply(404, {"error": "not_found"})


# ---------------------------------------------------------------- target labels

def _selects(selector, labels):
    """A Kubernetes label selector (matchLabels, matchExpressions) against labels."""
    for k, v in selector.get("matchLabels", {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions", []):
        key, op, values = e["key"], e["operator"], e.get("values", [])
        if (op == "In" and labels.get(key) not in values) or (op == "NotIn" and labels.get(key) in values) or \
                (op == "Exists" and key not in labels) or (op == "DoesNotExist" and key in labels):
            return False
    return True


def servicemonitor_targets(docs):
    """The targets the Prometheus Operator makes of the ServiceMonitors in
    docs: for every selected Service with the endpoint's port, the pod behind
    it (Deployment or StatefulSet) and the container serving the port, with
    the labels it gives such a target: job (the Service's name, or its
    jobLabel), namespace, service, endpoint, pod, container; honor_labels
    and path from the endpoint."""
    services = [d for d in docs if d.get("kind") == "Service"]
    workloads = [d for d in docs if d.get("kind") in ("Deployment", "StatefulSet")]
    out = []
    for sm in (d for d in docs if d.get("kind") == "ServiceMonitor"):
        namespaces = sm["spec"].get("namespaceSelector", {}).get("matchNames") or [sm["metadata"]["namespace"]]
        found = 0
        for svc in services:
            meta = svc["metadata"]
            if meta.get("namespace") not in namespaces or not _selects(sm["spec"]["selector"], meta.get("labels", {})):
                continue
            for ep in sm["spec"]["endpoints"]:
                port = next((p for p in svc["spec"]["ports"] if p.get("name") == ep["port"]), None)
                if port is None:
                    continue        # no such port: no target (a headless twin, say)
                target = port.get("targetPort", port["port"])
                for wl in workloads:
                    tmpl = wl["spec"]["template"]
                    if wl["metadata"].get("namespace") != meta.get("namespace") or \
                            not _selects({"matchLabels": svc["spec"].get("selector", {})},
                                         tmpl["metadata"].get("labels", {})):
                        continue
                    pod = wl["metadata"]["name"] + ("-0" if wl["kind"] == "StatefulSet" else "-" + pod_suffix())
                    for c in tmpl["spec"]["containers"]:
                        if any(target in (p.get("name"), p.get("containerPort")) for p in c.get("ports", [])):
                            found += 1
                            out.append({
                                "servicemonitor": sm["metadata"]["name"],
                                "job": meta.get("labels", {}).get(sm["spec"].get("jobLabel", ""), meta["name"]),
                                "honor_labels": bool(ep.get("honorLabels", False)), "path": ep.get("path", "/metrics"),
                                "labels": {"namespace": meta["namespace"], "service": meta["name"],
                                           "endpoint": ep["port"], "pod": pod, "container": c["name"]}})
        if not found:
            raise Failure("ServiceMonitor %s selects no Service port that a pod serves" % sm["metadata"]["name"])
    return out


def pod_suffix():
    """What a Deployment's pod name adds: the pod-template hash and five characters."""
    chars = "bcdfghjklmnpqrstvwxz2456789"
    return "%s-%s" % ("".join(random.choice(chars) for _ in range(10)), "".join(random.choice(chars) for _ in range(5)))


def load_yaml_docs(*paths):
    docs = []
    for p in paths:
        docs += [d for d in yaml.safe_load_all(open(p)) if d]
    return docs


# ---------------------------------------------------------------- Prometheus

class Prometheus:
    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port
        self.cache = {}

    def query(self, expr, cached=False):
        """(status, result list, error text)."""
        if cached and expr in self.cache:
            return self.cache[expr]
        url = self.base + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        code, body = http_call(url)
        try:
            doc = json.loads(body)
        except ValueError:
            return "error", [], "HTTP %d: %s" % (code, body[:200])
        result = doc.get("data", {}).get("result", []) if doc.get("status") == "success" else []
        if not isinstance(result, list):       # a scalar or string result
            result = [result]
        out = (doc.get("status"), result, doc.get("error", ""))
        if cached:
            self.cache[expr] = out
        return out


# ---------------------------------------------------------------- the test

class Row:
    def __init__(self, query, selector, check, series, problem=None):
        self.query, self.selector, self.check, self.series, self.problem = query, selector, check, series, problem


def evaluate(prom, queries, targets, known_objects, health):
    """(rows of the table, problems, target rows, whether waiting for more
    scrapes may help). known_objects: what platform_metrics.objects() makes of
    the objects StillOnTime creates."""
    prom.cache = {}
    rows, problems, target_rows = [], [], []
    waiting = False   # a problem that more scrapes may cure (static ones stay)
    for job in targets:
        values = []
        for expr in ['up{job="%s"}' % job, 'scrape_samples_scraped{job="%s"}' % job] + \
                (['%s{job="%s"}' % (health[job], job)] if job in health else []):
            _, result, _ = prom.query(expr)
            values.append(result[0]["value"][1] if result else "none")
        target_rows.append((job, values, health.get(job)))
        if values[0] != "1":
            waiting = True
            problems.append("target %s is not up (up=%s)" % (job, values[0]))
        if job in health and values[2] != "1":
            waiting = True
            problems.append("%s reaches no server (%s=%s)" % (job, health[job], values[2]))
    for q in queries:
        status, result, err = prom.query(q.expr, cached=True)
        q.status = "ok:%d" % len(result) if status == "success" else "ERROR"
        if status != "success":
            problems.append("%s %s: Prometheus refused the expression: %s\n    %s" % (q.source, q.where, err, q.expr))
        for sel in selectors(q.expr):
            if sel.name in platform_metrics.PLATFORM:
                issues, fits = platform_metrics.check_selector(sel.name, sel.matchers, known_objects)
                rows.append(Row(q, sel, "platform: not scraped here", "static:%d" % fits if not issues else "BAD",
                                "; ".join(issues) or None))
                problems += ["%s %s: %s" % (q.source, q.where, i) for i in issues]
                continue
            _, res, err = prom.query(sel.text(), cached=True)
            row = Row(q, sel, "live", str(len(res)))
            rows.append(row)
            if not res:
                row.problem = "no series" + (" (%s)" % err if err else "")
                waiting = True
                problems.append("%s %s: no series for %s" % (q.source, q.where, sel.text()))
                continue
            if q.label_values:
                values = sorted({s["metric"].get(q.label_values) for s in res} - {None})
                if q.regex:
                    values = sorted({m.group(1) if m.groups() else m.group(0)
                                     for m in (re.fullmatch(q.regex, v) for v in values) if m})
                if q.expect not in values:
                    row.problem = "variable resolves to %s, not %r" % (values, q.expect)
                    waiting = True
                    problems.append("%s %s: label_values(..., %s) gives %s, not %r" % (
                        q.source, q.where, q.label_values, values, q.expect))
    return rows, problems, target_rows, waiting


def print_targets(target_rows):
    print("%-30s  %-3s  %-7s  %s" % ("TARGET (job)", "UP", "SAMPLES", "EXPORTER HEALTH"))
    for job, values, health in target_rows:
        print("%-30s  %-3s  %-7s  %s" % (job, values[0], values[1], "%s=%s" % (health, values[2]) if health else ""))
    print()


def print_table(rows):
    head = ("SOURCE", "PANEL/ALERT", "CHECK", "SERIES", "EXPR", "SELECTOR")
    table = [(r.query.source, r.query.where, r.check, r.series, r.query.status,
              r.selector.text() + ("   <-- " + r.problem if r.problem else "")) for r in rows]
    widths = [max(len(x[i]) for x in table + [head]) for i in range(5)]
    fmt = "  ".join("%%-%ds" % w for w in widths) + "  %s"
    print(fmt % head)
    for row in table:
        print(fmt % row)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--server", required=True)
    ap.add_argument("--operator", required=True)
    ap.add_argument("--work-dir", required=True)
    args = ap.parse_args()
    root = os.path.abspath(args.source_dir)
    cp_dir = os.environ.get("STILLONTIME_CP_DIR")
    if not cp_dir or not os.path.exists(os.path.join(cp_dir, "kubeconfig")):
        raise Failure("no control plane: STILLONTIME_CP_DIR=%r (run through ctest, fixture control_plane)" % cp_dir)
    os.environ["KUBECONFIG"] = os.path.join(cp_dir, "kubeconfig")
    for tool in ["/usr/bin/prometheus"] + list(EXPORTERS.values()):
        if not os.access(tool, os.X_OK):
            raise Failure("%s missing: scripts/install-deps.sh installs it" % tool)

    work = os.path.abspath(args.work_dir)
    os.makedirs(work, exist_ok=True)
    for old in os.listdir(work):      # logs and TSDBs of an earlier run (one killed outright, too)
        if old == "logs" or old.startswith("prometheus-"):
            shutil.rmtree(os.path.join(work, old), ignore_errors=True)
    os.makedirs(os.path.join(work, "logs"))
    services_dir = os.path.join(work, "services")
    services_sh = os.path.join(root, "scripts", "services.sh")
    procs = Processes(os.path.join(work, "logs"))
    provider = FakeProvider()
    ns = "monitoring-" + "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(6))
    tsdb = tempfile.mkdtemp(prefix="prometheus-", dir=work)
    services_up = provider_thread = None
    namespace_created = False
    t0 = time.time()

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    try:
        # PostgreSQL and Redis (in the background while the cluster side starts).
        subprocess.run(["bash", services_sh, "down", "--dir", services_dir], capture_output=True)
        services_log = open(os.path.join(work, "logs", "services.log"), "w")
        services_up = subprocess.Popen(["bash", services_sh, "up", "--dir", services_dir], stdout=services_log,
                                       stderr=subprocess.STDOUT)
        provider_thread = threading.Thread(target=provider.serve_forever, daemon=True)
        provider_thread.start()

        # The cluster side: CRD, namespace, the user's Secret, the production example there.
        kubectl("apply", "--server-side", "--force-conflicts", "-f",
                os.path.join(root, "crds", "stillontime.app_stillontimes.yaml"))
        kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/stillontimes.stillontime.app")
        kubectl("create", "namespace", ns)
        namespace_created = True
        kubectl("create", "secret", "generic", "stillontime-external", "-n", ns,
                "--from-literal=GOOGLE_CLIENT_ID=id", "--from-literal=GOOGLE_CLIENT_SECRET=secret")
        cr = yaml.safe_load(open(os.path.join(root, "examples", "production.yaml")))
        cr["metadata"]["namespace"] = ns
        instance = cr["metadata"]["name"]
        cr_path = os.path.join(work, "cr.yaml")
        yaml.safe_dump(cr, open(cr_path, "w"), sort_keys=False)
        rendered = [d for d in yaml.safe_load_all(subprocess.run(
            [args.operator, "render", "-f", cr_path, "--api-versions", "latest"], check=True, capture_output=True,
            text=True).stdout) if d]

        ports = {name: free_port() for name in ("api", "metrics", "op_metrics", "op_probes", "prometheus",
                                                 "postgres-exporter", "redis-exporter")}
        procs.start("stillontime-operator", [
            args.operator, "run", "--kubeconfig", os.environ["KUBECONFIG"], "--namespaces", ns,
            "--leader-elect", "--leader-election-namespace", ns,
            "--metrics-bind-address", "127.0.0.1:%d" % ports["op_metrics"],
            "--health-probe-bind-address", "127.0.0.1:%d" % ports["op_probes"]])
        kubectl("apply", "-f", cr_path)

        if services_up.wait(timeout=300) != 0:
            raise Failure("scripts/services.sh up failed:\n" + tail(services_log.name))
        services_log.close()
        env = {}
        for line in open(os.path.join(services_dir, "env")):
            m = re.match(r"^export (\w+)='?(.*?)'?$", line.strip())
            if m:
                env[m.group(1)] = m.group(2)
        for name, port in ports.items():    # services.sh picked its ports on its own
            if name not in ("op_metrics", "op_probes") and str(port) in (env["PG_PORT"], env["REDIS_PORT"]):
                ports[name] = free_port()

        # stillontime-server, configured as the app tests do.
        server_env = dict(os.environ, **{
            "DATABASE_URL": env["DATABASE_URL"], "REDIS_URL": env["REDIS_URL"], "REDIS_PASSWORD": env["REDIS_PASSWORD"],
            "JWT_SECRET": os.urandom(24).hex(), "APP_ENV": "development", "BIND_ADDRESS": "127.0.0.1",
            "PORT": str(ports["api"]), "METRICS_PORT": str(ports["metrics"]),
            "FRONTEND_URL": "http://frontend.test:5173", "GOOGLE_CLIENT_ID": "monitoring-e2e",
            "GOOGLE_CLIENT_SECRET": "monitoring-e2e-secret", "GOOGLE_AUTH_URL": provider.base + "/authorize",
            "GOOGLE_TOKEN_URL": provider.base + "/token", "GOOGLE_USERINFO_URL": provider.base + "/userinfo",
            "RATE_LIMIT_MAX": "100000", "HEALTH_INTERVAL_MS": "500", "LOG_REQUESTS": "false"})
        procs.start("stillontime-server", [args.server], env=server_env)

        # The exporters, on the same PostgreSQL and Redis (secrets in the environment, not argv).
        pg_dsn = "postgresql://%s:%s@127.0.0.1:%s/stillontime?sslmode=disable" % (
            env["PG_USER"], urllib.parse.quote(env["PG_PASSWORD"]), env["PG_PORT"])
        procs.start("postgres-exporter", [EXPORTERS["postgres-exporter"],
                                          "--web.listen-address=127.0.0.1:%d" % ports["postgres-exporter"]],
                    env=dict(os.environ, DATA_SOURCE_NAME=pg_dsn))
        procs.start("redis-exporter", [EXPORTERS["redis-exporter"],
                                       "-web.listen-address", "127.0.0.1:%d" % ports["redis-exporter"]],
                    env=dict(os.environ, REDIS_ADDR=env["REDIS_URL"], REDIS_PASSWORD=env["REDIS_PASSWORD"]))

        # Prometheus: the targets with the labels their ServiceMonitors would give them.
        # Each container a ServiceMonitor points at is served by one process here.
        local = {"backend": ports["metrics"], "operator": ports["op_metrics"],
                 "postgres-exporter": ports["postgres-exporter"], "redis-exporter": ports["redis-exporter"]}
        sm_targets = servicemonitor_targets(load_yaml_docs(
            os.path.join(root, "manifests", "monitoring", "service_monitor_operator.yaml"),
            os.path.join(root, "manifests", "default", "metrics_service.yaml"),
            os.path.join(root, "manifests", "default", "deployment.yaml"))) + servicemonitor_targets(rendered)
        scrape, served = [], set()
        for t in sm_targets:
            container = t["labels"]["container"]
            if container not in local:
                raise Failure("ServiceMonitor %s points at container %s, which this test does not run" % (
                    t["servicemonitor"], container))
            if container in served:
                raise Failure("two ServiceMonitor targets for container %s" % container)
            served.add(container)
            scrape.append({"job_name": t["job"], "honor_labels": t["honor_labels"], "metrics_path": t["path"],
                           "static_configs": [{"targets": ["127.0.0.1:%d" % local[container]], "labels": t["labels"]}]})
            log("target %s (ServiceMonitor %s): %s" % (t["job"], t["servicemonitor"], ", ".join(
                "%s=%s" % kv for kv in sorted(t["labels"].items()))))
        for container in ("backend", "operator"):
            if container not in served:
                raise Failure("no ServiceMonitor selects the %s's metrics port" % container)
        # Exporters no ServiceMonitor selects (an operator that does not run
        # them as sidecars) are scraped as plain jobs: their series stay live-checked.
        for container in EXPORTERS:
            if container not in served:
                scrape.append({"job_name": container, "static_configs": [{
                    "targets": ["127.0.0.1:%d" % local[container]], "labels": {"namespace": ns}}]})
                log("target %s: no ServiceMonitor selects it; a plain job with namespace=%s" % (container, ns))
        health = {}
        for job in scrape:
            labels = job["static_configs"][0].get("labels", {})
            container = labels.get("container", job["job_name"])
            if container in TARGET_HEALTH:
                health[job["job_name"]] = TARGET_HEALTH[container]
        scrape.append({"job_name": "prometheus",
                       "static_configs": [{"targets": ["127.0.0.1:%d" % ports["prometheus"]]}]})
        config = {"global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
                  "scrape_configs": scrape}
        config_path = os.path.join(work, "prometheus.yml")
        yaml.safe_dump(config, open(config_path, "w"), sort_keys=False)
        procs.start("prometheus", ["/usr/bin/prometheus", "--config.file=" + config_path,
                                   "--storage.tsdb.path=" + tsdb, "--storage.tsdb.retention.time=1h",
                                   "--web.listen-address=127.0.0.1:%d" % ports["prometheus"], "--log.level=warn"])
        prom = Prometheus(ports["prometheus"])

        api = "http://127.0.0.1:%d" % ports["api"]
        wait_http(api + "/ready", "stillontime-server", procs)
        wait_http("http://127.0.0.1:%d/readyz" % ports["op_probes"], "stillontime-operator", procs)
        wait_http(prom.base + "/-/ready", "prometheus", procs)
        log("%s up in %.1fs: namespace %s, server :%d, operator :%d, prometheus :%d" % (
            ", ".join(p[0] for p in procs.procs), time.time() - t0, ns, ports["api"], ports["op_metrics"],
            ports["prometheus"]))

        requests = traffic(api)
        log("traffic: %d requests to the server" % requests)
        simulate_backup(ns, instance, procs)
        traffic_done = time.time()

        # Every query of the dashboards and rules.
        variables = {"namespace": ns, "instance": instance}
        queries = []
        monitoring = os.path.join(root, "manifests", "monitoring")
        for path in sorted(os.listdir(os.path.join(monitoring, "dashboards"))):
            if path.endswith(".json"):
                queries += dashboard_queries(os.path.join(monitoring, "dashboards", path), variables)
        for path in sorted(os.listdir(monitoring)):
            if path.endswith(".yaml"):
                for doc in load_yaml_docs(os.path.join(monitoring, path)):
                    if doc.get("kind") == "PrometheusRule":
                        queries += rule_queries(doc, path)
        operator_rules = [d for d in rendered if d.get("kind") == "PrometheusRule"]
        if not operator_rules:
            raise Failure("stillontime-operator render made no PrometheusRule for examples/production.yaml")
        for doc in operator_rules:
            queries += rule_queries(doc, "operator render (production)")

        # What kube-state-metrics, cAdvisor and the kubelet would describe: the
        # operator's own Deployment and the children it renders for the example.
        known_objects = platform_metrics.objects(
            rendered + load_yaml_docs(os.path.join(root, "manifests", "default", "deployment.yaml")))
        targets = [s["job_name"] for s in scrape]
        deadline = time.time() + WAIT_SECONDS
        while True:
            procs.check_alive()
            rows, problems, target_rows, waiting = evaluate(prom, queries, targets, known_objects, health)
            if not waiting or time.time() > deadline:
                break
            time.sleep(1)
        if not problems:
            # Enough samples for rate() over what the traffic did: the EXPR
            # column then shows what a dashboard would draw.
            time.sleep(SETTLE_SECONDS)
            rows, problems, target_rows, _ = evaluate(prom, queries, targets, known_objects, health)
        print_targets(target_rows)
        print_table(rows)
        live = [r for r in rows if r.check == "live"]
        platform = [r for r in rows if r.check != "live"]
        print()
        log("%d queries (%d accepted by Prometheus), %d selectors: %d live (%d with series), %d platform "
            "(not scraped here; %d statically ok); targets %s; %.1fs" % (
                len(queries), sum(1 for q in queries if q.status != "ERROR"), len(rows), len(live),
                sum(1 for r in live if not r.problem), len(platform),
                sum(1 for r in platform if not r.problem), ", ".join(targets), time.time() - t0))
        if problems:
            raise Failure("%d problem(s) (%.0fs after the traffic):\n  %s\nlogs: %s" % (
                len(problems), time.time() - traffic_done, "\n  ".join(problems), procs.log_dir))
        log("PASS")
        return 0
    finally:
        procs.stop_all()
        if provider_thread:
            provider.shutdown()
        provider.server_close()
        if namespace_created:
            kubectl("delete", "namespace", ns, "--wait=false", check=False)
        if services_up:
            try:
                services_up.wait(timeout=120)    # never stop what is still starting
            except subprocess.TimeoutExpired:
                services_up.kill()
            subprocess.run(["bash", services_sh, "down", "--dir", services_dir], capture_output=True)
        shutil.rmtree(tsdb, ignore_errors=True)


# ---------------------------------------------------------------- traffic and the backup Job

SHEET = ("PRODUCTION: Monitoring Night\nShooting Date: 01.06.2030\nCrew Call: 06:30\n"
         "Location: Old Brewery, Warsaw\nBase Location: Parking lot B\nScene Type: EXT/NIGHT\nScenes: 12, 14A\n")


def traffic(api):
    """A bounded mix of requests: health probes, a 401, a sign-in, a sign-in
    the provider fails (502), token refreshes, call-sheet imports (success,
    duplicate, invalid), route calculations, profile, schedules, calendar."""
    count = [0]

    def call(method, path, body=None, token=None, content_type=None, expect=None):
        headers = {}
        data = None
        if token:
            headers["authorization"] = "Bearer " + token
        if body is not None:
            if isinstance(body, str):
                data = body.encode()
                headers["content-type"] = content_type or "text/plain"
            else:
                data = json.dumps(body).encode()
                headers["content-type"] = "application/json"
        status, text = http_call(api + path, method, data, headers)
        count[0] += 1
        if expect is not None and status not in (expect if isinstance(expect, tuple) else (expect,)):
            raise Failure("%s %s answered %d, expected %s: %s" % (method, path, status, expect, text[:300]))
        try:
            return json.loads(text)
        except ValueError:
            return text

    def sign_in(code, expect):
        start = call("GET", "/api/auth/login", expect=200)
        return call("POST", "/api/auth/callback", {"code": code, "state": start["state"]}, expect=expect)

    for _ in range(100):
        call("GET", "/health/live", expect=200)
        call("GET", "/ready", expect=200)
    call("GET", "/health", expect=200)
    for _ in range(5):
        call("GET", "/api/schedules", expect=401)
    session = sign_in("good-code", 200)
    sign_in("provider-down", 502)
    refresh = session["refreshToken"]
    for _ in range(3):
        rotated = call("POST", "/api/auth/refresh", {"refreshToken": refresh}, expect=200)
        refresh = rotated["refreshToken"]
    token = rotated["accessToken"]
    imported = call("POST", "/api/schedules/import", SHEET, token, expect=201)
    call("POST", "/api/schedules/import", SHEET, token, expect=200)                         # duplicate
    call("POST", "/api/schedules/import", "Location: Somewhere\n", token, expect=422)       # invalid
    sid = imported["schedule"]["id"]
    call("POST", "/api/schedules/%s/route/recalculate" % sid,
         {"homeToOfficeMinutes": 40, "officeToLocationMinutes": 50}, token, expect=200)
    call("POST", "/api/route/calculate", {"date": "2030-01-01", "callTime": "06:30", "travelMinutes": 45}, token,
         expect=200)
    feed = call("POST", "/api/calendar/token", {}, token, expect=201)
    for _ in range(20):
        call("GET", "/api/schedules", token=token, expect=200)
        call("GET", "/api/schedules/" + sid, token=token, expect=200)
        call("GET", "/api/user/profile", token=token, expect=200)
        call("GET", "/api/calendar/events", token=token, expect=200)
    call("GET", feed["path"], expect=200)
    return count[0]


def simulate_backup(ns, instance, procs):
    """An on-demand backup: the operator makes the Job; the test, standing in
    for the Job controller, marks it Complete, so the operator exports
    stillontime_backup_last_success_timestamp_seconds."""
    deadline = time.time() + 30
    while "/%s-backend\n" % instance not in kubectl("get", "deployments", "-n", ns, "-o", "name", check=False):
        procs.check_alive()
        if time.time() > deadline:
            raise Failure("the operator made no Deployment in %s within 30s" % ns)
        time.sleep(0.3)
    kubectl("annotate", "--overwrite", "-n", ns, "stillontime/" + instance,
            "stillontime.app/backup-request=monitoring-e2e")
    job = ""
    while not job:
        procs.check_alive()
        if time.time() > deadline:
            raise Failure("the operator made no backup Job for the request within 30s")
        job = kubectl("get", "jobs", "-n", ns, "-l", "stillontime.app/trigger=request", "-o", "name",
                      check=False).strip()
        time.sleep(0.3)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    status = {"status": {"startTime": now, "completionTime": now, "succeeded": 1, "conditions": [
        {"type": "Complete", "status": "True", "lastProbeTime": now, "lastTransitionTime": now}]}}
    kubectl("patch", "-n", ns, job.splitlines()[0], "--subresource=status", "--type=merge", "-p", json.dumps(status))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Failure as e:
        log("FAIL: %s" % e)
        sys.exit(1)
