#include "plugin/ownership.h"

#include <algorithm>

#include "kube/json_fields.h"

namespace sot::plugin {
namespace {

using kube::array_field;
using kube::object_field;
using kube::string_field;
using nlohmann::json;

FieldOwner owner_of(const json& entry) {
  return {string_field(entry, "manager"), string_field(entry, "operation"), string_field(entry, "time")};
}

// "f:name" -> "name"; "k:{\"name\":\"backend\"}" -> "[name=backend]"; "v:..." -> "[...]".
std::string segment(const std::string& key) {
  if (key.rfind("f:", 0) == 0) return "." + key.substr(2);
  if (key.rfind("k:", 0) == 0) {
    const json k = json::parse(key.substr(2), nullptr, false);
    if (k.is_object()) {
      std::string out;
      for (const auto& [name, value] : k.items()) {
        out += (out.empty() ? "" : ",") + name + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
      }
      return "[" + out + "]";
    }
    return "[" + key.substr(2) + "]";
  }
  if (key.rfind("v:", 0) == 0) return "[" + key.substr(2) + "]";
  return "." + key;
}

// Leaf paths of a fieldsV1 tree, depth first, in key order.
void leaves(const json& node, const std::string& prefix, std::vector<std::string>& out, std::size_t limit) {
  bool has_children = false;
  if (node.is_object()) {
    for (const auto& [key, child] : node.items()) {
      if (key == ".") continue;  // the node itself (a list item or a map) is owned too
      has_children = true;
      if (out.size() >= limit) return;
      leaves(child, prefix + segment(key), out, limit);
    }
  }
  if (!has_children && !prefix.empty() && out.size() < limit) out.push_back(prefix.substr(1));
}

bool person_tool(std::string_view manager) {
  return manager == "kubectl" || manager.rfind("kubectl-", 0) == 0;
}

}  // namespace

std::vector<FieldOwner> owners_of(const json& object, const std::vector<std::string>& path) {
  std::vector<FieldOwner> out;
  for (const auto& entry : array_field(object_field(object, "metadata"), "managedFields")) {
    const json* node = &object_field(entry, "fieldsV1");
    bool found = true;
    for (const auto& p : path) {
      const json* next = kube::json_field(*node, "f:" + p);
      if (next == nullptr) {
        found = false;
        break;
      }
      node = next;
    }
    if (found) out.push_back(owner_of(entry));
  }
  return out;
}

std::string describe_owner(const FieldOwner& owner) {
  static const std::vector<std::pair<const char*, const char*>> kKnown = {
      {"argocd-controller", "Argo CD"},
      {"argocd-application-controller", "Argo CD"},
      {"kustomize-controller", "Flux"},
      {"helm-controller", "Flux"},
      {"helm", "Helm"},
      {"fleet-agent", "Rancher Fleet"},
      {"kapp", "kapp"},
      {"kapp-controller", "Carvel kapp-controller"},
  };
  std::string text = owner.manager + " (";
  for (const auto& [name, tool] : kKnown) {
    if (owner.manager == name) text += std::string(tool) + "; ";
  }
  text += owner.operation == "Apply" ? "server-side apply" : "update";
  if (!owner.time.empty()) text += " at " + owner.time;
  return text + ")";
}

std::optional<FieldOwner> blocking_owner(const std::vector<FieldOwner>& owners, std::string_view ours) {
  for (const auto& o : owners) {
    if (o.manager == ours || person_tool(o.manager)) continue;
    return o;
  }
  return std::nullopt;
}

std::vector<ForeignFields> foreign_fields(const json& object, const std::vector<std::string>& ignored,
                                          std::size_t limit) {
  std::vector<ForeignFields> out;
  for (const auto& entry : array_field(object_field(object, "metadata"), "managedFields")) {
    FieldOwner owner = owner_of(entry);
    if (std::find(ignored.begin(), ignored.end(), owner.manager) != ignored.end()) continue;
    // Status (and, from 1.22 on, anything written through a subresource) is the
    // controllers' business, metadata is labels and annotations: only what the
    // object asks for counts.
    if (!string_field(entry, "subresource").empty()) continue;
    const json& fields = object_field(entry, "fieldsV1");
    ForeignFields f{std::move(owner), {}};
    for (const char* top : {"f:spec", "f:data", "f:stringData"}) {
      if (const json* node = kube::json_field(fields, top); node != nullptr) {
        leaves(*node, segment(top), f.paths, limit);
      }
    }
    if (!f.paths.empty()) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace sot::plugin
