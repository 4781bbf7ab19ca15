#include "plugin/redact.h"

#include <algorithm>
#include <cctype>

#include "kube/json_fields.h"
#include "runtime/logger.h"

namespace sot::plugin {
namespace {

using nlohmann::json;

// Walks every value of an object; env arrays (a list of {name, value|valueFrom}) are redacted by name.
void redact_env_everywhere(json& node) {
  if (node.is_object()) {
    for (auto& [key, value] : node.items()) {
      if (key == "env" && value.is_array()) {
        for (auto& e : value) {
          if (!e.is_object()) continue;
          auto v = e.find("value");
          if (v == e.end() || !v->is_string()) continue;
          const std::string name = kube::string_field(e, "name");
          *v = runtime::looks_like_credential(name) ? std::string(kRedacted)
                                                    : redact_url_passwords(v->get<std::string>());
        }
      } else {
        redact_env_everywhere(value);
      }
    }
  } else if (node.is_array()) {
    for (auto& v : node) redact_env_everywhere(v);
  }
}

void redact_keys_everywhere(json& node) {
  if (node.is_object()) {
    for (auto& [key, value] : node.items()) {
      if (runtime::looks_like_credential(key) && !value.is_object() && !value.is_array()) {
        value = kRedacted;
      } else if (value.is_string()) {
        value = redact_url_passwords(value.get<std::string>());
      } else {
        redact_keys_everywhere(value);
      }
    }
  } else if (node.is_array()) {
    for (auto& v : node) redact_keys_everywhere(v);
  }
}

bool key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// key=value and key: value pairs whose key looks like a credential, in free text.
std::string redact_pairs(std::string text) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (!key_char(text[i]) || (i > 0 && key_char(text[i - 1]))) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && key_char(text[end])) ++end;
    std::size_t sep = end;
    if (sep < text.size() && (text[sep] == '=' || text[sep] == ':')) {
      std::size_t value = sep + 1;
      while (value < text.size() && text[value] == ' ') ++value;
      if (runtime::looks_like_credential(std::string_view(text).substr(i, end - i)) && value < text.size()) {
        std::size_t value_end = value;
        while (value_end < text.size() && !std::isspace(static_cast<unsigned char>(text[value_end])) &&
               text[value_end] != ',' && text[value_end] != ';' && text[value_end] != '&') {
          ++value_end;
        }
        // "Authorization: Bearer TOKEN": the scheme word is not the secret, the next one is.
        std::string word = text.substr(value, value_end - value);
        std::transform(word.begin(), word.end(), word.begin(), [](unsigned char c) { return std::tolower(c); });
        if (word == "bearer" || word == "basic" || word == "token") {
          while (value_end < text.size() && text[value_end] == ' ') ++value_end;
          while (value_end < text.size() && !std::isspace(static_cast<unsigned char>(text[value_end])) &&
                 text[value_end] != ',' && text[value_end] != ';' && text[value_end] != '&') {
            ++value_end;
          }
        }
        if (value_end > value) {
          text.replace(value, value_end - value, kRedacted);
          i = value + std::string_view(kRedacted).size();
          continue;
        }
      }
    }
    i = end;
  }
  return text;
}

}  // namespace

std::string redact_url_passwords(std::string text) {
  std::size_t from = 0;
  while ((from = text.find("://", from)) != std::string::npos) {
    const std::size_t start = from + 3;
    std::size_t end = start;
    while (end < text.size() && text[end] != '/' && text[end] != '@' &&
           !std::isspace(static_cast<unsigned char>(text[end])) && text[end] != '"') {
      ++end;
    }
    if (end < text.size() && text[end] == '@') {
      const std::size_t colon = text.find(':', start);
      if (colon != std::string::npos && colon < end) {
        text.replace(colon + 1, end - colon - 1, kRedacted);
        end = colon + 1 + std::string_view(kRedacted).size();
      }
    }
    from = end;
  }
  return text;
}

json redact_object(json object) {
  if (!object.is_object()) return object;
  if (auto meta = object.find("metadata"); meta != object.end() && meta->is_object()) {
    meta->erase("managedFields");
    if (auto ann = meta->find("annotations"); ann != meta->end() && ann->is_object()) {
      ann->erase("kubectl.kubernetes.io/last-applied-configuration");
    }
  }
  if (kube::string_field(object, "kind") == "Secret") {
    for (const char* field : {"data", "stringData"}) {
      auto d = object.find(field);
      if (d == object.end() || !d->is_object()) continue;
      for (auto& [key, value] : d->items()) {
        const std::string text = value.is_string() ? value.get<std::string>() : std::string();
        std::size_t bytes = text.size();
        if (std::string_view(field) == "data") {
          // base64: say how many bytes the value has, not how long its encoding is.
          std::size_t padding = 0;
          for (auto it = text.rbegin(); it != text.rend() && *it == '='; ++it) ++padding;
          bytes = text.size() / 4 * 3 - std::min<std::size_t>(padding, text.size() / 4 * 3);
        }
        value = "<redacted: " + std::to_string(bytes) + " bytes>";
      }
    }
  }
  redact_env_everywhere(object);
  return object;
}

std::string redact_log_line(std::string_view line) {
  if (!line.empty() && line.front() == '{') {
    json parsed = json::parse(line, nullptr, false);
    if (parsed.is_object()) {
      redact_keys_everywhere(parsed);
      return parsed.dump();
    }
  }
  return redact_pairs(redact_url_passwords(std::string(line)));
}

}  // namespace sot::plugin
