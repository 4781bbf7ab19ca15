#include "plugin/backups.h"

#include <cctype>
#include <cstdio>
#include <sstream>

#include "kube/json_fields.h"
#include "plugin/cli.h"
#include "stillontime/builders/backup.h"
#include "stillontime/builders/common.h"

namespace sot::plugin {
namespace {

using nlohmann::json;

// Every *.dump that restore.sh would accept (not hidden), newest first; the
// count first, so a list cut at kListedDumpsMax lines says so.
constexpr const char* kListScript =
    "set -eu\n"
    "cd /backups\n"
    "list() { find . -maxdepth 1 -type f -name '*.dump' ! -name '.*' -printf '%T@ %s %f\\n'; }\n"
    "{ echo \"total $(list | wc -l)\"; list | sort -rn | head -n 60; } > /dev/termination-log\n";

bool valid_dump_name(std::string_view name) {
  if (name.size() < 6 || name.size() > 200 || name.substr(name.size() - 5) != ".dump") return false;
  if (!std::isalnum(static_cast<unsigned char>(name.front()))) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) return false;
  }
  return true;
}

bool all_digits(std::string_view s) {
  if (s.empty() || s.size() > 18) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

json backup_list_pod(const stillontime::StillOnTime& r) {
  const json tmpl = stillontime::backup_pod_template(r, "request");
  const json& spec = tmpl["spec"];
  const json& backup = spec["containers"][0];
  // The volume the backup container mounts at /backups, and only that one.
  std::string volume;
  for (const auto& m : backup.value("volumeMounts", json::array())) {
    if (m.value("mountPath", "") == stillontime::kBackupMountPath) volume = m.value("name", "");
  }
  json volumes = json::array();
  for (const auto& v : spec.value("volumes", json::array())) {
    if (v.value("name", "") == volume) volumes.push_back(v);
  }
  json container = {
      {"name", "list"},
      {"image", backup["image"]},
      {"command", json::array({"sh", "-c", kListScript})},
      {"securityContext", backup["securityContext"]},
      {"resources",
       {{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}}, {"limits", {{"cpu", "100m"}, {"memory", "64Mi"}}}}},
      {"volumeMounts",
       json::array({{{"name", volume}, {"mountPath", stillontime::kBackupMountPath}, {"readOnly", true}}})},
  };
  json pod_spec = {
      {"restartPolicy", "Never"},
      {"activeDeadlineSeconds", 300},
      {"terminationGracePeriodSeconds", 1},
      {"automountServiceAccountToken", false},
      {"securityContext", spec["securityContext"]},
      {"containers", json::array({std::move(container)})},
      {"volumes", std::move(volumes)},
  };
  for (const char* keep :
       {"serviceAccountName", "nodeSelector", "tolerations", "affinity", "imagePullSecrets", "priorityClassName"}) {
    if (spec.contains(keep)) pod_spec[keep] = spec[keep];
  }
  json labels = {{stillontime::kLabelName, stillontime::kAppName},
                 {stillontime::kLabelInstance, r.metadata.name},
                 {stillontime::kLabelComponent, kListComponent},
                 {stillontime::kLabelManagedBy, kFieldManager}};
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"generateName", stillontime::child_name(r, "backup-list-")},
            {"namespace", r.target_namespace()},
            {"labels", std::move(labels)}}},
          {"spec", std::move(pod_spec)}};
}

kube::Result<BackupListing> parse_backup_listing(std::string_view message) {
  BackupListing out;
  std::istringstream in{std::string(message)};
  std::string line;
  bool saw_total = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line.rfind("total ", 0) == 0) {
      const std::string n = line.substr(6);
      if (!all_digits(n))
        return kube::make_error(kube::Code::kInternal, "backup listing: bad count line \"" + line + "\"");
      out.total = std::stoll(n);
      saw_total = true;
      continue;
    }
    // <mtime> <size> <name>; the name may not contain a space (valid_dump_name).
    const auto a = line.find(' ');
    const auto b = a == std::string::npos ? a : line.find(' ', a + 1);
    if (b == std::string::npos) continue;
    std::string mtime = line.substr(0, a);
    const std::string size = line.substr(a + 1, b - a - 1);
    const std::string name = line.substr(b + 1);
    if (const auto dot = mtime.find('.'); dot != std::string::npos) {
      const std::string fraction = mtime.substr(dot + 1, 18);
      if (!fraction.empty() && !all_digits(fraction)) continue;
      mtime.resize(dot);
    }
    if (!all_digits(mtime) || !all_digits(size) || !valid_dump_name(name)) continue;
    out.files.push_back({name, std::stoll(size), std::stoll(mtime)});
  }
  if (!saw_total)
    return kube::make_error(kube::Code::kInternal, "backup listing: no count line (the listing pod wrote nothing?)");
  return out;
}

kube::Result<BackupFile> find_backup(const BackupListing& listing, const std::string& from) {
  std::string names;
  for (const auto& f : listing.files) names += (names.empty() ? "" : ", ") + f.name;
  if (from == "latest") {
    // restore.sh's latest: the newest stillontime-*.dump by name (a UTC timestamp).
    const BackupFile* best = nullptr;
    for (const auto& f : listing.files) {
      if (f.name.rfind("stillontime-", 0) == 0 && (best == nullptr || f.name > best->name)) best = &f;
    }
    if (best == nullptr) {
      return kube::make_error(kube::Code::kNotFound,
                              "\"latest\" names no dump: the backup volume holds no stillontime-*.dump" +
                                  (names.empty() ? std::string() : " (only " + names + ")") +
                                  "; take one with `backup NAME --wait`");
    }
    return *best;
  }
  for (const auto& f : listing.files) {
    if (f.name == from) return f;
  }
  std::string msg = "no dump named " + from + " in the backup volume";
  msg += names.empty() ? std::string("; it holds none") : "; it holds: " + names;
  if (listing.total > static_cast<std::int64_t>(listing.files.size())) {
    msg += " (the newest " + std::to_string(listing.files.size()) + " of " + std::to_string(listing.total) + ")";
  }
  return kube::make_error(kube::Code::kNotFound, msg);
}

std::string human_size(std::int64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%lld B", static_cast<long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

}  // namespace sot::plugin
