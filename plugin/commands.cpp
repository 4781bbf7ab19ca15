#include "plugin/commands.h"

#include <algorithm>
#include <ostream>
#include <thread>

#include "kube/json_fields.h"
#include "kube/yaml.h"
#include "plugin/completion.h"
#include "plugin/format.h"
#include "plugin/history.h"
#include "plugin/ownership.h"
#include "plugin/resource.h"
#include "plugin/session.h"
#include "plugin/status_view.h"
#include "plugin/wait.h"
#include "stillontime/builders/backup.h"
#include "stillontime/builders/common.h"
#include "stillontime/kinds.h"
#include "stillontime/validate.h"

namespace sot::plugin {
namespace {

using kube::Code;
using kube::int_field;
using kube::object_field;
using kube::string_field;
using nlohmann::json;
using namespace std::chrono_literals;

const kube::ResourceRef kPods{"", "v1", "pods", "Pod", true};

std::string key_text(const Session& s, const std::string& name) {
  return s.ns() + "/" + name;
}

int fail(std::ostream& err, const std::string& message) {
  err << "error: " << message << "\n";
  return kExitFailed;
}

std::chrono::seconds timeout_or(const Invocation& inv, std::chrono::seconds fallback) {
  return inv.timeout.value_or(fallback);
}

kube::PatchOptions patch_options() {
  kube::PatchOptions po;
  po.field_manager = kFieldManager;
  return po;
}

// ---- status

int status_command(Session& s, const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto cr = s.get_resource(inv.name);
  if (!cr.ok()) return fail(err, cr.error().message);
  const json doc = status_document(s.snapshot(*cr, true), Session::now());
  switch (inv.output) {
    case Output::kJson:
      out << doc.dump(2) << "\n";
      break;
    case Output::kYaml:
      out << kube::json_to_yaml(doc);
      break;
    case Output::kText:
      out << render_status(doc, Session::now());
      break;
  }
  return kExitOk;
}

// ---- deploy and rollback: spec.version by server-side apply

int set_version(Session& s, const Invocation& inv, const json& cr, const std::string& version, std::ostream& out,
                std::ostream& err) {
  const std::string key = key_text(s, inv.name);
  const std::string current = string_field(object_field(cr, "spec"), "version");
  const auto owners = owners_of(cr, {"spec", "version"});
  if (auto owner = blocking_owner(owners, kFieldManager)) {
    const std::string who = describe_owner(*owner);
    if (!inv.force) {
      return fail(err, "spec.version of " + key + " is managed by " + who +
                           ": a change here would be undone at its next sync. Change the version where it comes from "
                           "(the Git repository), or pass --force to set it here anyway.");
    }
    out << "warning: spec.version is managed by " << who << "; --force takes it over, and its next sync may put "
        << current << " back unless the source changes too\n";
  }
  std::int64_t generation = int_field(object_field(cr, "metadata"), "generation");
  if (current == version) {
    out << "spec.version of " << key << " is already " << version << "\n";
  } else {
    json body = {{"apiVersion", stillontime::kApiVersion},
                 {"kind", stillontime::kKind},
                 {"metadata", {{"name", inv.name}, {"namespace", s.ns()}}},
                 {"spec", {{"version", version}}}};
    kube::ApplyOptions ao;
    ao.field_manager = kFieldManager;
    ao.force = true;  // decided above: only a person's kubectl or nobody holds it
    auto applied = s.client().apply(stillontime::stillontime_resource(), {s.ns(), inv.name}, body, ao);
    if (!applied.ok()) {
      if (applied.code() == Code::kInvalid) {
        return fail(err, "the API server refused spec.version \"" + version + "\": " + applied.error().message);
      }
      return fail(err, api_error("setting spec.version of " + key, applied.error()));
    }
    generation = int_field(object_field(*applied, "metadata"), "generation");
    out << "spec.version of " << key << ": " << current << " -> " << version << " (generation " << generation << ")\n";
    for (const auto& o : owners) {
      if (o.manager != kFieldManager && o.manager.rfind("kubectl", 0) == 0 &&
          (o.operation == "Apply" || o.manager == "kubectl-client-side-apply")) {
        out << "note: " << current << " came from `kubectl apply` (" << o.manager
            << "); applying that manifest again puts it back\n";
      }
    }
  }
  if (!inv.wait) {
    out << "the operator rolls it out; follow with `kubectl stillontime status " << inv.name << "` or use --wait\n";
    return kExitOk;
  }
  return s.wait(
      inv.name, [&](const json& c) { return judge_rollout(c, generation, version); }, timeout_or(inv, 10min), out, err);
}

int deploy_command(Session& s, const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto cr = s.get_resource(inv.name);
  if (!cr.ok()) return fail(err, cr.error().message);
  return set_version(s, inv, *cr, inv.version, out, err);
}

int rollback_command(Session& s, const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto cr = s.get_resource(inv.name);
  if (!cr.ok()) return fail(err, cr.error().message);
  const std::string current = string_field(object_field(*cr, "spec"), "version");
  auto target = choose_rollback(kube::array_field(object_field(*cr, "status"), "versionHistory"), current, inv.to);
  if (!target.ok()) return fail(err, "cannot roll back " + key_text(s, inv.name) + ": " + target.error().message);
  out << "rolling back " << key_text(s, inv.name) << " from " << current << " to " << *target
      << " (the last version that was Ready" << (inv.to.empty() ? "" : ", as asked") << ")\n";
  return set_version(s, inv, *cr, *target, out, err);
}

// ---- backups

// The resource and its defaulted spec, for a command that asks the operator
// to run something: refused while the spec does not pass or the resource is paused.
struct Workable {
  json cr;
  stillontime::StillOnTime resource;
};

kube::Result<Workable> workable_resource(Session& s, const Invocation& inv) {
  auto cr = s.get_resource(inv.name);
  if (!cr.ok()) return cr.error();
  auto r = defaulted_resource(*cr);
  if (!r.ok()) {
    return kube::make_error(Code::kInvalid, "the spec of " + key_text(s, inv.name) +
                                                " does not pass the operator's checks (" + r.error().message +
                                                "); fix it first");
  }
  if (r->spec.paused) {
    return kube::make_error(Code::kInvalid, key_text(s, inv.name) +
                                                " is paused (spec.paused): the operator starts nothing "
                                                "until `kubectl stillontime resume " +
                                                inv.name + "`");
  }
  return Workable{std::move(*cr), std::move(*r)};
}

int backup_command(Session& s, const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto w = workable_resource(s, inv);
  if (!w.ok()) return fail(err, w.error().message);
  const json& cr = w->cr;
  const stillontime::StillOnTime* r = &w->resource;
  if (!r->spec.backup.enabled.value_or(false)) {
    return fail(err, "backups are disabled for " + key_text(s, inv.name) +
                         " (spec.backup.enabled is false): there is no "
                         "backup volume to write to. Enable them with: kubectl patch stillontime " +
                         inv.name + " -n " + s.ns() + " --type merge -p '{\"spec\":{\"backup\":{\"enabled\":true}}}'");
  }
  const std::string id = inv.id.empty() ? "manual-" + compact_utc(Session::now()) : inv.id;
  const json& last = object_field(object_field(object_field(cr, "status"), "backup"), "lastRequest");
  if (string_field(last, "id") == id) {
    return fail(err, "backup request " + id + " was already made (phase " + string_field(last, "phase", "Pending") +
                         "); each id runs once: pass another --id");
  }
  auto patched = s.client().merge_patch(
      stillontime::stillontime_resource(), {s.ns(), inv.name},
      {{"metadata", {{"annotations", {{stillontime::kBackupRequestAnnotation, id}}}}}}, patch_options());
  if (!patched.ok()) return fail(err, api_error("requesting a backup of " + key_text(s, inv.name), patched.error()));
  out << "backup " << id << " of " << key_text(s, inv.name) << " requested (annotation "
      << stillontime::kBackupRequestAnnotation << "); the operator runs it as Job "
      << stillontime::backup_request_job_name(*r, id) << " in " << r->target_namespace() << "\n";
  if (!inv.wait) return kExitOk;
  return s.wait(
      inv.name, [&](const json& c) { return judge_backup_request(c, id); }, timeout_or(inv, 70min), out, err);
}

int backups_command(Session& s, const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto cr = s.get_resource(inv.name);
  if (!cr.ok()) return fail(err, cr.error().message);
  auto r = defaulted_resource(*cr);
  if (!r.ok())
    return fail(err,
                "the spec of " + key_text(s, inv.name) + " does not pass the operator's checks: " + r.error().message);
  auto listing = list_backups(s, *r, timeout_or(inv, 2min), err);
  if (!listing.ok()) return fail(err, listing.error().message);
  const std::int64_t now = Session::now();
  auto latest = find_backup(*listing, "latest");
  if (inv.output == Output::kJson) {
    json files = json::array();
    for (const auto& f : listing->files) {
      files.push_back({{"name", f.name},
                       {"size", f.size},
                       {"modified", utc(f.modified)},
                       {"latest", latest.ok() && latest->name == f.name}});
    }
    out << json{{"volume", stillontime::backup_pvc_name(*r)}, {"total", listing->total}, {"files", files}}.dump(2)
        << "\n";
    return kExitOk;
  }
  if (listing->files.empty()) {
    out << "no dumps in " << stillontime::backup_pvc_name(*r) << "; take one with `kubectl stillontime backup "
        << inv.name << " --wait`\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows = {{"NAME", "SIZE", "AGE", "MODIFIED"}};
  for (const auto& f : listing->files) {
    rows.push_back({f.name + (latest.ok() && latest->name == f.name ? " (latest)" : ""), human_size(f.size),
                    age_seconds(now - f.modified), utc(f.modified)});
  }
  out << table(rows);
  if (listing->total > static_cast<std::int64_t>(listing->files.size())) {
    out << "(the newest " << listing->files.size() << " of " << listing->total << " dumps)\n";
  }
  return kExitOk;
}

int restore_command(Session& s, const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto w = workable_resource(s, inv);
  if (!w.ok()) return fail(err, w.error().message);
  const stillontime::StillOnTime* r = &w->resource;
  const json& current = object_field(object_field(w->cr, "status"), "restore");
  const std::string phase = string_field(current, "phase");
  if (phase == "ScalingDown" || phase == "Running") {
    return fail(err, "restore " + string_field(current, "id") + " of " + key_text(s, inv.name) + " is still " + phase +
                         "; wait for it (`kubectl stillontime status " + inv.name + "`) before starting another");
  }
  const std::string id = inv.id.empty() ? "restore-" + compact_utc(Session::now()) : inv.id;
  if (string_field(current, "id") == id) {
    return fail(err, "restore id " + id + " already ran (phase " + phase + "); each id runs once: pass another --id");
  }
  // The operator's own checks of spec.restore, before anything is written.
  stillontime::StillOnTime wanted = *r;
  wanted.spec.restore.from = inv.from;
  wanted.spec.restore.id = id;
  if (auto errors = stillontime::validate(wanted); !errors.empty()) {
    return fail(err, "the operator would refuse this restore: " + stillontime::join_errors(errors));
  }
  out << "checking that " << inv.from << " is in " << stillontime::backup_pvc_name(*r) << "\n";
  auto listing = list_backups(s, *r, 2min, out);
  if (!listing.ok()) return fail(err, "cannot check the backup volume: " + listing.error().message);
  auto file = find_backup(*listing, inv.from);
  if (!file.ok()) return fail(err, "refusing to restore " + key_text(s, inv.name) + ": " + file.error().message);
  auto patched = s.client().merge_patch(stillontime::stillontime_resource(), {s.ns(), inv.name},
                                        {{"spec", {{"restore", {{"from", inv.from}, {"id", id}}}}}}, patch_options());
  if (!patched.ok()) return fail(err, api_error("setting spec.restore of " + key_text(s, inv.name), patched.error()));
  out << "restore " << id << " of " << key_text(s, inv.name) << " from " << inv.from
      << (inv.from == "latest" ? " (now " + file->name + ")" : "") << ", " << human_size(file->size) << ", "
      << age_seconds(Session::now() - file->modified) << " old, requested.\n"
      << "The operator scales the backend to 0, takes a safety dump (pre-restore-*.dump), restores in one transaction "
         "and scales the backend back.\n";
  if (!inv.wait) return kExitOk;
  return s.wait(
      inv.name, [&](const json& c) { return judge_restore(c, id); }, timeout_or(inv, 130min), out, err);
}

// ---- health

struct Check {
  std::string name;
  std::string result;  // PASS | FAIL | SKIP
  std::string detail;
};

Check proxy_check(Session& s, const std::string& ns, const std::string& service, const std::string& port,
                  const std::string& path, const std::string& label) {
  const std::string url = "/api/v1/namespaces/" + kube::url_encode(ns) + "/services/" + kube::url_encode(service) +
                          ":" + port + "/proxy" + path;
  const auto start = std::chrono::steady_clock::now();
  auto r = s.client().get_raw(url, 10s);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  const std::string via = "service " + service + " port " + port;
  if (!r.ok()) return {label, "FAIL", api_error(via, r.error())};
  if (r->status >= 200 && r->status < 300) {
    return {label, "PASS", "HTTP " + std::to_string(r->status) + " via " + via + " (" + std::to_string(ms) + " ms)"};
  }
  // The API server's own refusal (no endpoints, forbidden) is a Status object; the app's is its body.
  std::string body = r->body;
  const json status = json::parse(body, nullptr, false);
  if (status.is_object() && string_field(status, "kind") == "Status") {
    body = string_field(status, "message", body);
    // 1.20 answers 404 naming the Service when it has no Endpoints object at all.
    if (r->status == 404 && s.client().get(kube::resources::services(), {ns, service}).ok()) {
      body = "the Service has no endpoints (no ready pod behind it)";
    }
  }
  return {label, "FAIL", "HTTP " + std::to_string(r->status) + " via " + via + ": " + one_line(body, 200)};
}

Check component_check(const json& cr, const std::string& component) {
  const json& c = object_field(object_field(object_field(cr, "status"), "components"), component);
  if (c.empty()) return {component, "FAIL", "not in status.components (has the operator created it?)"};
  const std::int64_t desired = int_field(c, "desired"), ready = int_field(c, "ready");
  const std::string text =
      std::to_string(ready) + "/" + std::to_string(desired) + " ready (status.components." + component + ")";
  return {component, desired > 0 && ready >= desired ? "PASS" : "FAIL", text};
}

int health_command(Session& s, const Invocation& inv, std::ostream& out, std::ostream& err) {
  auto cr = s.get_resource(inv.name);
  if (!cr.ok()) return fail(err, cr.error().message);
  const std::string target = target_namespace_of(*cr);
  const std::string n = inv.name;
  std::vector<Check> checks;
  {
    const json& ready = condition(*cr, "Ready");
    const json& stalled = condition(*cr, "Stalled");
    const bool ok = string_field(ready, "status") == "True" && string_field(stalled, "status") != "True";
    std::string detail = ready.empty()
                             ? "no Ready condition yet (is the operator running?)"
                             : "Ready=" + string_field(ready, "status") + " " + string_field(ready, "reason") + ": " +
                                   one_line(string_field(ready, "message"), 160);
    if (string_field(stalled, "status") == "True") {
      detail += "; Stalled " + string_field(stalled, "reason") + ": " + one_line(string_field(stalled, "message"), 160);
    }
    checks.push_back({"resource", ok ? "PASS" : "FAIL", detail});
  }
  checks.push_back(proxy_check(s, target, n + "-" + stillontime::kBackend, "http", "/health", "backend /health"));
  checks.push_back(proxy_check(s, target, n + "-" + stillontime::kBackend, "http", "/ready", "backend /ready"));
  checks.push_back(proxy_check(s, target, n + "-" + stillontime::kFrontend, "http", "/healthz", "frontend /healthz"));
  auto r = defaulted_resource(*cr);
  if (r.ok() && r->spec.postgres.external) {
    checks.push_back(
        {"postgres", "SKIP", "external database (spec.postgres.external): the backend's /ready checks it"});
  } else {
    checks.push_back(component_check(*cr, stillontime::kPostgres));
  }
  checks.push_back(component_check(*cr, stillontime::kRedis));

  int passed = 0, failed = 0;
  for (const auto& c : checks) {
    passed += c.result == "PASS" ? 1 : 0;
    failed += c.result == "FAIL" ? 1 : 0;
  }
  if (inv.output == Output::kJson) {
    json list = json::array();
    for (const auto& c : checks) list.push_back({{"check", c.name}, {"result", c.result}, {"detail", c.detail}});
    out << json{{"healthy", failed == 0}, {"checks", list}}.dump(2) << "\n";
  } else {
    std::vector<std::vector<std::string>> rows = {{"CHECK", "RESULT", "DETAIL"}};
    for (const auto& c : checks) rows.push_back({c.name, c.result, c.detail});
    out << table(rows) << passed << " of " << (passed + failed) << " checks passed"
        << (failed == 0 ? "" : "; " + std::to_string(failed) + " failed") << "\n";
  }
  return failed == 0 ? kExitOk : kExitFailed;
}

// ---- pause / resume

int pause_command(Session& s, const Invocation& inv, bool paused, std::ostream& out, std::ostream& err) {
  auto cr = s.get_resource(inv.name);
  if (!cr.ok()) return fail(err, cr.error().message);
  std::int64_t generation = int_field(object_field(*cr, "metadata"), "generation");
  if (kube::bool_field(object_field(*cr, "spec"), "paused") == paused) {
    out << key_text(s, inv.name) << " is already " << (paused ? "paused" : "not paused") << "\n";
  } else {
    auto patched = s.client().merge_patch(stillontime::stillontime_resource(), {s.ns(), inv.name},
                                          {{"spec", {{"paused", paused}}}}, patch_options());
    if (!patched.ok()) return fail(err, api_error("setting spec.paused of " + key_text(s, inv.name), patched.error()));
    generation = int_field(object_field(*patched, "metadata"), "generation");
    out << key_text(s, inv.name)
        << (paused ? ": spec.paused is true; the operator changes nothing until `resume`\n"
                   : ": spec.paused is false; the operator brings the children back to the spec\n");
  }
  if (!inv.wait) return kExitOk;
  return s.wait(
      inv.name, [&](const json& c) { return judge_paused(c, generation, paused); }, timeout_or(inv, 2min), out, err);
}

// ---- completion: the cluster's part

class SessionSource final : public CompletionSource {
 public:
  explicit SessionSource(Session* s) : s_(s) {}
  std::vector<std::string> resources(const std::string& ns) override {
    return s_ ? s_->resource_names(ns) : std::vector<std::string>{};
  }
  std::vector<std::string> namespaces() override {
    std::vector<std::string> out;
    if (!s_) return out;
    auto list = kube::list_all(s_->client(), kube::resources::namespaces(), "", {});
    if (list.ok()) {
      for (const auto& n : list->items) out.push_back(string_field(object_field(n, "metadata"), "name"));
    }
    return out;
  }
  std::vector<std::string> versions(const std::string& ns, const std::string& name) override {
    std::vector<std::string> out;
    json cr = get(ns, name);
    for (const auto& h : kube::array_field(object_field(cr, "status"), "versionHistory")) {
      const std::string v = string_field(h, "version");
      if (!v.empty() && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    }
    return out;
  }
  std::vector<std::string> backups(const std::string& ns, const std::string& name) override {
    std::vector<std::string> out = {"latest"};
    const std::string last = string_field(object_field(object_field(get(ns, name), "status"), "backup"), "lastBackup");
    if (!last.empty()) out.push_back(last);
    return out;
  }

 private:
  json get(const std::string& ns, const std::string& name) {
    if (!s_) return json::object();
    auto r = s_->client().get(stillontime::stillontime_resource(), {ns.empty() ? s_->ns() : ns, name});
    return r.ok() ? *r : json::object();
  }
  Session* s_;
};

int complete_command(const Invocation& inv, std::ostream& out) {
  // The partial command line's own --kubeconfig, --context and -n (when it parses that far).
  Invocation where;
  std::vector<std::string> before(inv.words.begin(), inv.words.empty() ? inv.words.end() : inv.words.end() - 1);
  for (std::size_t i = 0; i + 1 < before.size(); ++i) {
    if (before[i] == "--kubeconfig") where.kubeconfig = before[i + 1];
    if (before[i] == "--context") where.context = before[i + 1];
  }
  auto session = Session::open(where);
  SessionSource source(session.ok() ? session->get() : nullptr);
  out << complete(inv.words, source);
  return kExitOk;
}

}  // namespace

kube::Result<BackupListing> list_backups(Session& s, const stillontime::StillOnTime& r, std::chrono::seconds timeout,
                                         std::ostream& out) {
  const std::string target = r.target_namespace();
  const std::string pvc = stillontime::backup_pvc_name(r);
  auto claim = s.client().get(kube::resources::persistent_volume_claims(), {target, pvc});
  if (claim.code() == Code::kNotFound) {
    return kube::make_error(Code::kNotFound,
                            "no backup volume " + pvc + " in namespace " + target +
                                ": backups were never enabled (spec.backup.enabled) or the claim was deleted");
  }
  if (!claim.ok()) return kube::make_error(claim.code(), api_error("reading the claim " + pvc, claim.error()));
  auto created = s.client().create(kPods, target, backup_list_pod(r));
  if (!created.ok())
    return kube::make_error(created.code(), api_error("starting the listing pod in " + target, created.error()));
  const std::string name = string_field(object_field(*created, "metadata"), "name");
  // The pod goes whatever happens below.
  struct Cleanup {
    Session& s;
    std::string ns, name;
    ~Cleanup() {
      kube::DeleteOptions del;
      del.propagation = kube::Propagation::kBackground;
      (void)s.client().remove(kPods, {ns, name}, del);
    }
  } cleanup{s, target, name};

  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + timeout;
  bool told = false;
  std::string last_state = "Pending";
  while (std::chrono::steady_clock::now() < deadline) {
    auto got = s.client().get(kPods, {target, name});
    if (got.ok()) {
      const json& st = object_field(*got, "status");
      const std::string phase = string_field(st, "phase", "Pending");
      std::string message;
      for (const auto& cs : kube::array_field(st, "containerStatuses")) {
        const json& state = object_field(cs, "state");
        const json& term = object_field(state, "terminated");
        if (!term.empty()) message = string_field(term, "message", string_field(term, "reason"));
        const std::string waiting = string_field(object_field(state, "waiting"), "reason");
        if (!waiting.empty()) last_state = "waiting: " + waiting;
      }
      for (const auto& c : kube::array_field(st, "conditions")) {
        if (string_field(c, "type") == "PodScheduled" && string_field(c, "status") == "False") {
          last_state = "not scheduled: " + one_line(string_field(c, "message"), 200);
        }
      }
      if (phase == "Succeeded") return parse_backup_listing(message);
      if (phase == "Failed") {
        return kube::make_error(
            Code::kInternal, "the listing pod " + name + " failed: " +
                                 one_line(message.empty() ? string_field(st, "reason", "no message") : message, 300));
      }
      if (!told && std::chrono::steady_clock::now() - start > 5s) {
        out << "waiting for the listing pod " << target << "/" << name << " (" << last_state << ")\n" << std::flush;
        told = true;
      }
    } else if (got.code() == Code::kNotFound) {
      return kube::make_error(Code::kInternal, "the listing pod " + name + " was deleted before it finished");
    }
    std::this_thread::sleep_for(300ms);
  }
  return kube::make_error(
      Code::kTimeout, "the listing pod " + target + "/" + name + " did not finish within " + format_duration(timeout) +
                          " (" + last_state +
                          "); a ReadWriteOnce backup volume attached to another node keeps it Pending");
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto parsed = parse_args(args);
  if (!parsed.ok()) {
    err << "error: " << parsed.error().message << "\n";
    return kExitUsage;
  }
  const Invocation& inv = *parsed;
  if (inv.help) {
    out << help_text(inv.command == "help" ? inv.help_topic : inv.command);
    return kExitOk;
  }
  if (inv.command == "help") {
    out << help_text(inv.help_topic);
    return kExitOk;
  }
  if (inv.command == "version") {
    out << "kubectl-stillontime " << STILLONTIME_VERSION << "\n";
    return kExitOk;
  }
  if (inv.command == "completion") {
    out << completion_script(inv.shell);
    return kExitOk;
  }
  if (inv.command == "__complete") return complete_command(inv, out);

  auto session = Session::open(inv);
  if (!session.ok()) return fail(err, session.error().message);
  Session& s = **session;
  if (inv.command == "status") return status_command(s, inv, out, err);
  if (inv.command == "deploy") return deploy_command(s, inv, out, err);
  if (inv.command == "rollback") return rollback_command(s, inv, out, err);
  if (inv.command == "backup") return backup_command(s, inv, out, err);
  if (inv.command == "backups") return backups_command(s, inv, out, err);
  if (inv.command == "restore") return restore_command(s, inv, out, err);
  if (inv.command == "health") return health_command(s, inv, out, err);
  if (inv.command == "pause") return pause_command(s, inv, true, out, err);
  if (inv.command == "resume") return pause_command(s, inv, false, out, err);
  if (inv.command == "report") return report_command(s, inv, out, err);
  return fail(err, "unknown command " + inv.command);
}

}  // namespace sot::plugin
