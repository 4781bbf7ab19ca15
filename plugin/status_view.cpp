#include "plugin/status_view.h"

#include <algorithm>
#include <functional>
#include <set>
#include <sstream>

#include "kube/json_fields.h"
#include "plugin/backups.h"
#include "plugin/format.h"
#include "plugin/ownership.h"
#include "plugin/resource.h"
#include "stillontime/builders/backup.h"
#include "stillontime/builders/common.h"
#include "stillontime/desired_state.h"

namespace sot::plugin {
namespace {

using kube::array_field;
using kube::int_field;
using kube::object_field;
using kube::string_field;
using nlohmann::json;

const json& meta(const json& o) {
  return object_field(o, "metadata");
}
std::string name_of(const json& o) {
  return string_field(meta(o), "name");
}
std::string kind_of(const json& o) {
  return string_field(o, "kind");
}
std::string label(const json& o, const char* key) {
  return string_field(object_field(meta(o), "labels"), key);
}
std::string annotation(const json& o, const char* key) {
  return string_field(object_field(meta(o), "annotations"), key);
}

// The order kinds appear in the tree: what runs first, then what connects, stores and guards it.
int kind_rank(const std::string& kind) {
  static const std::vector<std::string> kOrder = {"Deployment",
                                                  "StatefulSet",
                                                  "CronJob",
                                                  "Job",
                                                  "Pod",
                                                  "Service",
                                                  "Ingress",
                                                  "HorizontalPodAutoscaler",
                                                  "PodDisruptionBudget",
                                                  "PersistentVolumeClaim",
                                                  "ConfigMap",
                                                  "Secret",
                                                  "ServiceAccount",
                                                  "Role",
                                                  "RoleBinding",
                                                  "NetworkPolicy",
                                                  "ServiceMonitor",
                                                  "PrometheusRule"};
  const auto it = std::find(kOrder.begin(), kOrder.end(), kind);
  return it == kOrder.end() ? static_cast<int>(kOrder.size()) : static_cast<int>(it - kOrder.begin());
}

struct JobOutcome {
  std::string result;    // Succeeded | Failed | Running
  std::string finished;  // RFC 3339 or ""
  std::string message;
};

JobOutcome job_outcome(const json& job) {
  JobOutcome o{"Running", "", ""};
  const json& st = object_field(job, "status");
  for (const auto& c : array_field(st, "conditions")) {
    if (string_field(c, "status") != "True") continue;
    const std::string type = string_field(c, "type");
    if (type == "Complete") {
      o.result = "Succeeded";
      o.finished = string_field(st, "completionTime", string_field(c, "lastTransitionTime"));
    } else if (type == "Failed") {
      o.result = "Failed";
      o.finished = string_field(c, "lastTransitionTime");
      o.message = string_field(c, "message", string_field(c, "reason"));
    }
  }
  return o;
}

// The termination message a pod's container `container` (any when empty) left.
std::string termination_message(const json& pod, const std::string& container) {
  for (const auto& cs : array_field(object_field(pod, "status"), "containerStatuses")) {
    if (!container.empty() && string_field(cs, "name") != container) continue;
    const std::string m = string_field(object_field(object_field(cs, "state"), "terminated"), "message");
    if (!m.empty()) return m;
  }
  return {};
}

struct State {
  std::string state = "ok";  // ok | not-ready | drift | missing | failed
  std::string summary;
  std::vector<std::string> problems;
  void mark(const std::string& s, const std::string& problem) {
    // The worst wins: missing/failed over not-ready over drift.
    static const std::vector<std::string> kRank = {"ok", "drift", "not-ready", "failed", "missing"};
    auto rank = [&](const std::string& x) { return std::find(kRank.begin(), kRank.end(), x) - kRank.begin(); };
    if (rank(s) > rank(state)) state = s;
    if (!problem.empty()) problems.push_back(problem);
  }
};

std::string ratio(std::int64_t a, std::int64_t b) {
  return std::to_string(a) + "/" + std::to_string(b);
}

State workload_state(const json& o, const std::string& spec_version) {
  State s;
  const json& spec = object_field(o, "spec");
  const json& st = object_field(o, "status");
  const std::int64_t desired = int_field(spec, "replicas", 1);
  const std::int64_t generation = int_field(meta(o), "generation");
  const std::int64_t observed = int_field(st, "observedGeneration");
  const bool current = observed >= generation;
  const std::int64_t ready = int_field(st, "readyReplicas");
  std::int64_t shown = ready;
  bool ok = current && ready >= desired;
  if (kind_of(o) == "Deployment") {
    const std::int64_t updated = int_field(st, "updatedReplicas");
    shown = std::min(ready, updated);
    ok = ok && updated >= desired;
  }
  if (!current) shown = 0;  // as the operator counts: replicas of an older template are not this spec's
  const json& pod_spec = object_field(object_field(spec, "template"), "spec");
  const json& containers = array_field(pod_spec, "containers");
  const std::string image = containers.empty() ? "" : string_field(containers[0], "image");
  s.summary = desired == 0 ? "scaled to 0" : ratio(shown, desired) + " ready";
  if (!image.empty()) s.summary += ", image " + image_tag(image);
  if (!current)
    s.mark("not-ready",
           "rollout pending: generation " + std::to_string(generation) + ", observed " + std::to_string(observed));
  else if (!ok)
    s.mark("not-ready", ratio(shown, desired) + " ready");
  // backend and frontend run spec.version; another tag is drift.
  const std::string component = label(o, stillontime::kLabelComponent);
  if ((component == stillontime::kBackend || component == stillontime::kFrontend) && !image.empty() &&
      !spec_version.empty() && image_tag(image) != spec_version) {
    s.mark("drift", "runs " + image_tag(image) + ", spec.version is " + spec_version);
  }
  return s;
}

State pod_state(const json& pod) {
  State s;
  const json& st = object_field(pod, "status");
  const std::string phase = string_field(st, "phase", "Unknown");
  bool ready = false;
  std::string why;
  for (const auto& c : array_field(st, "conditions")) {
    if (string_field(c, "type") == "Ready") ready = string_field(c, "status") == "True";
    if (string_field(c, "type") == "PodScheduled" && string_field(c, "status") == "False") {
      why = one_line(string_field(c, "message", string_field(c, "reason")), 120);
    }
  }
  std::int64_t restarts = 0;
  for (const auto& cs : array_field(st, "containerStatuses")) {
    restarts += int_field(cs, "restartCount");
    const std::string waiting = string_field(object_field(object_field(cs, "state"), "waiting"), "reason");
    if (!waiting.empty()) why = waiting;
  }
  s.summary = phase + (phase == "Running" ? (ready ? ", ready" : ", not ready") : "");
  if (restarts > 0) s.summary += ", " + std::to_string(restarts) + " restarts";
  if (phase == "Succeeded") return s;
  if (phase == "Failed")
    s.mark("failed", why.empty() ? "failed" : why);
  else if (!(phase == "Running" && ready))
    s.mark("not-ready", why.empty() ? phase : why);
  return s;
}

bool applied_by_operator(const json& o) {
  for (const auto& m : array_field(meta(o), "managedFields")) {
    if (string_field(m, "manager") == stillontime::kManagedBy) return true;
  }
  return false;
}

State child_state(const json& o, const std::string& spec_version, bool autoscaled, std::int64_t now) {
  const std::string kind = kind_of(o);
  State s;
  if (kind == "Deployment" || kind == "StatefulSet") {
    s = workload_state(o, spec_version);
  } else if (kind == "Pod") {
    s = pod_state(o);
  } else if (kind == "Job") {
    const JobOutcome j = job_outcome(o);
    s.summary = j.result + (j.finished.empty() ? "" : " " + age(j.finished, now) + " ago");
    if (j.result == "Failed") s.mark("failed", one_line(j.message, 160));
  } else if (kind == "CronJob") {
    const json& spec = object_field(o, "spec");
    s.summary = "schedule " + string_field(spec, "schedule");
    const std::string last = string_field(object_field(o, "status"), "lastScheduleTime");
    s.summary += last.empty() ? ", never run" : ", last run " + age(last, now) + " ago";
    if (kube::bool_field(spec, "suspend")) s.summary += ", suspended";
  } else if (kind == "PersistentVolumeClaim") {
    const json& st = object_field(o, "status");
    const std::string phase = string_field(st, "phase", "Pending");
    s.summary = phase;
    const std::string size = string_field(
        object_field(st, "capacity"), "storage",
        string_field(object_field(object_field(object_field(o, "spec"), "resources"), "requests"), "storage"));
    if (!size.empty()) s.summary += ", " + size;
    // Pending is normal until a pod uses the claim (WaitForFirstConsumer); the pod shows why it waits.
    if (phase == "Lost") s.mark("failed", "claim Lost: its volume is gone");
  } else if (kind == "HorizontalPodAutoscaler") {
    const json& spec = object_field(o, "spec");
    s.summary = std::to_string(int_field(spec, "minReplicas", 1)) + "-" +
                std::to_string(int_field(spec, "maxReplicas")) + " replicas, now " +
                std::to_string(int_field(object_field(o, "status"), "currentReplicas"));
  } else if (kind == "Secret") {
    const std::size_t keys = object_field(o, "data").size();
    s.summary = std::to_string(keys) + (keys == 1 ? " key" : " keys");
  }
  // Drift is a change to what the operator applied: objects others make (a
  // Job's pods, a CronJob's Jobs) are not compared, and an autoscaled
  // workload's replicas belong to its HPA.
  if (applied_by_operator(o)) {
    for (auto& f : foreign_fields(o, expected_managers())) {
      if (autoscaled) std::erase(f.paths, std::string("spec.replicas"));
      if (f.paths.empty()) continue;
      std::string paths;
      for (const auto& p : f.paths) paths += (paths.empty() ? "" : ", ") + p;
      const std::string when = f.owner.time.empty() ? "" : " " + age(f.owner.time, now) + " ago";
      s.mark("drift", "changed by " + f.owner.manager + when + ": " + paths);
    }
  }
  return s;
}

json entry(const std::string& kind, const std::string& ns, const std::string& name, const State& s) {
  return {
      {"kind", kind},           {"namespace", ns},          {"name", name}, {"state", s.state}, {"summary", s.summary},
      {"problems", s.problems}, {"children", json::array()}};
}

// The key an owner reference points at; ReplicaSets stand for their Deployment.
std::string parent_key(const json& o) {
  for (const auto& ref : array_field(meta(o), "ownerReferences")) {
    std::string kind = string_field(ref, "kind");
    std::string name = string_field(ref, "name");
    if (kind == "ReplicaSet") {
      const auto dash = name.rfind('-');
      if (dash == std::string::npos) continue;
      kind = "Deployment";
      name = name.substr(0, dash);
    }
    if (kind == "StillOnTime") continue;
    return kind + "/" + name;
  }
  return {};
}

json backup_runs(const ClusterSnapshot& snap) {
  std::vector<const json*> jobs;
  for (const auto& c : snap.children) {
    if (kind_of(c) == "Job" && label(c, stillontime::kTaskLabel) == stillontime::kTaskBackup) jobs.push_back(&c);
  }
  std::sort(jobs.begin(), jobs.end(), [](const json* a, const json* b) {
    return string_field(meta(*a), "creationTimestamp") > string_field(meta(*b), "creationTimestamp");
  });
  json runs = json::array();
  for (const json* job : jobs) {
    const JobOutcome o = job_outcome(*job);
    std::string file;
    for (const auto& pod : snap.pods) {
      if (label(pod, "job-name") == name_of(*job)) {
        const std::string m = termination_message(pod, "backup");
        if (o.result == "Succeeded" && !m.empty()) file = one_line(m, 120);
      }
    }
    json run = {{"job", name_of(*job)},
                {"trigger", label(*job, stillontime::kTriggerLabel)},
                {"result", o.result},
                {"started", string_field(object_field(*job, "status"), "startTime",
                                         string_field(meta(*job), "creationTimestamp"))}};
    const std::string request = annotation(*job, stillontime::kBackupRequestAnnotation);
    if (!request.empty()) run["request"] = request;
    if (!o.finished.empty()) run["finished"] = o.finished;
    if (!file.empty()) run["file"] = file;
    if (auto it = snap.backup_sizes.find(name_of(*job)); it != snap.backup_sizes.end() && it->second >= 0) {
      run["size"] = it->second;
    }
    if (!o.message.empty()) run["message"] = o.message;
    runs.push_back(std::move(run));
    if (runs.size() >= 5) break;
  }
  return runs;
}

}  // namespace

const std::vector<std::string>& expected_managers() {
  static const std::vector<std::string> kManagers = {stillontime::kManagedBy, "kube-controller-manager",
                                                     "kube-scheduler", "kubelet"};
  return kManagers;
}

std::int64_t dump_size_from_log(const std::string& log) {
  // backup.sh: "... backup: wrote stillontime-20240515T020012Z.dump (123456 bytes)"
  const auto at = log.rfind(".dump (");
  if (at == std::string::npos) return -1;
  std::size_t i = at + 7;
  std::int64_t n = 0;
  std::size_t digits = 0;
  while (i < log.size() && log[i] >= '0' && log[i] <= '9' && digits < 18) {
    n = n * 10 + (log[i] - '0');
    ++i;
    ++digits;
  }
  if (digits == 0 || log.compare(i, 7, " bytes)") != 0) return -1;
  return n;
}

json status_document(const ClusterSnapshot& snap, std::int64_t now) {
  const json& cr = snap.resource;
  const json& spec = object_field(cr, "spec");
  const json& st = object_field(cr, "status");
  const std::string ns = string_field(meta(cr), "namespace");
  const std::string name = name_of(cr);
  const std::string spec_version = string_field(spec, "version");
  auto resource = defaulted_resource(cr);

  json doc = {{"namespace", ns},
              {"name", name},
              {"environment", string_field(spec, "environment")},
              {"version", spec_version},
              {"paused", kube::bool_field(spec, "paused")},
              {"generation", int_field(meta(cr), "generation")},
              {"observedGeneration", int_field(st, "observedGeneration")},
              {"phase", string_field(st, "phase", "Pending")},
              {"statusVersion", string_field(st, "version")},
              {"targetNamespace", string_field(st, "targetNamespace", string_field(spec, "targetNamespace", ns))}};
  doc["notes"] = snap.notes;
  if (!resource.ok())
    doc["notes"].push_back("the spec does not pass the operator's checks: " + resource.error().message);

  json conditions = json::array();
  for (const auto& c : array_field(st, "conditions")) {
    conditions.push_back({{"type", string_field(c, "type")},
                          {"status", string_field(c, "status")},
                          {"reason", string_field(c, "reason")},
                          {"message", string_field(c, "message")},
                          {"lastTransitionTime", string_field(c, "lastTransitionTime")}});
  }
  doc["conditions"] = conditions;

  json components = json::array();
  for (const auto& [component, c] : object_field(st, "components").items()) {
    const std::string image = string_field(c, "image");
    components.push_back({{"name", component},
                          {"desired", int_field(c, "desired")},
                          {"ready", int_field(c, "ready")},
                          {"image", image},
                          {"version", image_tag(image)}});
  }
  doc["components"] = components;
  doc["versionHistory"] = array_field(st, "versionHistory");

  json backups = {{"runs", backup_runs(snap)}};
  if (resource.ok()) {
    const auto& b = resource->spec.backup;
    backups["enabled"] = b.enabled.value_or(false);
    backups["schedule"] = b.schedule.value_or("");
    backups["suspended"] = b.suspend.value_or(false);
  }
  for (const auto& [k, v] : object_field(st, "backup").items()) backups[k] = v;
  const json& healthy = condition(cr, "BackupHealthy");
  if (!healthy.empty())
    backups["healthy"] = {{"status", string_field(healthy, "status")},
                          {"reason", string_field(healthy, "reason")},
                          {"message", string_field(healthy, "message")}};
  doc["backups"] = backups;
  doc["restore"] = object_field(st, "restore");
  doc["bootstrap"] = object_field(st, "bootstrap");

  // ---- children as a tree
  const std::string target = doc["targetNamespace"];
  std::vector<const json*> objects;
  for (const auto& c : snap.children) objects.push_back(&c);
  for (const auto& p : snap.pods) objects.push_back(&p);
  std::sort(objects.begin(), objects.end(), [](const json* a, const json* b) {
    const int ra = kind_rank(kind_of(*a)), rb = kind_rank(kind_of(*b));
    if (ra != rb) return ra < rb;
    if (kind_of(*a) != kind_of(*b)) return kind_of(*a) < kind_of(*b);
    return name_of(*a) < name_of(*b);
  });
  std::set<std::string> scaled;  // "Kind/name" an HPA scales
  for (const json* o : objects) {
    if (kind_of(*o) != "HorizontalPodAutoscaler") continue;
    const json& target = object_field(object_field(*o, "spec"), "scaleTargetRef");
    scaled.insert(string_field(target, "kind") + "/" + string_field(target, "name"));
  }
  std::map<std::string, json> nodes;  // "Kind/name" -> entry
  std::vector<std::string> order;
  std::set<std::string> present;
  for (const json* o : objects) {
    const std::string key = kind_of(*o) + "/" + name_of(*o);
    if (!present.insert(key).second) continue;
    const bool autoscaled = scaled.count(kind_of(*o) + "/" + name_of(*o)) > 0;
    nodes[key] = entry(kind_of(*o), string_field(meta(*o), "namespace"), name_of(*o),
                       child_state(*o, spec_version, autoscaled, now));
    order.push_back(key);
  }
  // What the operator would create and the cluster does not have.
  if (resource.ok()) {
    stillontime::BuildContext bctx;
    bctx.api = snap.api;
    for (const auto& d : stillontime::desired_state(*resource, bctx)) {
      const std::string key = d.ref.kind + "/" + d.key().name;
      if (present.count(key) > 0) continue;
      State missing;
      missing.mark("missing", resource->spec.paused ? "not created: the resource is paused" : "not created yet");
      nodes[key] = entry(d.ref.kind, d.key().ns, d.key().name, missing);
      order.push_back(key);
      present.insert(key);
    }
  }
  std::stable_sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
    const int ra = kind_rank(nodes[a]["kind"]), rb = kind_rank(nodes[b]["kind"]);
    if (ra != rb) return ra < rb;
    if (nodes[a]["kind"] != nodes[b]["kind"])
      return nodes[a]["kind"].get<std::string>() < nodes[b]["kind"].get<std::string>();
    return nodes[a]["name"].get<std::string>() < nodes[b]["name"].get<std::string>();
  });
  // Attach each node under its owner (deepest first, so a Job takes its pods before going under its CronJob).
  std::map<std::string, std::string> parent;
  for (const json* o : objects) {
    const std::string key = kind_of(*o) + "/" + name_of(*o);
    const std::string p = parent_key(*o);
    if (!p.empty() && p != key && nodes.count(p) > 0) parent[key] = p;
  }
  std::function<int(const std::string&)> depth = [&](const std::string& key) {
    int d = 0;
    for (std::string k = key; parent.count(k) > 0 && d < 16; k = parent[k]) ++d;
    return d;
  };
  std::vector<std::string> by_depth = order;
  std::stable_sort(by_depth.begin(), by_depth.end(),
                   [&](const std::string& a, const std::string& b) { return depth(a) > depth(b); });
  int attention = 0;
  for (const auto& key : order) attention += nodes[key]["state"] != "ok" ? 1 : 0;
  for (const auto& key : by_depth) {
    auto p = parent.find(key);
    if (p == parent.end()) continue;
    nodes[p->second]["children"].push_back(nodes[key]);
  }
  json tree = json::array();
  for (const auto& key : order) {
    if (parent.count(key) == 0) tree.push_back(nodes[key]);
  }
  // Children were appended deepest first; put them back in the tree's order.
  std::function<void(json&)> sort_children = [&](json& n) {
    auto& kids = n["children"];
    std::stable_sort(kids.begin(), kids.end(), [](const json& a, const json& b) {
      const int ra = kind_rank(a["kind"]), rb = kind_rank(b["kind"]);
      return ra != rb ? ra < rb : a["name"].get<std::string>() < b["name"].get<std::string>();
    });
    for (auto& k : kids) sort_children(k);
  };
  for (auto& n : tree) sort_children(n);
  doc["children"] = tree;
  doc["needAttention"] = attention;
  return doc;
}

std::string render_tree(const json& doc) {
  // First the lines' left parts (branches, kind, name), then everything after
  // them aligned one column past the widest.
  struct Line {
    std::string left, right;
  };
  std::vector<Line> lines;
  std::function<void(const json&, const std::string&)> walk = [&](const json& list, const std::string& indent) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      const json& n = list[i];
      const bool last = i + 1 == list.size();
      Line line{indent + (last ? "└─ " : "├─ ") + string_field(n, "kind") + " " + string_field(n, "name"),
                one_line(string_field(n, "summary"), 100)};
      const std::string state = string_field(n, "state");
      if (state != "ok") {
        const std::string upper = state == "not-ready" ? "NOT READY"
                                  : state == "drift"   ? "DRIFT"
                                  : state == "missing" ? "MISSING"
                                                       : "FAILED";
        std::string problems;
        for (const auto& p : array_field(n, "problems")) {
          if (p.is_string()) problems += (problems.empty() ? "" : "; ") + one_line(p.get<std::string>(), 160);
        }
        line.right +=
            (line.right.empty() ? "" : "  ") + ("[" + upper + (problems.empty() ? "" : ": " + problems) + "]");
      }
      lines.push_back(std::move(line));
      walk(array_field(n, "children"), indent + (last ? "   " : "│  "));
    }
  };
  walk(array_field(doc, "children"), "  ");
  // Display width: UTF-8 continuation bytes take no column.
  auto width = [](const std::string& s) {
    std::size_t w = 0;
    for (unsigned char c : s) w += (c & 0xC0) != 0x80 ? 1 : 0;
    return w;
  };
  std::size_t widest = 0;
  for (const auto& l : lines) widest = std::max(widest, width(l.left));
  std::ostringstream out;
  out << "  StillOnTime " << string_field(doc, "namespace") << "/" << string_field(doc, "name") << "\n";
  for (const auto& l : lines) {
    out << l.left;
    if (!l.right.empty()) out << std::string(widest - width(l.left) + 2, ' ') << l.right;
    out << "\n";
  }
  return out.str();
}

std::string render_status(const json& doc, std::int64_t now) {
  std::ostringstream out;
  const std::string phase = string_field(doc, "phase");
  out << "StillOnTime " << string_field(doc, "namespace") << "/" << string_field(doc, "name") << "\n";
  out << table(
      {{"  Environment:", string_field(doc, "environment")},
       {"  Version:", string_field(doc, "version") + " (spec), " +
                          (string_field(doc, "statusVersion").empty() ? "none" : string_field(doc, "statusVersion")) +
                          " (status)"},
       {"  Phase:", phase + (kube::bool_field(doc, "paused") ? " (spec.paused)" : "") + ", generation " +
                        std::to_string(int_field(doc, "generation")) + ", observed " +
                        std::to_string(int_field(doc, "observedGeneration"))},
       {"  Children in:", string_field(doc, "targetNamespace")}});
  for (const auto& n : array_field(doc, "notes")) out << "  Note: " << one_line(n.get<std::string>(), 300) << "\n";

  out << "\nConditions:\n";
  std::vector<std::vector<std::string>> rows = {{"TYPE", "STATUS", "REASON", "AGE", "MESSAGE"}};
  for (const auto& c : array_field(doc, "conditions")) {
    rows.push_back({string_field(c, "type"), string_field(c, "status"), string_field(c, "reason"),
                    age(string_field(c, "lastTransitionTime"), now), one_line(string_field(c, "message"), 120)});
  }
  if (rows.size() == 1)
    out << "  none yet: the operator has not written status (is it running?)\n";
  else
    out << table(rows, "  ");

  out << "\nComponents:\n";
  rows = {{"NAME", "READY", "VERSION", "IMAGE"}};
  for (const auto& c : array_field(doc, "components")) {
    const std::int64_t ready = int_field(c, "ready"), desired = int_field(c, "desired");
    rows.push_back({string_field(c, "name") + (ready < desired ? " !" : ""), ratio(ready, desired),
                    string_field(c, "version"), string_field(c, "image")});
  }
  if (rows.size() == 1)
    out << "  none observed yet\n";
  else
    out << table(rows, "  ");

  out << "\nVersion history (newest first):\n";
  rows = {{"VERSION", "APPLIED", "READY", "LEFT"}};
  for (const auto& h : array_field(doc, "versionHistory")) {
    const std::string applied = string_field(h, "firstApplied");
    const std::string ready = string_field(h, "becameReady");
    const auto a = epoch_of(applied), r = epoch_of(ready);
    rows.push_back({string_field(h, "version"), applied.empty() ? "-" : age(applied, now) + " ago",
                    ready.empty() ? "never" : (a && r ? "after " + age_seconds(*r - *a) : age(ready, now) + " ago"),
                    string_field(h, "left").empty() ? "-" : age(string_field(h, "left"), now) + " ago"});
  }
  if (rows.size() == 1)
    out << "  none recorded yet\n";
  else
    out << table(rows, "  ");

  const json& b = object_field(doc, "backups");
  out << "\nBackups: ";
  if (!kube::bool_field(b, "enabled")) {
    out << "disabled (spec.backup.enabled)\n";
  } else {
    out << "schedule " << string_field(b, "schedule") << " (UTC)"
        << (kube::bool_field(b, "suspended") ? ", suspended" : "") << "\n";
  }
  const json& healthy = object_field(b, "healthy");
  if (!healthy.empty()) {
    out << "  BackupHealthy " << string_field(healthy, "status") << " " << string_field(healthy, "reason") << ": "
        << one_line(string_field(healthy, "message"), 160) << "\n";
  }
  if (!string_field(b, "lastBackup").empty()) {
    out << "  Last backup: " << string_field(b, "lastBackup") << " (" << age(string_field(b, "lastSuccessfulTime"), now)
        << " ago)\n";
  }
  const json& request = object_field(b, "lastRequest");
  if (!request.empty()) {
    out << "  Last request: " << string_field(request, "id") << " " << string_field(request, "phase")
        << (string_field(request, "message").empty() ? "" : ": " + one_line(string_field(request, "message"), 160))
        << "\n";
  }
  rows = {{"JOB", "TRIGGER", "RESULT", "FINISHED", "FILE", "SIZE"}};
  for (const auto& r : array_field(b, "runs")) {
    std::string trigger = string_field(r, "trigger");
    if (!string_field(r, "request").empty()) trigger += " " + string_field(r, "request");
    const std::string finished = string_field(r, "finished");
    const auto* size = kube::json_field(r, "size");
    rows.push_back({string_field(r, "job"), trigger, string_field(r, "result"),
                    finished.empty() ? "-" : age(finished, now) + " ago", string_field(r, "file", "-"),
                    size != nullptr && size->is_number_integer() ? human_size(size->get<std::int64_t>()) : "-"});
  }
  if (rows.size() > 1)
    out << table(rows, "  ");
  else if (kube::bool_field(b, "enabled"))
    out << "  no backup runs in the cluster (Jobs are kept: 3 succeeded, 3 failed)\n";

  for (const char* what : {"restore", "bootstrap"}) {
    const json& r = object_field(doc, what);
    if (r.empty()) continue;
    out << "\n" << (std::string(what) == "restore" ? "Restore: " : "Bootstrap: ");
    if (!string_field(r, "id").empty()) out << string_field(r, "id") << " ";
    out << "from " << string_field(r, "from") << ", " << string_field(r, "phase");
    const std::string finished = string_field(r, "finishedAt");
    if (!finished.empty())
      out << " " << age(finished, now) << " ago";
    else if (!string_field(r, "startedAt").empty())
      out << ", started " << age(string_field(r, "startedAt"), now) << " ago";
    out << "\n";
    if (!string_field(r, "message").empty()) out << "  " << one_line(string_field(r, "message"), 400) << "\n";
  }

  const std::int64_t attention = int_field(doc, "needAttention");
  out << "\nChildren in " << string_field(doc, "targetNamespace") << " ("
      << (attention == 0 ? std::string("all ok")
                         : std::to_string(attention) + (attention == 1 ? " needs" : " need") + " attention")
      << "):\n";
  out << render_tree(doc);
  return out.str();
}

}  // namespace sot::plugin
