#include "stillontime/status.h"

#include <ctime>

#include "kube/text.h"

namespace sot::stillontime {
namespace {

nlohmann::json find_condition(const nlohmann::json& status, const std::string& type) {
  for (const auto& c : status.value("conditions", nlohmann::json::array())) {
    if (c.value("type", "") == type) return c;
  }
  return nullptr;
}

nlohmann::json make_condition(const nlohmann::json& old_status, const std::string& type, const ConditionInput& in,
                              std::int64_t generation, const std::string& now) {
  const std::string status = in.status ? "True" : "False";
  const nlohmann::json old = find_condition(old_status, type);
  std::string transition = now;
  if (old.is_object() && old.value("status", "") == status && old.contains("lastTransitionTime")) {
    transition = old["lastTransitionTime"].get<std::string>();
  }
  return {{"type", type},
          {"status", status},
          {"reason", in.reason.empty() ? (in.status ? type : "No" + type) : in.reason},
          // Never empty: the 1.20 server turns "" into null inside this list
          // (x-kubernetes-list-type: map) and then rejects it as not a string.
          // At most what the CRD lets the server store: an API server's
          // error message can be megabytes, and a refused status write leaves
          // the resource without any.
          {"message", in.message.empty() ? (in.reason.empty() ? type : in.reason)
                                         : kube::truncate_utf8(in.message, kMaxConditionMessageBytes)},
          {"observedGeneration", generation},
          {"lastTransitionTime", transition}};
}

}  // namespace

std::string rfc3339(std::int64_t epoch_seconds) {
  const std::time_t t = static_cast<std::time_t>(epoch_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Readiness readiness_of(const std::map<std::string, ComponentStatus>& components) {
  Readiness r;
  std::string not_ready;
  for (const auto& [name, c] : components) {
    if (c.ready < c.desired) {
      if (!not_ready.empty()) not_ready += ", ";
      not_ready += name + " " + std::to_string(c.ready) + "/" + std::to_string(c.desired) + " ready";
    }
  }
  r.all_ready = not_ready.empty() && !components.empty();
  r.message = r.all_ready ? "all " + std::to_string(components.size()) + " components ready"
                          : (components.empty() ? "no components observed yet" : not_ready);
  return r;
}

nlohmann::json build_status(const nlohmann::json& old_status_in, const StatusInput& in, const std::string& now) {
  const nlohmann::json old_status = old_status_in.is_object() ? old_status_in : nlohmann::json::object();
  nlohmann::json out = old_status;
  out["observedGeneration"] = in.generation;
  out["phase"] = in.phase;
  if (!in.version.empty()) out["version"] = in.version;
  if (!in.target_namespace.empty()) out["targetNamespace"] = in.target_namespace;
  nlohmann::json components = nlohmann::json::object();
  for (const auto& [name, c] : in.components) {
    components[name] = {{"desired", c.desired}, {"ready", c.ready}, {"image", c.image}};
  }
  out["components"] = components;

  nlohmann::json conditions = nlohmann::json::array();
  conditions.push_back(make_condition(old_status, "Ready", in.ready, in.generation, now));
  conditions.push_back(make_condition(old_status, "Reconciling", in.reconciling, in.generation, now));
  conditions.push_back(make_condition(old_status, "Stalled", in.stalled, in.generation, now));
  for (const auto& [type, cond] : in.extra) {
    conditions.push_back(make_condition(old_status, type, cond, in.generation, now));
  }
  // Conditions that other writers own and we were not given stay as they are.
  for (const auto& c : old_status.value("conditions", nlohmann::json::array())) {
    const std::string type = c.value("type", "");
    bool ours = type == "Ready" || type == "Reconciling" || type == "Stalled";
    for (const auto& [t, unused] : in.extra) ours = ours || t == type;
    if (!ours) conditions.push_back(c);
  }
  out["conditions"] = conditions;
  if (in.version_applied && !in.version.empty()) {
    out["versionHistory"] = update_version_history(old_status.value("versionHistory", nlohmann::json::array()),
                                                   in.version, in.phase == "Ready" && in.ready.status, now);
  }
  return out;
}

nlohmann::json update_version_history(const nlohmann::json& old_history, const std::string& version, bool ready,
                                      const std::string& now, std::size_t limit) {
  nlohmann::json history = nlohmann::json::array();
  if (old_history.is_array()) {
    for (const auto& entry : old_history) {
      if (entry.is_object() && entry.contains("version") && entry["version"].is_string()) history.push_back(entry);
    }
  }
  if (history.empty() || history[0]["version"] != version) {
    if (!history.empty() && !history[0].contains("left")) history[0]["left"] = now;
    history.insert(history.begin(), nlohmann::json{{"version", version}, {"firstApplied", now}});
  }
  if (ready && !history[0].contains("becameReady")) history[0]["becameReady"] = now;
  if (limit == 0) limit = 1;
  while (history.size() > limit) history.erase(history.end() - 1);
  return history;
}

}  // namespace sot::stillontime
