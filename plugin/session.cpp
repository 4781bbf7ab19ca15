#include "plugin/session.h"

#include <algorithm>
#include <ostream>
#include <thread>

#include "kube/json_fields.h"
#include "plugin/format.h"
#include "stillontime/builders/backup.h"
#include "stillontime/builders/common.h"
#include "stillontime/kinds.h"

namespace sot::plugin {
namespace {

using kube::Code;
using kube::string_field;
using nlohmann::json;

const kube::ResourceRef kPods{"", "v1", "pods", "Pod", true};

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

}  // namespace

std::string target_namespace_of(const json& cr) {
  const json& meta = kube::object_field(cr, "metadata");
  return string_field(kube::object_field(cr, "status"), "targetNamespace",
                      string_field(kube::object_field(cr, "spec"), "targetNamespace", string_field(meta, "namespace")));
}

std::string api_error(const std::string& what, const kube::Error& e) {
  switch (e.code) {
    case Code::kForbidden:
      return what + ": forbidden (" + e.message + "); ask your cluster admin for that permission";
    case Code::kUnauthorized:
      return what + ": unauthorized: the kubeconfig's credentials were refused (expired token or certificate?)";
    case Code::kTls:
      return what + ": TLS: " + e.message + " (the kubeconfig's certificate-authority does not match the server)";
    case Code::kUnavailable:
    case Code::kTimeout:
      return what + ": the API server did not answer (" + e.message +
             "); check the kubeconfig's server and your network";
    default:
      return what + ": " + e.message;
  }
}

Session::Session(std::unique_ptr<kube::RestClient> client, std::string ns, std::string source)
    : client_(std::move(client)), ns_(std::move(ns)), source_(std::move(source)) {}

kube::Result<std::unique_ptr<Session>> Session::open(const Invocation& inv) {
  auto cfg = kube::load_default(inv.kubeconfig, inv.context);
  if (!cfg.ok()) return cfg.error();
  cfg->user_agent = std::string(kFieldManager) + "/" STILLONTIME_VERSION;
  cfg->field_manager = kFieldManager;
  std::string ns = inv.ns.value_or(cfg->default_namespace.empty() ? "default" : cfg->default_namespace);
  const std::string source = cfg->source;
  return std::make_unique<Session>(kube::RestClient::create(*cfg), std::move(ns), source);
}

std::vector<std::string> Session::resource_names(const std::string& ns) {
  auto list = kube::list_all(*client_, stillontime::stillontime_resource(), ns.empty() ? ns_ : ns, {});
  std::vector<std::string> out;
  if (!list.ok()) return out;
  for (const auto& item : list->items) out.push_back(string_field(kube::object_field(item, "metadata"), "name"));
  std::sort(out.begin(), out.end());
  return out;
}

kube::Result<json> Session::get_resource(const std::string& name) {
  const auto ref = stillontime::stillontime_resource();
  auto got = client_->get(ref, {ns_, name});
  if (got.ok()) return got;
  if (got.code() != Code::kNotFound) {
    return kube::make_error(
        got.code(),
        api_error("reading StillOnTime " + name + " in namespace " + ns_ + " (" + source_ + ")", got.error()));
  }
  auto here = kube::list_all(*client_, ref, ns_, {});
  if (!here.ok() && here.code() == Code::kNotFound) {
    return kube::make_error(Code::kNotFound, "the StillOnTime CRD is not installed on this cluster (" + source_ +
                                                 "); install it with `kubectl apply --server-side -k crds`");
  }
  std::vector<std::string> names;
  if (here.ok()) {
    for (const auto& item : here->items) names.push_back(string_field(kube::object_field(item, "metadata"), "name"));
  }
  std::string msg = "no StillOnTime named " + name + " in namespace " + ns_;
  if (!names.empty()) {
    std::sort(names.begin(), names.end());
    return kube::make_error(Code::kNotFound, msg + "; found: " + join(names));
  }
  // None here: look across namespaces (a wrong -n is the usual cause), if allowed.
  auto all = kube::list_all(*client_, ref, "", {});
  std::vector<std::string> elsewhere;
  if (all.ok()) {
    for (const auto& item : all->items) {
      const json& m = kube::object_field(item, "metadata");
      elsewhere.push_back(string_field(m, "namespace") + "/" + string_field(m, "name"));
    }
  }
  std::sort(elsewhere.begin(), elsewhere.end());
  if (elsewhere.size() > 10) {
    const std::size_t more = elsewhere.size() - 10;
    elsewhere.resize(10);
    elsewhere.push_back("and " + std::to_string(more) + " more");
  }
  if (!elsewhere.empty())
    return kube::make_error(Code::kNotFound,
                            msg + " (none there); in other namespaces: " + join(elsewhere) + " (use -n)");
  return kube::make_error(Code::kNotFound, msg + " (none there" + (all.ok() ? " or anywhere else)" : ")"));
}

const stillontime::ApiVersions& Session::api() {
  if (!api_) api_ = stillontime::discover_api_versions(*client_);
  return *api_;
}

ClusterSnapshot Session::snapshot(const json& cr, bool dump_sizes) {
  ClusterSnapshot snap;
  snap.resource = cr;
  snap.api = api();
  const json& meta = kube::object_field(cr, "metadata");
  const std::string name = string_field(meta, "name");
  const std::string owner = string_field(meta, "namespace") + "." + name;
  const std::string target = target_namespace_of(cr);
  kube::ListOptions by_owner;
  by_owner.label_selector = std::string(stillontime::kLabelOwner) + "=" + owner;
  for (const auto& kind : stillontime::child_kinds(snap.api)) {
    auto list = kube::list_all(*client_, kind, target, by_owner);
    if (!list.ok()) {
      if (list.code() != Code::kNotFound)
        snap.notes.push_back(api_error("listing " + kind.plural + " in " + target, list.error()));
      continue;
    }
    for (auto& item : list->items) {
      item["apiVersion"] = kind.api_version();
      item["kind"] = kind.kind;
      snap.children.push_back(std::move(item));
    }
  }
  kube::ListOptions by_instance;
  by_instance.label_selector = std::string(stillontime::kLabelName) + "=" + stillontime::kAppName + "," +
                               stillontime::kLabelInstance + "=" + name;
  auto pods = kube::list_all(*client_, kPods, target, by_instance);
  if (pods.ok()) {
    for (auto& p : pods->items) {
      p["apiVersion"] = "v1";
      p["kind"] = "Pod";
      snap.pods.push_back(std::move(p));
    }
  } else {
    snap.notes.push_back(api_error("listing pods in " + target, pods.error()));
  }
  if (dump_sizes) {
    // The sizes of the newest successful backup runs, from backup.sh's "wrote NAME (N bytes)" log line.
    int read = 0;
    for (const auto& pod : snap.pods) {
      const std::string job =
          string_field(kube::object_field(kube::object_field(pod, "metadata"), "labels"), "job-name");
      if (job.empty() || read >= 5 || string_field(kube::object_field(pod, "status"), "phase") != "Succeeded") continue;
      const std::string path =
          kube::object_path(kPods, {target, string_field(kube::object_field(pod, "metadata"), "name")}, "log") +
          "?container=backup&tailLines=50";
      auto log = client_->get_raw(path, std::chrono::seconds(10));
      ++read;
      if (log.ok() && log->status == 200) snap.backup_sizes[job] = dump_size_from_log(log->body);
    }
  }
  return snap;
}

std::int64_t Session::now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int Session::wait(const std::string& name, const Judge& judge, std::chrono::seconds timeout, std::ostream& out,
                  std::ostream& err) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  const auto ref = stillontime::stillontime_resource();
  std::string last;
  auto show = [&](const Progress& p) {
    if (p.verdict == Verdict::kFailed) return;
    if (p.line == last && p.verdict == Verdict::kWaiting) return;
    last = p.line;
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start);
    out << "[" << format_duration(elapsed) << "] " << p.line << "\n" << std::flush;
  };
  auto finish = [&](const Progress& p) {
    if (p.verdict == Verdict::kDone) {
      show(p);
      return kExitOk;
    }
    err << "error: " << p.line << "\n";
    return kExitFailed;
  };
  while (Clock::now() < deadline) {
    auto cr = client_->get(ref, {ns_, name});
    if (cr.code() == Code::kNotFound) {
      err << "error: StillOnTime " << ns_ << "/" << name << " was deleted while waiting\n";
      return kExitFailed;
    }
    if (!cr.ok()) {
      // A blip (API server restart, network) is waited out; the deadline still holds.
      out << "  (" << api_error("reading the resource", cr.error()) << "; retrying)\n";
      std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::seconds(2), deadline - Clock::now()));
      continue;
    }
    Progress p = judge(*cr);
    if (p.verdict != Verdict::kWaiting) return finish(p);
    show(p);
    const auto remaining = std::chrono::duration_cast<std::chrono::seconds>(deadline - Clock::now()).count();
    if (remaining <= 0) break;
    kube::WatchOptions wo;
    wo.field_selector = "metadata.name=" + name;
    wo.resource_version = string_field(kube::object_field(*cr, "metadata"), "resourceVersion");
    wo.timeout_seconds = static_cast<int>(std::min<long long>(remaining + 1, 300));
    std::optional<Progress> final;
    kube::Cancellation cancel;
    auto watched = client_->watch(
        ref, ns_, wo,
        [&](kube::WatchEvent&& ev) {
          if (ev.type == kube::EventType::kBookmark) return Clock::now() < deadline;
          if (ev.type == kube::EventType::kDeleted) {
            final = Progress{Verdict::kFailed, "StillOnTime " + ns_ + "/" + name + " was deleted while waiting"};
            return false;
          }
          Progress q = judge(ev.object);
          if (q.verdict != Verdict::kWaiting) {
            final = q;
            return false;
          }
          show(q);
          return Clock::now() < deadline;
        },
        cancel);
    if (final) return finish(*final);
    if (!watched.ok() && watched.code() != Code::kGone) {
      std::this_thread::sleep_for(std::min<Clock::duration>(
          std::chrono::seconds(1), std::max<Clock::duration>(deadline - Clock::now(), Clock::duration::zero())));
    }
  }
  err << "error: timed out after " << format_duration(timeout) << (last.empty() ? "" : "; last seen: " + last) << "\n";
  return kExitTimeout;
}

}  // namespace sot::plugin
