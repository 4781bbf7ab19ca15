// The render command and the YAML <-> JSON conversion it needs. yaml-cpp's
// exceptions are caught here and become error values.
#include "stillontime/render.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "stillontime/builders/common.h"
#include "stillontime/defaults.h"
#include "stillontime/desired_state.h"
#include "stillontime/validate.h"

namespace sot::stillontime {

using nlohmann::json;

namespace {

// Hand-written matchers for the YAML 1.2 core schema's int and float and for
// strings safe to print unquoted (std::regex did the same a good deal slower:
// it showed in render's profile, where every emitted string is checked).
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// [-+]?[0-9]+
bool is_int(const std::string& s) {
  std::size_t i = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (!is_digit(s[i])) return false;
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool is_float(const std::string& s) {
  std::size_t i = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
  auto digits = [&]() {
    const std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    return i - start;
  };
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// [A-Za-z_/][A-Za-z0-9_./@-]*
bool is_plain_safe(const std::string& s) {
  auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (s.empty() || !(alpha(s[0]) || s[0] == '_' || s[0] == '/')) return false;
  for (std::size_t i = 1; i < s.size(); ++i) {
    const char c = s[i];
    if (!(alpha(c) || is_digit(c) || c == '_' || c == '.' || c == '/' || c == '@' || c == '-')) return false;
  }
  return true;
}

json scalar_to_json(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  if (node.Tag() != "?") return s;   // quoted ("!") or explicitly tagged: a string
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  // Numbers JSON cannot hold (beyond 64 bits, or a double's range) stay strings.
  if (is_int(s)) {
    try {
      return std::stoll(s);
    } catch (const std::out_of_range&) {
      return s;
    }
  }
  if (is_float(s)) {
    try {
      return std::stod(s);
    } catch (const std::out_of_range&) {
      return s;
    }
  }
  return s;
}

// Aliases make a YAML document a graph: a few hundred bytes of nested aliases
// expand to billions of nodes ("billion laughs"). A resource is a few hundred
// nodes, so a file that expands past these limits is refused, not expanded.
constexpr std::size_t kMaxNodes = 1'000'000;
constexpr int kMaxDepth = 256;

struct Budget {
  std::size_t nodes = 0;
};

// yaml-cpp 0.7's LoadAll() never returns on some malformed streams: its
// parser keeps reporting a new document without consuming input, and LoadAll
// collects them until memory runs out (found by fuzzing: a JSON object cut off
// inside a string). A first pass walks the stream through yaml-cpp's event
// interface, where we hold the loop, and refuses more documents or events than
// any file of resources has.
constexpr std::size_t kMaxDocuments = 10'000;

class EventCounter final : public YAML::EventHandler {
 public:
  std::size_t events = 0;
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override { ++events; }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { ++events; }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override { ++events; }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    ++events;
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
    ++events;
  }
  void OnMapEnd() override {}
};

void check_stream(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  EventCounter counter;
  std::size_t documents = 0;
  while (parser.HandleNextDocument(counter)) {
    if (++documents > kMaxDocuments) {
      throw YAML::Exception(YAML::Mark::null_mark(), "more than 10000 documents, or a stream the parser cannot end");
    }
    if (counter.events > kMaxNodes) {
      throw YAML::Exception(YAML::Mark::null_mark(), "the stream holds more than 1000000 nodes");
    }
  }
}

json node_to_json(const YAML::Node& node, Budget& budget, int depth) {
  if (++budget.nodes > kMaxNodes) {
    throw YAML::Exception(YAML::Mark::null_mark(), "the document expands to more than 1000000 nodes (nested aliases?)");
  }
  if (depth > kMaxDepth) throw YAML::Exception(YAML::Mark::null_mark(), "the document nests deeper than 256 levels");
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Scalar: return scalar_to_json(node);
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(node_to_json(item, budget, depth + 1));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = node_to_json(kv.second, budget, depth + 1);
      return out;
    }
  }
  return nullptr;
}

bool needs_quotes(const std::string& s) {
  if (!is_plain_safe(s)) return true;
  static const char* kWords[] = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"};
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* w : kWords) {
    if (lower == w) return true;
  }
  return false;
}

void emit(YAML::Emitter& e, const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      e << YAML::BeginMap;
      for (const auto& [key, value] : v.items()) {
        e << YAML::Key;
        if (needs_quotes(key)) e << YAML::DoubleQuoted;
        e << key << YAML::Value;
        emit(e, value);
      }
      e << YAML::EndMap;
      break;
    case json::value_t::array:
      e << YAML::BeginSeq;
      for (const auto& item : v) emit(e, item);
      e << YAML::EndSeq;
      break;
    case json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      if (needs_quotes(s)) e << YAML::DoubleQuoted;
      e << s;
      break;
    }
    case json::value_t::boolean: e << (v.get<bool>() ? "true" : "false"); break;
    case json::value_t::number_integer: e << v.get<std::int64_t>(); break;
    case json::value_t::number_unsigned: e << v.get<std::uint64_t>(); break;
    case json::value_t::number_float: e << v.get<double>(); break;
    default: e << YAML::Null; break;
  }
}

int usage(std::ostream& err) {
  err << "usage: stillontime-operator render -f CR.yaml [--api-versions 1.20|latest]\n"
         "  prints every child object of each StillOnTime in the file as YAML; no cluster needed.\n"
         "  -f -  reads the resource from standard input. --api-versions defaults to latest.\n";
  return 2;
}

}  // namespace

kube::Result<std::vector<json>> yaml_documents_to_json(const std::string& text) {
  try {
    check_stream(text);
    std::vector<json> out;
    Budget budget;
    for (const auto& doc : YAML::LoadAll(text)) {
      if (doc.IsNull()) continue;   // empty documents between separators
      out.push_back(node_to_json(doc, budget, 0));
    }
    return out;
  } catch (const YAML::Exception& e) {
    return kube::make_error(kube::Code::kInvalid, std::string("YAML: ") + e.what());
  }
}

std::string json_to_yaml(const json& value) {
  YAML::Emitter e;
  e.SetIndent(2);
  e.SetSeqFormat(YAML::Block);
  emit(e, value);
  return e.c_str();
}

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

int render_text(const std::string& text, const std::string& file, const std::string& versions_name,
                std::ostream& out, std::ostream& err) {
  ApiVersions api;
  if (!api_versions_from_name(versions_name, api)) {
    err << "render: --api-versions must be 1.20 or latest, got \"" << versions_name << "\"\n";
    return 2;
  }
  auto docs = yaml_documents_to_json(text);
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
    std::string label = parsed.resource.metadata.name.empty() ? "StillOnTime" : "StillOnTime " + parsed.resource.metadata.name;
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
    if (claim.creation_timestamp.empty()) claim.creation_timestamp = std::to_string(claims.size());   // file order
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
      if (child.create_only) out << "# " << kPlaceholderMarker << ": placeholder values, not secrets; generated once at apply time.\n";
      out << json_to_yaml(child.object) << "\n";
    }
  }
  return 0;
}

}  // namespace sot::stillontime
