#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer targets into test/fuzz/corpus/<target>/.

Seeds are small, readable inputs that reach each parser's main paths; the
fuzzers mutate from there. Sources: examples/ and examples/invalid/ (the
resource), the call sheet of the server's unit tests, watch events and list
pages as the API server writes them, and JWTs signed with the fuzz targets'
key. The PDF seed comes from test/app/pdf_fixture.h through the fuzz_seed_pdf
tool (scripts/fuzz.sh builds it). No key material is committed: scripts/fuzz.sh
adds a kubeconfig with a fresh throw-away certificate at run time.

Run from anywhere: python3 test/fuzz/make_seeds.py
"""
import base64
import hashlib
import hmac
import json
import os
import pathlib
import shutil

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "test" / "fuzz" / "corpus"
SECRET = b"0123456789abcdef0123456789abcdef"   # the key in fuzz_jwt.cpp and fuzz_http.cpp


def write(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)


def spec_seeds():
    for path in sorted((ROOT / "examples").glob("*.yaml")) + sorted((ROOT / "examples" / "invalid").glob("*.yaml")):
        prefix = "invalid-" if path.parent.name == "invalid" else ""
        text = path.read_text()
        write("fuzz_spec", prefix + path.name, text)
        for i, doc in enumerate(yaml.safe_load_all(text)):
            if isinstance(doc, dict) and doc.get("kind") == "StillOnTime":
                write("fuzz_spec", f"{prefix}{path.stem}-{i}.json", json.dumps(doc, indent=1))
    write("fuzz_spec", "minimal.yaml",
          "apiVersion: stillontime.app/v1alpha1\nkind: StillOnTime\nmetadata: {name: a, namespace: b}\n"
          "spec: {environment: development, version: '1'}\n")
    write("fuzz_spec", "wrong-types.yaml",
          "apiVersion: stillontime.app/v1alpha1\nkind: StillOnTime\nmetadata: {name: [x], namespace: 5}\n"
          "spec: {environment: 7, version: 1.5, backend: {replicas: '3', env: [{name: 1}]}, backup: {schedule: 5}}\n")
    write("fuzz_spec", "not-a-resource.yaml", "--- 5\n--- [1, 2]\n--- {kind: 7}\n--- {kind: StillOnTime}\n")


def cron_seeds():
    prefix = b"\x00\x10\x20\x30"
    for i, s in enumerate(["0 2 * * *", "@daily", "@hourly", "*/15 0-6 1,15 JAN-JUN MON-FRI",
                           "0 0 29 2 *", "30 4 31 * SUN", "5-59/10 * * * 1-5", "0 0 ? * 7", "* * * * *",
                           "0 0 1 1 *", "0 24 * * *"]):
        write("fuzz_cron", f"schedule-{i}", prefix + s.encode())


WATCH_EVENTS = [
    {"type": "ADDED", "object": {"kind": "ConfigMap", "apiVersion": "v1",
                                 "metadata": {"name": "a", "namespace": "ns", "resourceVersion": "5",
                                              "labels": {"app.kubernetes.io/name": "stillontime"},
                                              "managedFields": [{"manager": "x"}]},
                                 "data": {"k": "v"}}},
    {"type": "MODIFIED", "object": {"metadata": {"name": "a", "namespace": "ns", "resourceVersion": "6"},
                                    "data": {"k": "w"}}},
    {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "9"}}},
    {"type": "DELETED", "object": {"metadata": {"name": "a", "namespace": "ns", "resourceVersion": "10"}}},
    {"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired",
                                 "message": "too old resource version: 1 (50)"}},
]


def watch_seeds():
    lines = [json.dumps(e) for e in WATCH_EVENTS]
    write("fuzz_watch", "stream", b"\x05" + ("\n".join(lines) + "\n").encode())
    write("fuzz_watch", "crlf-partial", b"\x01" + ("\r\n".join(lines[:2]) + "\r\n" + lines[2][:20]).encode())
    write("fuzz_watch", "bad-line", b"\x02" + (lines[0] + "\nnot json\n").encode())


def list_seeds():
    page1 = {"kind": "ConfigMapList", "apiVersion": "v1",
             "metadata": {"resourceVersion": "100", "continue": "tok"},
             "items": [{"metadata": {"name": "a", "namespace": "ns", "resourceVersion": "90",
                                     "labels": {"x": "y"}}, "data": {"k": "v"}}]}
    page2 = {"kind": "ConfigMapList", "apiVersion": "v1", "metadata": {"resourceVersion": "101"},
             "items": [{"metadata": {"name": "b", "namespace": "ns", "resourceVersion": "91"}}]}
    api = {"kind": "APIVersions", "versions": ["v1"]}
    apis = {"kind": "APIGroupList", "groups": [{"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
                                                "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]}
    resources = {"kind": "APIResourceList", "groupVersion": "apps/v1",
                 "resources": [{"name": "deployments", "kind": "Deployment", "namespaced": True,
                                "verbs": ["get", "list", "watch"]}]}
    gone = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired", "code": 410,
            "message": "too old"}
    stream = "\n".join(json.dumps(e) for e in WATCH_EVENTS[:4]) + "\n"
    answers = [json.dumps(page1), json.dumps(page2), json.dumps(api), json.dumps(apis), json.dumps(resources),
               "200\n" + stream, "410\n" + json.dumps(gone)]
    write("fuzz_kube_list", "informer", b"\x01" + "\n---\n".join(answers).encode())
    write("fuzz_kube_list", "discovery", b"\x00" + "\n---\n".join([json.dumps(api), json.dumps(apis), json.dumps(resources)]).encode())
    write("fuzz_kube_list", "errors", b"\x01" + "\n---\n".join(["403\n" + json.dumps({"kind": "Status", "code": 403, "reason": "Forbidden"}),
                                                                 "500\nplain text", "200\nnot json"]).encode())


def kubeconfig_seeds():
    base = ("apiVersion: v1\nkind: Config\ncurrent-context: ctx\n"
            "clusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:6443/\n{cluster}"
            "contexts:\n- name: ctx\n  context:\n    cluster: c1\n    user: u1\n"
            "- name: other\n  context:\n    cluster: c1\n    user: u2\n"
            "users:\n- name: u1\n  user:\n{user}- name: u2\n  user:\n    token: second\n")
    write("fuzz_kubeconfig", "token", base.format(cluster="", user="    token: abc123\n"))
    write("fuzz_kubeconfig", "token-file", base.format(cluster="    certificate-authority: ca.crt\n",
                                                       user="    tokenFile: token\n"))
    not_pem = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").decode()
    write("fuzz_kubeconfig", "bad-pem", base.format(cluster=f"    certificate-authority-data: {not_pem}\n",
                                                    user=f"    client-certificate-data: {not_pem}\n"
                                                         f"    client-key-data: {not_pem}\n"))
    write("fuzz_kubeconfig", "insecure", base.format(cluster="    insecure-skip-tls-verify: true\n", user="    token: t\n"))
    write("fuzz_kubeconfig", "exec", base.format(cluster="", user="    exec: {command: x}\n"))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(header, payload):
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    sig = hmac.new(SECRET, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(sig)


def jwt_seeds():
    claims = {"sub": "0b5e1a3c-1111-4222-8333-944455566677", "email": "crew@example.com", "role": "user",
              "jti": "abc", "iat": 1700000000, "exp": 1700003600, "iss": "stillontime", "aud": "stillontime-api",
              "typ": "access"}
    hs = {"alg": "HS256", "typ": "JWT"}
    write("fuzz_jwt", "valid", b"\x00" + sign(hs, claims).encode())
    write("fuzz_jwt", "alg-none", b"\x00" + (b64url(b'{"alg":"none"}') + "." + b64url(json.dumps(claims).encode()) + ".").encode())
    write("fuzz_jwt", "expired", b"\x00" + sign(hs, dict(claims, exp=1)).encode())
    signing_input = b64url(json.dumps(hs).encode()) + "." + b64url(json.dumps(dict(claims, exp="x")).encode())
    write("fuzz_jwt", "sign-here", b"\x01" + signing_input.encode())
    write("fuzz_jwt", "payload", b"\x02" + json.dumps(claims).encode())
    write("fuzz_jwt", "payload-types", b"\x02" + json.dumps(dict(claims, sub=5, iat=1.5, exp=[1])).encode())


SHEET = """PRODUCTION: The Long Night
Shooting Date: 15.03.2024
Crew Call: 06:30
Location: Old Brewery, ul. Browarna 5, Warsaw
Base Location: Parking lot B, ul. Browarna 7
Scene Type: EXT/NIGHT
Scenes: 12, 14A, 15

Equipment:
- Alexa Mini
- Steadicam

Contacts:
Anna Nowak - 1st AD - +48 600 100 200
Piotr Zielinski - Location Manager - +48 600 300 400

Safety Notes:
- Working near water: life vests required
- Pyrotechnics in scene 15
Notes: Bring warm clothes
"""


def call_sheet_seeds():
    write("fuzz_call_sheet", "sample", SHEET)
    write("fuzz_call_sheet", "polish", "Data zdjęć: 2024-05-02\nGodzina wezwania: 05:45\nLokalizacja: Kraków, Rynek Główny\nBaza: ul. Floriańska 1\n")
    write("fuzz_call_sheet", "dates", "Date: Friday, 15 March 2024\nCall: 6:30 PM\nLocation: X\n")
    write("fuzz_call_sheet", "dates2", "Shooting date: March 15th, 2024\nCall time: 12:00 am\nSet: 15/03/2024 06.45\n")


def http_seeds():
    auth = "authorization: Bearer VALID\ncontent-type: application/json\n"
    schedule = {"shootingDate": "2026-03-14", "callTime": "06:30", "location": "Studio A", "title": "Day 12",
                "scenes": ["12A"], "equipment": ["camera"], "contacts": [{"name": "Ann", "role": "AD", "phone": "1"}],
                "safetyNotes": [], "notes": "n"}
    reqs = {
        "health": "GET /health\n\n",
        "ready": "HEAD /ready\n\n",
        "preflight": "OPTIONS /api/schedules\norigin: http://localhost:8080\n\n",
        "not-found": "GET /nope/%2e%2e/x?y=1\n\n",
        "method-not-allowed": "PATCH /api/schedules\n\n",
        "no-token": "GET /api/user/profile\n\n",
        "bad-token": "GET /api/user/profile\nauthorization: Bearer a.b.c\n\n",
        "profile": "GET /api/user/profile\n" + auth + "\n",
        "config-get": "GET /api/user/config\n" + auth + "\n",
        "config-put": "PUT /api/user/config\n" + auth + "\n" + json.dumps(
            {"homeAddress": "h", "officeAddress": "o", "buffers": {"carChange": 10, "parking": 5},
             "notifications": {"email": True, "sms": False, "push": True}, "smsNumber": None}),
        "buffers-put": "PUT /api/user/buffers\n" + auth + "\n" + json.dumps({"carChange": 10, "traffic": "x"}),
        "notifications-put": "PUT /api/user/notifications\n" + auth + "\n" + json.dumps({"sms": True, "smsNumber": "+48 600"}),
        "profile-put": "PUT /api/user/profile\n" + auth + "\n" + json.dumps({"name": "New"}),
        "schedules-list": "GET /api/schedules?page=2&limit=5&from=2026-01-01&to=2026-12-31\n" + auth + "\n",
        "schedules-create": "POST /api/schedules\n" + auth + "\n" + json.dumps(schedule),
        "schedules-update": "PUT /api/schedules/5a0c1f2e-aaaa-4bbb-8ccc-ddddeeeeffff\n" + auth + "\n" + json.dumps({"callTime": "07:00", "scenes": ["1"]}),
        "schedules-get": "GET /api/schedules/5a0c1f2e-aaaa-4bbb-8ccc-ddddeeeeffff\n" + auth + "\n",
        "schedules-import": "POST /api/schedules/import\n" + auth + "\n" + json.dumps({"text": SHEET}),
        "route-calc": "POST /api/route/calculate\n" + auth + "\n" + json.dumps({"date": "2026-03-14", "callTime": "06:30", "location": "Studio"}),
        "summary": "GET /api/schedules/5a0c1f2e-aaaa-4bbb-8ccc-ddddeeeeffff/summary\n" + auth + "\n",
        "calendar-feed": "GET /api/calendar/feed.ics?token=abc\n\n",
        "auth-refresh": "POST /api/auth/refresh\ncontent-type: application/json\n\n" + json.dumps({"refreshToken": "x"}),
        "auth-callback": "POST /api/auth/callback\ncontent-type: application/json\n\n" + json.dumps({"code": "c", "state": "s"}),
        "not-json": "POST /api/schedules\n" + auth + "\n{\"a\":",
        "wrong-content-type": "POST /api/schedules\nauthorization: Bearer VALID\ncontent-type: text/plain\n\n{}",
    }
    for name, text in reqs.items():
        write("fuzz_http", name, text)
    # Deeply nested bodies: 10,000 levels, the depth scripts/fuzz.sh's max_len for this target covers.
    depth = 10000
    write("fuzz_http", "nested-array-10000", "PUT /api/user/config\n" + auth + "\n{\"a\":" + "[" * depth + "]" * depth + "}")
    write("fuzz_http", "nested-object-10000", "POST /api/schedules\n" + auth + "\n" + "{\"a\":" * depth + "1" + "}" * depth)


def plugin_seeds():
    cr = {"apiVersion": "stillontime.app/v1alpha1", "kind": "StillOnTime",
          "metadata": {"name": "app", "namespace": "ns1", "generation": 3,
                       "managedFields": [{"manager": "kustomize-controller", "operation": "Apply",
                                          "fieldsV1": {"f:spec": {"f:version": {}}}}]},
          "spec": {"environment": "staging", "version": "1.1.0", "backup": {"enabled": True}},
          "status": {"observedGeneration": 3, "phase": "Ready", "version": "1.1.0",
                     "conditions": [{"type": "Ready", "status": "True", "reason": "AllComponentsReady",
                                     "message": "all 4 components ready", "lastTransitionTime": "2024-05-15T01:58:00Z"}],
                     "components": {"backend": {"desired": 2, "ready": 2, "image": "repo/backend:1.1.0"}},
                     "versionHistory": [{"version": "1.1.0", "firstApplied": "2024-05-15T01:58:00Z"},
                                        {"version": "1.0.0", "firstApplied": "2024-05-14T00:00:00Z",
                                         "becameReady": "2024-05-14T00:01:30Z", "left": "2024-05-15T01:58:00Z"}],
                     "backup": {"lastBackup": "stillontime-20240515T015000Z.dump"},
                     "restore": {"id": "r1", "from": "latest", "phase": "Succeeded"}}}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "app-backend", "namespace": "ns1", "generation": 2,
                               "labels": {"app.kubernetes.io/component": "backend"},
                               "managedFields": [{"manager": "stillontime-operator", "operation": "Apply",
                                                  "fieldsV1": {"f:spec": {"f:replicas": {}}}},
                                                 {"manager": "kubectl-edit", "operation": "Update",
                                                  "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": {
                                                      "k:{\"name\":\"backend\"}": {".": {}, "f:image": {}}}}}}}}]},
                  "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "backend", "image": "repo/backend:1.0.0",
                                                                                  "env": [{"name": "DB_PASSWORD", "value": "x"}]}]}}},
                  "status": {"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 1}}
    pod = {"kind": "Pod", "metadata": {"name": "app-backend-5d9-x", "ownerReferences": [{"kind": "ReplicaSet", "name": "app-backend-5d9"}]},
           "status": {"phase": "Pending", "containerStatuses": [{"state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}
    secret = {"kind": "Secret", "metadata": {"name": "app-postgres-credentials"}, "data": {"POSTGRES_PASSWORD": "c2VjcmV0"}}
    write("fuzz_plugin", "resource-and-children", "\n---\n".join(json.dumps(o) for o in [cr, deployment, pod, secret]))
    write("fuzz_plugin", "listing", "total 3\n1715738412.05 1048576 stillontime-20240515T020012Z.dump\n"
                                    "1715600000 2048 pre-restore-20240513T120000Z.dump\n1715652000 12 ../etc/passwd.dump\n")
    write("fuzz_plugin", "command-and-log", "restore app -n prod --from latest --wait --timeout 10m\n"
                                            '{"level":"info","password":"pw","url":"postgres://u:p@h/db"}\n'
                                            "wrote stillontime-20240515T020012Z.dump (123 bytes)\nAuthorization: Bearer abc\n")


def main():
    if OUT.exists():
        keep = OUT / "fuzz_pdf_text"
        for d in OUT.iterdir():
            if d != keep:
                shutil.rmtree(d)
    spec_seeds()
    cron_seeds()
    watch_seeds()
    list_seeds()
    kubeconfig_seeds()
    plugin_seeds()
    jwt_seeds()
    call_sheet_seeds()
    http_seeds()


if __name__ == "__main__":
    main()
