// The operator's RBAC in manifests/default, checked against its code in both
// directions: every (API group, resource, verb) the operator uses is granted,
// and nothing is granted that it does not use. What the operator uses comes
// from the code wherever the code can say it:
//   - child_kinds() for every API version set: informers list and watch them
//     across namespaces; finalize deletes them (prune deletes managed_kinds(),
//     a subset);
//   - controller_spec()'s other watches (Namespaces, for the target's consent):
//     list and watch;
//   - desired_state() of every example plus a resource with every feature on:
//     each object is server-side applied (patch, and create when new) or, when
//     create_only, created;
//   - the rules of every Role in that desired set (the embedded Prometheus's
//     discovery Role): RBAC lets the operator grant only what it holds itself;
// and, written here because they are single calls in the runtime and the
// reconciler: the StillOnTime resource (informer list/watch, get before a
// one-off Job, update for the finalizer, merge patch of status), Events (create, then patch when they
// repeat), secrets get (the user's secretRef),
// and the Lease (get, create, update) in the operator's namespace.
// test/e2e/manifests proves the grants are enough against a real API server.
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include "controller/reconciler.h"
#include "kube/resource.h"
#include "kube/yaml.h"
#include "stillontime/defaults.h"
#include "stillontime/desired_state.h"
#include "stillontime/spec.h"

using namespace sot;
using namespace sot::stillontime;
using Json = nlohmann::json;

namespace {

// (apiGroup, resource, verb)
using Permission = std::tuple<std::string, std::string, std::string>;
using Permissions = std::set<Permission>;

std::string text_of(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string show(const Permissions& ps) {
  std::string out;
  for (const auto& [g, r, v] : ps) out += "  " + (g.empty() ? std::string("core") : g) + " " + r + " " + v + "\n";
  return out;
}

// The rules of a Role or ClusterRole file, expanded; CHECKs there is no "*" and
// no resourceNames/nonResourceURLs the comparison would not see.
Permissions granted_by(const std::string& path, const std::string& kind) {
  const YAML::Node role = YAML::LoadFile(path);
  REQUIRE(role["kind"].as<std::string>() == kind);
  Permissions out;
  for (const auto& rule : role["rules"]) {
    CHECK_FALSE(rule["resourceNames"]);
    CHECK_FALSE(rule["nonResourceURLs"]);
    for (const auto& g : rule["apiGroups"]) {
      for (const auto& r : rule["resources"]) {
        for (const auto& v : rule["verbs"]) {
          const auto group = g.as<std::string>(), resource = r.as<std::string>(), verb = v.as<std::string>();
          CHECK_MESSAGE(group != "*", path);
          CHECK_MESSAGE(resource.find('*') == std::string::npos, path);
          CHECK_MESSAGE(verb != "*", path);
          CHECK_MESSAGE(out.insert({group, resource, verb}).second, ("granted twice: " + resource + " " + verb));
        }
      }
    }
  }
  return out;
}

void add(Permissions& ps, const kube::ResourceRef& ref, std::initializer_list<const char*> verbs,
         const std::string& subresource = "") {
  for (const char* v : verbs) ps.insert({ref.group, ref.plural + (subresource.empty() ? "" : "/" + subresource), v});
}

// Resources the desired-state test renders: the examples users apply, and one
// with every optional child switched on.
std::vector<StillOnTime> resources_to_render() {
  std::vector<Json> crs;
  for (const char* name : {"development", "staging", "production", "targetnamespace"}) {
    auto docs =
        kube::yaml_documents_to_json(text_of(std::string(STILLONTIME_SOURCE_DIR) + "/examples/" + name + ".yaml"));
    REQUIRE(docs.ok());
    for (auto& d : *docs) crs.push_back(d);
  }
  crs.push_back({{"apiVersion", "stillontime.app/v1alpha1"},
                 {"kind", "StillOnTime"},
                 {"metadata", {{"name", "everything"}, {"namespace", "apps"}, {"uid", "u"}, {"generation", 1}}},
                 {"spec",
                  {{"environment", "production"},
                   {"version", "1.4.2"},
                   {"deletionPolicy", "Delete"},
                   {"backend", {{"secretRef", {{"name", "external"}}}}},
                   {"ingress",
                    {{"enabled", true},
                     {"className", "nginx"},
                     {"host", "a.example.com"},
                     {"apiHost", "api.example.com"},
                     {"tls", {{"secretName", "tls"}}}}},
                   {"networkPolicy", {{"enabled", true}}},
                   {"monitoring", {{"enabled", true}, {"embedded", true}}},
                   {"backup", {{"enabled", true}, {"schedule", "0 2 * * *"}}},
                   {"restore", {{"from", "latest"}, {"id", "r1"}}}}}});
  std::vector<StillOnTime> out;
  for (auto& cr : crs) {
    cr["metadata"]["uid"] = "uid-1";
    auto parsed = parse(cr);
    INFO(join_errors(parsed.errors));
    REQUIRE(parsed.ok());
    out.push_back(apply_defaults(std::move(parsed.resource)));
  }
  return out;
}

// What the operator's code uses, cluster-wide.
Permissions used_cluster_wide() {
  Permissions used;
  for (const ApiVersions& api : {ApiVersions::k8s_1_20(), ApiVersions::latest()}) {
    const auto kinds = child_kinds(api);
    for (const auto& kind : kinds) add(used, kind, {"list", "watch", "delete"});
    // Kinds watched for the resources' sake (the Namespaces' consent).
    for (const auto& watched : controller_spec(api).watches) add(used, watched.resource, {"list", "watch"});
    for (const auto& r : resources_to_render()) {
      BuildContext ctx;
      ctx.api = api;
      ctx.credentials.postgres_password = "p";
      ctx.credentials.redis_password = "r";
      ctx.credentials.jwt_secret = "j";
      for (const auto& d : desired_state(r, ctx)) {
        // Desired kinds without an informer would be read with GETs the grants do not cover.
        CHECK_MESSAGE(std::find(kinds.begin(), kinds.end(), d.ref) != kinds.end(),
                      (d.ref.api_version() + " " + d.ref.kind + " is desired but not in child_kinds()"));
        if (d.create_only) {
          add(used, d.ref, {"create"});
        } else {
          add(used, d.ref, {"create", "patch"});  // server-side apply; it creates what is missing
        }
        // RBAC's escalation check: a Role may grant only what its writer holds.
        if (d.ref.kind == "Role") {
          for (const auto& rule : d.object["rules"]) {
            for (const auto& g : rule["apiGroups"]) {
              for (const auto& res : rule["resources"]) {
                for (const auto& v : rule["verbs"])
                  used.insert({g.get<std::string>(), res.get<std::string>(), v.get<std::string>()});
              }
            }
          }
        }
      }
    }
  }
  const auto sot = stillontime_resource();
  // get: before it creates a one-off Job the reconciler reads the resource
  // fresh, so a status written a moment ago cannot run the Job twice.
  add(used, sot, {"get", "list", "watch", "update"});
  add(used, sot, {"patch"}, "status");
  add(used, kube::resources::events(), {"create", "patch"});
  add(used, kube::resources::secrets(), {"get"});
  return used;
}

// Granted on purpose without a call in the code, with the reason.
Permissions documented_extras() {
  Permissions extra;
  // OwnerReferencesPermissionEnforcement: blockOwnerDeletion on children needs it.
  add(extra, stillontime_resource(), {"update"}, "finalizers");
  // The plan stage (controller/stages/plan.cpp) adds on-demand backup, restore
  // and bootstrap Jobs (create_only) only when status asks for them, which the
  // rendered examples never do, and lists the pods of a failed Job for its
  // message; test/unit/controller and test/e2e cover these two.
  add(extra, kube::resources::jobs(), {"create"});
  add(extra, kube::ResourceRef{"", "v1", "pods", "Pod", true}, {"list"});
  return extra;
}

Permissions minus(const Permissions& a, const Permissions& b) {
  Permissions out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

}  // namespace

TEST_CASE("the ClusterRole grants every verb the operator's code uses, and nothing else") {
  const Permissions granted =
      granted_by(std::string(STILLONTIME_SOURCE_DIR) + "/manifests/default/cluster_role.yaml", "ClusterRole");
  const Permissions used = used_cluster_wide();
  const Permissions missing = minus(used, granted);
  CHECK_MESSAGE(missing.empty(), ("the operator uses, the ClusterRole does not grant:\n" + show(missing)));
  Permissions allowed = used;
  for (const auto& p : documented_extras()) allowed.insert(p);
  const Permissions unused = minus(granted, allowed);
  CHECK_MESSAGE(unused.empty(), ("the ClusterRole grants, the operator does not use:\n" + show(unused)));
}

TEST_CASE("the leader-election Role grants the Lease verbs, in the operator's namespace only") {
  const std::string path = std::string(STILLONTIME_SOURCE_DIR) + "/manifests/default/leader_election_role.yaml";
  Permissions want;
  add(want, kube::resources::leases(), {"get", "create", "update"});
  CHECK(granted_by(path, "Role") == want);
  CHECK(YAML::LoadFile(path)["metadata"]["namespace"].as<std::string>() == "stillontime-system");
  // And the ClusterRole does not grant Leases cluster-wide.
  const Permissions cluster =
      granted_by(std::string(STILLONTIME_SOURCE_DIR) + "/manifests/default/cluster_role.yaml", "ClusterRole");
  for (const auto& [g, r, v] : cluster) CHECK(r != "leases");
}

TEST_CASE("a kind the operator starts touching without a grant is caught") {
  // The check above on a ClusterRole with one rule fewer: it must notice.
  const Permissions used = used_cluster_wide();
  Permissions granted =
      granted_by(std::string(STILLONTIME_SOURCE_DIR) + "/manifests/default/cluster_role.yaml", "ClusterRole");
  granted.erase({"apps", "statefulsets", "patch"});
  const Permissions missing = minus(used, granted);
  CHECK(missing == Permissions{{"apps", "statefulsets", "patch"}});
}
