// The render command: read a file of resources, validate them, print their
// children. The YAML codec lives in kube/yaml.
#include "stillontime/render.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "kube/yaml.h"
#include "stillontime/builders/common.h"
#include "stillontime/defaults.h"
#include "stillontime/desired_state.h"
#include "stillontime/validate.h"

namespace sot::stillontime {

using nlohmann::json;

namespace {

int usage(std::ostream& err) {
  err << "usage: stillontime-operator render -f CR.yaml [--api-versions 1.20|latest]\n"
         "  prints every child object of each StillOnTime in the file as YAML; no cluster needed.\n"
         "  -f -  reads the resource from standard input. --api-versions defaults to latest.\n";
  return 2;
}

}  // namespace

int render_command(const std::vector<std::string>& args_in, std::ostream& out, std::ostream& err) {
  std::vector<std::string> args = args_in;
  if (!args.empty() && args.front() == "render") args.erase(args.begin());
  std::string file;
  std::string versions_name = "latest";
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](const std::string& flag, std::string& target) {
      if (a == flag && i + 1 < args.size()) {
        target = args[++i];
        return true;
      }
      if (a.rfind(flag + "=", 0) == 0) {
        target = a.substr(flag.size() + 1);
        return true;
      }
      return false;
    };
    if (value("-f", file) || value("--filename", file) || value("--api-versions", versions_name)) continue;
    if (a == "-h" || a == "--help") {
      usage(out);
      return 0;
    }
    err << "render: unexpected argument \"" << a << "\"\n";
    return usage(err);
  }
  if (file.empty()) {
    err << "render: -f CR.yaml is required\n";
    return usage(err);
  }
  ApiVersions api;
  if (!api_versions_from_name(versions_name, api)) {
    err << "render: --api-versions must be 1.20 or latest, got \"" << versions_name << "\"\n";
    return 2;
  }

  std::string text;
  if (file == "-") {
    std::ostringstream buf;
    buf << std::cin.rdbuf();
    text = buf.str();
  } else {
    std::ifstream in(file);
    if (!in) {
      err << "render: cannot read " << file << "\n";
      return 1;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  }
  return render_text(text, file, versions_name, out, err);
}

int render_text(const std::string& text, const std::string& file, const std::string& versions_name, std::ostream& out,
                std::ostream& err) {
  ApiVersions api;
  if (!api_versions_from_name(versions_name, api)) {
    err << "render: --api-versions must be 1.20 or latest, got \"" << versions_name << "\"\n";
    return 2;
  }
  auto docs = kube::yaml_documents_to_json(text);
  if (!docs.ok()) {
    err << "render: " << file << ": " << docs.error().message << "\n";
    return 1;
  }

  // Parse, default and validate everything before printing anything.
  std::vector<StillOnTime> resources;
  std::vector<NamespaceClaim> claims;
  bool failed = false;
  for (const auto& doc : *docs) {
    // Other objects in the file (a Namespace, ...); kind may be anything, even a number.
    if (doc.is_object() && (!doc.contains("kind") || doc["kind"] != kKind)) continue;
    ParseResult parsed = parse(doc);
    std::string label =
        parsed.resource.metadata.name.empty() ? "StillOnTime" : "StillOnTime " + parsed.resource.metadata.name;
    if (parsed.resource.metadata.ns.empty()) parsed.resource.metadata.ns = "default";
    std::vector<FieldError> errors = std::move(parsed.errors);
    StillOnTime resource = apply_defaults(parsed.resource);
    if (errors.empty()) errors = validate(resource);
    if (errors.empty()) {
      if (auto claimed = check_namespace_claim(resource, claims)) errors.push_back(*claimed);
    }
    if (!errors.empty()) {
      failed = true;
      err << "render: " << file << ": " << label << " is invalid:\n";
      for (const auto& e : errors) err << "  " << e.to_string() << "\n";
      continue;
    }
    NamespaceClaim claim = claim_of(resource);
    if (claim.creation_timestamp.empty()) claim.creation_timestamp = std::to_string(claims.size());  // file order
    claims.push_back(claim);
    resources.push_back(std::move(resource));
  }
  if (failed) return 1;
  if (resources.empty()) {
    err << "render: " << file << " holds no " << kKind << "\n";
    return 1;
  }

  out << "# Rendered by stillontime-operator render (API versions: " << versions_name << ").\n"
      << "# Generated Secrets hold placeholder values (" << kPlaceholderMarker << "): the operator draws\n"
      << "# random credentials once, at apply time, and never rewrites them.\n";
  BuildContext ctx;
  ctx.api = api;
  ctx.credentials = placeholder_credentials();
  if (std::any_of(resources.begin(), resources.end(), [](const StillOnTime& r) { return r.metadata.uid.empty(); })) {
    out << "# ownerReferences are left out: a resource read from a file has no uid yet (the operator adds\n"
        << "# them for children in the resource's own namespace).\n";
  }
  for (const auto& resource : resources) {
    for (const auto& child : desired_state(resource, ctx)) {
      out << "---\n";
      if (child.create_only)
        out << "# " << kPlaceholderMarker << ": placeholder values, not secrets; generated once at apply time.\n";
      out << kube::json_to_yaml(child.object) << "\n";
    }
  }
  return 0;
}

}  // namespace sot::stillontime
