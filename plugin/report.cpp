// `report NAME`: one tar.gz with what a bug report needs, nothing secret
// (redact.h says what is removed). Anything that cannot be read (a 403, no
// operator pods where expected) is listed in README.txt instead of failing
// the whole report.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <ostream>
#include <sstream>
#include <unistd.h>

#include "kube/json_fields.h"
#include "kube/yaml.h"
#include "plugin/archive.h"
#include "plugin/commands.h"
#include "plugin/format.h"
#include "plugin/redact.h"
#include "plugin/session.h"
#include "plugin/status_view.h"
#include "stillontime/builders/common.h"

namespace sot::plugin {
namespace {

using kube::object_field;
using kube::string_field;
using nlohmann::json;

const kube::ResourceRef kPods{"", "v1", "pods", "Pod", true};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string yaml_of(const json& object) {
  return kube::json_to_yaml(redact_object(object));
}

// Writes `data` to `path` (mode 0600: a report is for the people it is sent to).
kube::Status write_file(const std::string& path, const std::string& data) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return kube::make_error(kube::Code::kInvalid, "cannot write " + path + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      return kube::make_error(kube::Code::kInvalid, "cannot write " + path + ": " + why);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0)
    return kube::make_error(kube::Code::kInvalid, "cannot write " + path + ": " + std::strerror(errno));
  return kube::ok_status();
}

json sorted_events(std::vector<json> events) {
  auto when = [](const json& e) {
    return string_field(e, "lastTimestamp",
                        string_field(e, "eventTime", string_field(object_field(e, "metadata"), "creationTimestamp")));
  };
  std::sort(events.begin(), events.end(), [&](const json& a, const json& b) { return when(a) < when(b); });
  json out = json::array();
  for (auto& e : events) out.push_back(redact_object(std::move(e)));
  return out;
}

std::string events_text(const json& events, std::int64_t now) {
  std::vector<std::vector<std::string>> rows = {{"LAST SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE"}};
  for (const auto& e : events) {
    const json& obj = object_field(e, "involvedObject");
    rows.push_back({age(string_field(e, "lastTimestamp", string_field(e, "eventTime")), now), string_field(e, "type"),
                    string_field(e, "reason"), string_field(obj, "kind") + "/" + string_field(obj, "name"),
                    std::to_string(kube::int_field(e, "count", 1)), one_line(string_field(e, "message"), 300)});
  }
  return table(rows);
}

}  // namespace

int report_command(Session& s, const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto cr = s.get_resource(inv.name);
  if (!cr.ok()) {
    err << "error: " << cr.error().message << "\n";
    return kExitFailed;
  }
  const std::int64_t now = Session::now();
  const std::string base = "stillontime-report-" + s.ns() + "-" + inv.name + "-" + compact_utc(now);
  const std::string path = inv.file.empty() ? base + ".tar.gz" : inv.file;
  const std::string root = base + "/";
  std::vector<std::string> problems;
  TarGzWriter tar;
  int files = 0;
  auto add = [&](const std::string& name, const std::string& content) {
    tar.add_file(root + name, content, now);
    ++files;
  };

  const ClusterSnapshot snap = s.snapshot(*cr, true);
  problems.insert(problems.end(), snap.notes.begin(), snap.notes.end());
  const json doc = status_document(snap, now);
  add("stillontime.yaml", yaml_of(*cr));
  add("status.txt", render_status(doc, now));
  add("status.json", doc.dump(2) + "\n");
  for (const auto* list : {&snap.children, &snap.pods}) {
    for (const auto& child : *list) {
      add("children/" + lower(string_field(child, "kind")) + "/" +
              string_field(object_field(child, "metadata"), "name") + ".yaml",
          yaml_of(child));
    }
  }

  // Events: the resource's own, and everything in the target namespace.
  std::vector<json> events;
  const std::string target = target_namespace_of(*cr);
  kube::ListOptions about;
  about.field_selector = "involvedObject.name=" + inv.name + ",involvedObject.kind=StillOnTime";
  auto own = kube::list_all(s.client(), kube::resources::events(), s.ns(), about);
  if (own.ok()) {
    events.insert(events.end(), own->items.begin(), own->items.end());
  } else {
    problems.push_back(api_error("events of the resource", own.error()));
  }
  auto in_target = kube::list_all(s.client(), kube::resources::events(), target, {});
  if (in_target.ok()) {
    for (auto& e : in_target->items) {
      if (target != s.ns() || string_field(object_field(e, "involvedObject"), "kind") != "StillOnTime")
        events.push_back(std::move(e));
    }
  } else {
    problems.push_back(api_error("events in " + target, in_target.error()));
  }
  const json sorted = sorted_events(std::move(events));
  add("events.yaml", kube::json_to_yaml(sorted));
  add("events.txt", events_text(sorted, now));

  if (auto version = s.client().server_version(); version.ok()) {
    add("cluster-version.yaml", kube::json_to_yaml(*version));
  } else {
    problems.push_back(api_error("the server version", version.error()));
  }

  // The operator: its pods, their logs, the Lease.
  const std::string op_ns = inv.operator_namespace;
  kube::ListOptions op_pods;
  op_pods.label_selector = std::string(stillontime::kLabelName) + "=" + stillontime::kManagedBy;
  auto pods = kube::list_all(s.client(), kPods, op_ns, op_pods);
  if (!pods.ok()) {
    problems.push_back(api_error("operator pods in " + op_ns, pods.error()));
  } else if (pods->items.empty()) {
    problems.push_back("no operator pods in namespace " + op_ns + " (label " + op_pods.label_selector +
                       "); if the operator runs elsewhere, pass --operator-namespace");
  }
  if (pods.ok()) {
    for (auto& pod : pods->items) {
      pod["apiVersion"] = "v1";
      pod["kind"] = "Pod";
      const std::string pod_name = string_field(object_field(pod, "metadata"), "name");
      add("operator/" + pod_name + ".yaml", yaml_of(pod));
      for (const auto& c : kube::array_field(object_field(pod, "spec"), "containers")) {
        const std::string container = string_field(c, "name");
        const std::string url = kube::object_path(kPods, {op_ns, pod_name}, "log") +
                                "?container=" + kube::url_encode(container) +
                                "&tailLines=" + std::to_string(inv.log_lines);
        auto log = s.client().get_raw(url, std::chrono::seconds(30));
        if (!log.ok() || log->status != 200) {
          problems.push_back("log of " + op_ns + "/" + pod_name + " (" + container + "): " +
                             (log.ok() ? "HTTP " + std::to_string(log->status) + " " + one_line(log->body, 200)
                                       : log.error().message));
          continue;
        }
        std::istringstream lines(log->body);
        std::string line, redacted;
        while (std::getline(lines, line)) redacted += redact_log_line(line) + "\n";
        add("operator/" + pod_name + "." + container + ".log", redacted);
      }
    }
  }
  if (auto lease = s.client().get(kube::resources::leases(), {op_ns, stillontime::kManagedBy}); lease.ok()) {
    add("operator/lease.yaml", yaml_of(*lease));
  } else if (lease.code() != kube::Code::kNotFound) {
    problems.push_back(api_error("the leader-election Lease in " + op_ns, lease.error()));
  }

  std::ostringstream readme;
  readme << "StillOnTime bug report for " << s.ns() << "/" << inv.name << "\n"
         << "written " << utc(now) << " by kubectl-stillontime " << STILLONTIME_VERSION << "\n\n"
         << "stillontime.yaml     the resource\n"
         << "status.txt, .json    what `kubectl stillontime status` shows\n"
         << "children/KIND/*.yaml every child (label stillontime.app/owner=" << s.ns() << "." << inv.name
         << ") and the pods in " << target << "\n"
         << "events.txt, .yaml    events of the resource and of " << target << "\n"
         << "operator/            the operator's pods in " << op_ns << ", their last " << inv.log_lines
         << " log lines, its Lease\n"
         << "cluster-version.yaml the API server's version\n\n"
         << "Redacted: Secrets keep their keys only; env values with credential-like names and passwords in URLs are\n"
         << "replaced by " << kRedacted << "; env from secretKeyRef is a reference; last-applied annotations and\n"
         << "managedFields are dropped; log lines have credential-like fields replaced.\n";
  if (!problems.empty()) {
    readme << "\nNot collected:\n";
    for (const auto& p : problems) readme << "  - " << one_line(p, 400) << "\n";
  }
  add("README.txt", readme.str());

  auto archive = tar.finish();
  if (!archive.ok()) {
    err << "error: " << archive.error().message << "\n";
    return kExitFailed;
  }
  if (auto st = write_file(path, *archive); !st.ok()) {
    err << "error: " << st.error().message << "\n";
    return kExitFailed;
  }
  out << "wrote " << path << " (" << files << " files, " << human_size(static_cast<std::int64_t>(archive->size()))
      << "); Secrets appear with their keys only\n";
  for (const auto& p : problems) out << "  not collected: " << one_line(p, 300) << "\n";
  return kExitOk;
}

}  // namespace sot::plugin
