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

void run(const nlohmann::json& doc) {
  ParseResult parsed = parse(doc);
  if (parsed.resource.metadata.ns.empty()) parsed.resource.metadata.ns = "default";
  std::vector<FieldError> errors = std::move(parsed.errors);
  // Every refusal names the field at fault (only "not an object at all" has none).
  for (const auto& e : errors) check(!e.field.empty() || !doc.is_object());
  StillOnTime resource = apply_defaults(parsed.resource);
  if (errors.empty()) errors = validate(resource);
  for (const auto& e : errors) {
    check(!e.field.empty());
    (void)e.to_string();
  }
  (void)join_errors(errors);
  if (!errors.empty()) return;

  for (const ApiVersions& api : {ApiVersions::latest(), ApiVersions::k8s_1_20()}) {
    BuildContext ctx;
    ctx.api = api;
    for (const auto& child : desired_state(resource, ctx)) {
      const auto& meta = child.object.at("metadata");
      check(!meta.at("name").get<std::string>().empty());
      check(child.object.contains("kind") && child.object.contains("apiVersion"));
      // What render prints must read back.
      auto back = yaml_documents_to_json(json_to_yaml(child.object));
      check(back.ok());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // The API server hands the operator JSON; `render` reads YAML.
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_discarded()) run(json);
  // `render` itself, start to end.
  std::ostringstream out, err;
  const int rc = render_text(text, "fuzz.yaml", "latest", out, err);
  check(rc == 0 || rc == 1);
  check(rc == 0 || !err.str().empty());
  auto docs = yaml_documents_to_json(text);
  if (!docs.ok()) return 0;
  for (const auto& doc : *docs) {
    if (doc.is_object() && (!doc.contains("kind") || doc["kind"] != kKind)) continue;
    run(doc);
  }
  return 0;
}
