#include "unit/stillontime/helpers.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

#include "stillontime/defaults.h"
#include "stillontime/tenancy.h"

namespace sot::stillontime::test {

StillOnTime make_resource(const json& spec_fields, const std::string& name, const std::string& ns,
                          const std::string& uid) {
  json spec = {{"environment", "production"}, {"version", "1.4.2"}};
  for (const auto& [k, v] : spec_fields.items()) spec[k] = v;
  json cr = {{"apiVersion", "stillontime.app/v1alpha1"},
             {"kind", "StillOnTime"},
             {"metadata", {{"name", name}, {"namespace", ns}, {"uid", uid}, {"generation", 1}}},
             {"spec", spec}};
  auto parsed = parse(cr);
  INFO(join_errors(parsed.errors));
  CHECK(parsed.ok());
  return apply_defaults(parsed.resource);
}

const json* find(const std::vector<DesiredObject>& objects, const std::string& kind, const std::string& name) {
  for (const auto& o : objects) {
    if (o.object["kind"] == kind && o.object["metadata"]["name"] == name) return &o.object;
  }
  return nullptr;
}

std::vector<json> all_containers(const json& pod_spec) {
  std::vector<json> out;
  for (const char* key : {"initContainers", "containers"}) {
    if (pod_spec.contains(key)) {
      for (const auto& c : pod_spec[key]) out.push_back(c);
    }
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::vector<std::string> list_files(const std::string& dir, const std::string& ext) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ext) out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void check_contract_labels(const json& object, const std::string& component, const std::string& name,
                           const std::string& ns) {
  const json& labels = object["metadata"]["labels"];
  CHECK(labels["app.kubernetes.io/name"] == "stillontime");
  CHECK(labels["app.kubernetes.io/instance"] == name);
  CHECK(labels["app.kubernetes.io/component"] == component);
  CHECK(labels["app.kubernetes.io/managed-by"] == "stillontime-operator");
  CHECK(labels["stillontime.app/owner"] == ns + "." + name);
}

void check_restricted(const json& pod_spec) {
  const json& psc = pod_spec["securityContext"];
  CHECK(psc["runAsNonRoot"] == true);
  CHECK(psc["seccompProfile"]["type"] == "RuntimeDefault");
  CHECK(psc["runAsUser"].get<int>() > 0);
  const auto containers = all_containers(pod_spec);
  CHECK(!containers.empty());
  for (const auto& c : containers) {
    INFO("container " << c["name"]);
    const json& sc = c["securityContext"];
    CHECK(sc["allowPrivilegeEscalation"] == false);
    CHECK(sc["readOnlyRootFilesystem"] == true);
    CHECK(sc["runAsNonRoot"] == true);
    CHECK(sc["capabilities"]["drop"] == json::array({"ALL"}));
    CHECK(sc["seccompProfile"]["type"] == "RuntimeDefault");
    for (const auto& p : c.value("ports", json::array())) CHECK(p["protocol"] == "TCP");
  }
  // A read-only root filesystem needs somewhere to write.
  bool has_tmp = false;
  for (const auto& v : pod_spec.value("volumes", json::array())) has_tmp |= v.contains("emptyDir");
  CHECK(has_tmp);
}

json namespace_object(const std::string& name, const std::optional<std::string>& accept_from) {
  json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
  if (accept_from) ns["metadata"]["annotations"][kAcceptFromAnnotation] = *accept_from;
  return ns;
}

}  // namespace sot::stillontime::test
