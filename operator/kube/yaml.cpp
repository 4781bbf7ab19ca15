// The JSON <-> YAML codec (see yaml.h).
#include "kube/yaml.h"

#include <cctype>
#include <cstdint>
#include <sstream>
#include <stdexcept>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace sot::kube {

using nlohmann::json;

namespace {

// Hand-written matchers for the YAML 1.2 core schema's int and float and for
// strings safe to print unquoted (std::regex did the same a good deal slower:
// it showed in render's profile, where every emitted string is checked).
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

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
  if (node.Tag() != "?") return s;  // quoted ("!") or explicitly tagged: a string
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
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return scalar_to_json(node);
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
    case json::value_t::boolean:
      e << (v.get<bool>() ? "true" : "false");
      break;
    case json::value_t::number_integer:
      e << v.get<std::int64_t>();
      break;
    case json::value_t::number_unsigned:
      e << v.get<std::uint64_t>();
      break;
    case json::value_t::number_float:
      e << v.get<double>();
      break;
    default:
      e << YAML::Null;
      break;
  }
}

}  // namespace

Result<std::vector<json>> yaml_documents_to_json(const std::string& text) {
  try {
    check_stream(text);
    std::vector<json> out;
    Budget budget;
    for (const auto& doc : YAML::LoadAll(text)) {
      if (doc.IsNull()) continue;  // empty documents between separators
      out.push_back(node_to_json(doc, budget, 0));
    }
    return out;
  } catch (const YAML::Exception& e) {
    return make_error(Code::kInvalid, std::string("YAML: ") + e.what());
  }
}

std::string json_to_yaml(const json& value) {
  YAML::Emitter e;
  e.SetIndent(2);
  e.SetSeqFormat(YAML::Block);
  emit(e, value);
  return e.c_str();
}

}  // namespace sot::kube
