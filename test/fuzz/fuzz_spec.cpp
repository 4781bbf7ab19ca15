// A StillOnTime resource from anywhere (the API server, a file given to
// `render`) must never crash the operator: it is either refused with field
// errors (the reconciler reports them as Stalled) or rendered. This target runs
// the whole path `render` and the reconciler take: YAML (or JSON) -> parse ->
// apply_defaults -> validate -> desired_state (every builder, both API version
// sets) -> YAML out, and checks the contract on the way.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/yaml.h"
#include "stillontime/defaults.h"
#include "stillontime/desired_state.h"
#include "stillontime/render.h"
#include "stillontime/spec.h"
#include "stillontime/validate.h"

using namespace sot::stillontime;

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

// The contract on one document: every refusal names its field; a resource
// that passes validation builds (when `build`) into named, typed children.
void run(const nlohmann::json& doc, bool build, const ApiVersions& api) {
  ParseResult parsed = parse(doc);
  if (parsed.resource.metadata.ns.empty()) parsed.resource.metadata.ns = "default";
  std::vector<FieldError> errors = std::move(parsed.errors);
  // Only "not an object at all" has no field to name.
  for (const auto& e : errors) check(!e.field.empty() || !doc.is_object());
  StillOnTime resource = apply_defaults(parsed.resource);
  if (errors.empty()) {
    errors = validate(resource);
    for (const auto& e : errors) check(!e.field.empty());
  }
  for (const auto& e : errors) (void)e.to_string();
  (void)join_errors(errors);
  if (!errors.empty() || !build) return;
  BuildContext ctx;
  ctx.api = api;
  for (const auto& child : desired_state(resource, ctx)) {
    check(!child.object.at("metadata").at("name").get<std::string>().empty());
    check(child.object.contains("kind") && child.object.contains("apiVersion"));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The input's length picks the API versions, so both builder variants run.
  const bool old_api = size % 2 == 1;
  // The API server hands the reconciler JSON (nlohmann keeps large positive
  // numbers unsigned, which the YAML path never produces).
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_discarded()) run(json, true, old_api ? ApiVersions::k8s_1_20() : ApiVersions::latest());

  // `render` itself, start to end: YAML in, every child out as YAML.
  std::ostringstream out, err;
  const int rc = render_text(text, "fuzz.yaml", old_api ? "1.20" : "latest", out, err);
  check(rc == 0 || rc == 1);
  check(rc == 0 || !err.str().empty());
  // The contract checks on what render read (it built the valid ones already).
  auto docs = sot::kube::yaml_documents_to_json(text);
  if (!docs.ok()) return 0;
  for (const auto& doc : *docs) {
    if (doc.is_object() && (!doc.contains("kind") || doc["kind"] != kKind)) continue;
    run(doc, false, ApiVersions::latest());
  }
  return 0;
}
