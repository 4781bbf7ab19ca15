// Semantic validation of a defaulted StillOnTime. The syntax checkers follow the
// grammars the API server and the CronJob controller use (apimachinery's
// resource.Quantity, robfig/cron's standard parser, the distribution reference
// grammar for images), so a spec we accept is one the server accepts too. Cron
// schedules go through the same parser BackupHealthy evaluates them with
// (cron.h), so what passes here can always be evaluated.
#include "stillontime/validate.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>
#include <tuple>

#include "kube/text.h"
#include "stillontime/cron.h"

namespace sot::stillontime {

namespace {

std::string quote(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// ---- names ----

// The name grammars below are matched by hand, one pass, no recursion:
// libstdc++'s std::regex recurses once per repeated character and overflowed
// the stack on a 100,000-character image or env name, which the API server
// accepts in a StillOnTime (those fields have no maxLength).

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*
bool is_image_path_component(std::string_view s) {
  std::size_t i = 0;
  auto alnum_run = [&] {
    const std::size_t start = i;
    while (i < s.size() && is_lower_alnum(s[i])) ++i;
    return i > start;
  };
  if (!alnum_run()) return false;
  while (i < s.size()) {
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < s.size() && s[i] == '_') ++i;
    } else if (s[i] == '-') {
      while (i < s.size() && s[i] == '-') ++i;
    } else {
      return false;
    }
    if (!alnum_run()) return false;
  }
  return true;
}

// host labels ([a-zA-Z0-9], or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]) joined by '.', then :port
bool is_registry_host(std::string_view s) {
  if (auto colon = s.rfind(':'); colon != std::string_view::npos) {
    const std::string_view port = s.substr(colon + 1);
    if (port.empty() || !std::all_of(port.begin(), port.end(), is_digit)) return false;
    s = s.substr(0, colon);
  }
  for (const auto label : kube::split(s, '.')) {
    if (label.empty() || !is_alnum(label.front()) || !is_alnum(label.back())) return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; })) return false;
  }
  return true;
}

// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
bool is_tag(std::string_view s) {
  if (s.empty() || s.size() > 128 || !(is_alnum(s[0]) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '_' || c == '.' || c == '-'; });
}

// [A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}
bool is_digest(std::string_view s) {
  const auto colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view algorithm = s.substr(0, colon);
  const std::string_view hex = s.substr(colon + 1);
  if (hex.size() < 32 || !std::all_of(hex.begin(), hex.end(), is_hex)) return false;
  bool at_start = true;  // at the start of a component: a letter must follow
  for (char c : algorithm) {
    if (at_start) {
      if (!is_alpha(c)) return false;
      at_start = false;
    } else if (c == '-' || c == '_' || c == '+' || c == '.') {
      at_start = true;
    } else if (!is_alnum(c)) {
      return false;
    }
  }
  return !at_start;
}

// [-._a-zA-Z][-._a-zA-Z0-9]*
bool is_env_name(std::string_view s) {
  auto allowed = [](char c) { return is_alnum(c) || c == '-' || c == '.' || c == '_'; };
  return !s.empty() && !is_digit(s[0]) && std::all_of(s.begin(), s.end(), allowed);
}

// (?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?
bool is_label_value(std::string_view s) {
  if (s.empty()) return true;
  if (s.size() > 63 || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; });
}

// ---- the validator ----

class Validator {
 public:
  explicit Validator(const StillOnTime& r) : r_(r), spec_(r.spec) {}

  std::vector<FieldError> run() {
    check_name();
    if (auto e = check_image_tag(spec_.version); !e.empty()) add("spec.version", quote(spec_.version), e);
    if (spec_.target_namespace) {
      if (auto e = check_dns_label(*spec_.target_namespace); !e.empty())
        add("spec.targetNamespace", quote(*spec_.target_namespace), e);
    }
    if (spec_.storage_class_name) subdomain("spec.storageClassName", *spec_.storage_class_name);

    workload("spec.backend", spec_.backend);
    workload("spec.frontend", spec_.frontend);
    backend_extras();
    image("spec.postgres.image", spec_.postgres.image);
    resources("spec.postgres.resources", spec_.postgres.resources);
    storage("spec.postgres.storage", spec_.postgres.storage);
    if (spec_.postgres.external) {
      subdomain("spec.postgres.external.secretRef.name", spec_.postgres.external->name);
      if (spec_.postgres.external->key.empty()) add("spec.postgres.external.secretRef.key", "", "must not be empty");
      if (spec_.postgres.bootstrap.from_backup) {
        add("spec.postgres.bootstrap.fromBackup", "",
            "cannot be used with spec.postgres.external (the operator does not run that database)");
      }
    }
    if (spec_.postgres.bootstrap.from_backup)
      backup_name("spec.postgres.bootstrap.fromBackup", *spec_.postgres.bootstrap.from_backup);
    image("spec.redis.image", spec_.redis.image);
    const auto& mi = spec_.monitoring.images;
    image("spec.monitoring.images.prometheus", mi.prometheus);
    image("spec.monitoring.images.alertmanager", mi.alertmanager);
    image("spec.monitoring.images.grafana", mi.grafana);
    image("spec.monitoring.images.postgresExporter", mi.postgres_exporter);
    image("spec.monitoring.images.redisExporter", mi.redis_exporter);
    resources("spec.redis.resources", spec_.redis.resources);
    storage("spec.redis.storage", spec_.redis.storage);
    backup();
    restore();
    ingress();
    return std::move(errors_);
  }

 private:
  void add(std::string field, std::string value, std::string message) {
    errors_.push_back({std::move(field), std::move(value), std::move(message)});
  }

  void check_name() {
    const auto& name = r_.metadata.name;
    if (name.empty()) return;  // parse() reported it
    if (name.size() > kMaxNameLength) {
      add("metadata.name", quote(name),
          "must be at most " + std::to_string(kMaxNameLength) + " characters so that \"" + name +
              "-postgres\" stays a valid StatefulSet name");
    } else if (!std::isalpha(static_cast<unsigned char>(name[0])) || check_dns_label(name) != "") {
      add("metadata.name", quote(name),
          "must be a DNS label starting with a letter (lowercase letters, digits, '-') so that \"" + name +
              "-backend\" is a valid Service name");
    }
    // stillontime.app/owner: <namespace>.<name> is a label value (63 characters at most).
    if (!r_.metadata.ns.empty() && r_.metadata.ns.size() + 1 + name.size() > 63) {
      add("metadata.name", quote(name),
          "together with the namespace must be at most 62 characters (the label stillontime.app/owner: " +
              r_.metadata.ns + "." + name + " is longer than 63)");
    }
  }

  void subdomain(const std::string& field, const std::string& value) {
    if (auto e = check_dns_subdomain(value); !e.empty()) add(field, quote(value), e);
  }

  void image(const std::string& field, const std::optional<std::string>& value) {
    if (!value) return;
    if (auto e = check_image(*value); !e.empty()) add(field, quote(*value), e);
  }

  void quantity(const std::string& field, const std::optional<std::string>& value, bool positive) {
    if (!value) return;
    if (auto e = check_quantity(*value); !e.empty()) {
      add(field, quote(*value), e);
    } else if (auto v = quantity_value(*value); v && (*v < 0 || (positive && *v == 0))) {
      add(field, quote(*value), positive ? "must be greater than zero" : "must not be negative");
    }
  }

  void resources(const std::string& field, const Resources& r) {
    quantity(field + ".requests.cpu", r.requests.cpu, false);
    quantity(field + ".requests.memory", r.requests.memory, false);
    quantity(field + ".limits.cpu", r.limits.cpu, false);
    quantity(field + ".limits.memory", r.limits.memory, false);
    for (auto [name, req, lim] : {std::tuple{"cpu", &r.requests.cpu, &r.limits.cpu},
                                  std::tuple{"memory", &r.requests.memory, &r.limits.memory}}) {
      if (!*req || !*lim) continue;
      auto rv = quantity_value(**req);
      auto lv = quantity_value(**lim);
      if (rv && lv && *rv > *lv) {
        add(field + ".requests." + name, **req, std::string("must be <= limits.") + name + " (" + **lim + ")");
      }
    }
  }

  void storage(const std::string& field, const Storage& s) {
    quantity(field + ".size", s.size, true);
    if (s.storage_class_name) subdomain(field + ".storageClassName", *s.storage_class_name);
  }

  void workload(const std::string& field, const WorkloadSpec& w) {
    image(field + ".image", w.image);
    if (w.image && w.image->find_first_of(":@") == std::string::npos) {
      // The tag comes from spec.version; check the combination once more.
      const std::string full = *w.image + ":" + spec_.version;
      if (auto e = check_image(full); !e.empty() && check_image(*w.image).empty())
        add(field + ".image", quote(full), e);
    }
    if (w.replicas && *w.replicas < 0) add(field + ".replicas", std::to_string(*w.replicas), "must be >= 0");
    resources(field + ".resources", w.resources);
    const auto& a = w.autoscaling;
    const std::string af = field + ".autoscaling";
    if (a.min_replicas && *a.min_replicas < 1)
      add(af + ".minReplicas", std::to_string(*a.min_replicas), "must be >= 1");
    if (a.min_replicas && a.max_replicas && *a.max_replicas < *a.min_replicas) {
      add(af + ".maxReplicas", std::to_string(*a.max_replicas),
          "must be >= minReplicas (" + std::to_string(*a.min_replicas) + ")");
    }
    if (a.target_cpu_utilization_percentage && *a.target_cpu_utilization_percentage < 1) {
      add(af + ".targetCPUUtilizationPercentage", std::to_string(*a.target_cpu_utilization_percentage), "must be >= 1");
    }
    if (a.target_memory_utilization_percentage && *a.target_memory_utilization_percentage < 1) {
      add(af + ".targetMemoryUtilizationPercentage", std::to_string(*a.target_memory_utilization_percentage),
          "must be >= 1");
    }
    // Utilization is relative to the request: an HPA without one never scales.
    if (a.enabled.value_or(false)) {
      if (!w.resources.requests.cpu)
        add(field + ".resources.requests.cpu", "", "is required when autoscaling is enabled");
      if (!w.resources.requests.memory)
        add(field + ".resources.requests.memory", "", "is required when autoscaling is enabled");
    }
  }

  void backend_extras() {
    const auto& b = spec_.backend;
    if (b.secret_ref) subdomain("spec.backend.secretRef.name", b.secret_ref->name);
    std::set<std::string> seen;
    for (std::size_t i = 0; i < b.env.size(); ++i) {
      const auto& var = b.env[i];
      const std::string field = "spec.backend.env[" + std::to_string(i) + "]";
      if (auto e = check_env_name(var.name); !e.empty()) add(field + ".name", quote(var.name), e);
      if (!seen.insert(var.name).second) add(field + ".name", quote(var.name), "is set twice");
      if (var.value && var.value_from) add(field, "", "may set value or valueFrom, not both");
      if (var.value_from) value_from(field + ".valueFrom", *var.value_from);
    }
    quantity("spec.backend.storage.logs", b.storage.logs, true);
    quantity("spec.backend.storage.uploads", b.storage.uploads, true);
    if (b.storage.storage_class_name) subdomain("spec.backend.storage.storageClassName", *b.storage.storage_class_name);
  }

  // The CRD keeps valueFrom open (x-kubernetes-preserve-unknown-fields), so its
  // shape is checked here: the API server would refuse the backend Deployment
  // instead, with a message about the Deployment, not about this field.
  void value_from(const std::string& field, const Json& from) {
    struct Source {
      const char* name;
      std::vector<const char*> required;
      std::vector<const char*> optional;
    };
    static const Source kSources[] = {
        {"secretKeyRef", {"name", "key"}, {"optional"}},
        {"configMapKeyRef", {"name", "key"}, {"optional"}},
        {"fieldRef", {"fieldPath"}, {"apiVersion"}},
        {"resourceFieldRef", {"resource"}, {"containerName", "divisor"}},
    };
    const std::string one_of = "must set exactly one of secretKeyRef, configMapKeyRef, fieldRef, resourceFieldRef";
    if (!from.is_object() || from.size() != 1) return add(field, "", one_of);
    // The key and value through the object's own iterator: a binding to *items().begin() would
    // refer into a temporary proxy that is gone by the next line.
    const auto only = from.begin();
    const std::string& kind = only.key();
    const Json& ref = only.value();
    const Source* source = nullptr;
    for (const auto& s : kSources) {
      if (kind == s.name) source = &s;
    }
    if (source == nullptr) return add(field + "." + kind, "", "is not a value source: " + one_of);
    const std::string at = field + "." + kind;
    if (!ref.is_object()) return add(at, "", "must be an object");
    for (const char* key : source->required) {
      if (!ref.contains(key)) add(at + "." + key, "", "is required");
    }
    for (const auto& item : ref.items()) {
      const std::string& key = item.key();  // a named reference: lambdas may capture it (clang 14 refuses bindings)
      const auto& value = item.value();
      const bool known =
          std::any_of(source->required.begin(), source->required.end(), [&](const char* k) { return key == k; }) ||
          std::any_of(source->optional.begin(), source->optional.end(), [&](const char* k) { return key == k; });
      if (!known) {
        add(at + "." + key, "", "is not a field of " + kind);
      } else if (key == "optional"  ? !value.is_boolean()
                 : key == "divisor" ? !(value.is_string() || value.is_number())
                                    : !value.is_string()) {
        add(at + "." + key, "",
            key == "optional"  ? "must be a boolean"
            : key == "divisor" ? "must be a quantity"
                               : "must be a string");
      } else if (value.is_string() && value.get_ref<const std::string&>().empty()) {
        add(at + "." + key, "", "must not be empty");
      }
    }
  }

  void backup_name(const std::string& field, const std::string& value) {
    if (value.empty() || value.find('/') != std::string::npos || value == "." || value == ".." || value.size() > 253) {
      add(field, quote(value), "must be \"latest\" or a backup file name (no '/')");
    }
  }

  void backup() {
    const auto& b = spec_.backup;
    if (b.schedule) {
      if (auto e = check_cron(*b.schedule); !e.empty()) add("spec.backup.schedule", quote(*b.schedule), e);
    }
    if (b.retention_days && *b.retention_days < 1)
      add("spec.backup.retentionDays", std::to_string(*b.retention_days), "must be >= 1");
    if (b.keep && *b.keep < 0) add("spec.backup.keep", std::to_string(*b.keep), "must be >= 0");
    storage("spec.backup.storage", b.storage);
  }

  void restore() {
    const auto& r = spec_.restore;
    if (r.from && !r.id)
      add("spec.restore.id", "", "is required when spec.restore.from is set (a restore runs once per id)");
    if (r.id && !r.from)
      add("spec.restore.from", "", "is required when spec.restore.id is set (a backup file name or \"latest\")");
    if (r.from) backup_name("spec.restore.from", *r.from);
    if (r.id && (r.id->empty() || !is_label_value(*r.id))) {
      add("spec.restore.id", quote(*r.id),
          "must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit");
    }
  }

  void ingress() {
    const auto& i = spec_.ingress;
    if (i.class_name) subdomain("spec.ingress.className", *i.class_name);
    if (i.host) {
      if (auto e = check_host(*i.host); !e.empty()) add("spec.ingress.host", quote(*i.host), e);
    }
    if (i.api_host) {
      if (auto e = check_host(*i.api_host); !e.empty()) add("spec.ingress.apiHost", quote(*i.api_host), e);
    }
    if (i.tls && i.tls->secret_name) subdomain("spec.ingress.tls.secretName", *i.tls->secret_name);
    if (i.tls && i.tls->cluster_issuer && i.tls->cluster_issuer->empty())
      add("spec.ingress.tls.clusterIssuer", "", "must not be empty");
    if (i.enabled.value_or(false) && (!i.host || i.host->empty())) {
      add("spec.ingress.host", "", "is required when spec.ingress.enabled is true");
    }
  }

  const StillOnTime& r_;
  const Spec& spec_;
  std::vector<FieldError> errors_;
};

}  // namespace

std::vector<FieldError> validate(const StillOnTime& resource) {
  return Validator(resource).run();
}

NamespaceClaim claim_of(const StillOnTime& resource) {
  return {resource.metadata.ns, resource.metadata.name, resource.metadata.creation_timestamp,
          resource.cross_namespace() ? resource.target_namespace() : std::string()};
}

std::optional<FieldError> check_namespace_claim(const StillOnTime& resource,
                                                const std::vector<NamespaceClaim>& others) {
  const NamespaceClaim mine = claim_of(resource);
  if (mine.target_namespace.empty()) return std::nullopt;
  auto key = [](const NamespaceClaim& c) {
    // An empty timestamp (not yet created) sorts last.
    return std::tuple(c.creation_timestamp.empty(), c.creation_timestamp, c.ns, c.name);
  };
  const NamespaceClaim* winner = nullptr;
  for (const auto& other : others) {
    if (other.ns == mine.ns && other.name == mine.name) continue;
    if (other.target_namespace != mine.target_namespace) continue;
    if (key(other) < key(mine) && (!winner || key(other) < key(*winner))) winner = &other;
  }
  if (!winner) return std::nullopt;
  return FieldError{"spec.targetNamespace", quote(mine.target_namespace),
                    "is already claimed by StillOnTime " + winner->ns + "/" + winner->name};
}

std::optional<long double> quantity_value(std::string_view q) {
  std::size_t i = 0;
  bool negative = false;
  if (i < q.size() && (q[i] == '+' || q[i] == '-')) negative = q[i++] == '-';
  const std::size_t num_start = i;
  bool digits = false;
  while (i < q.size() && std::isdigit(static_cast<unsigned char>(q[i]))) ++i, digits = true;
  if (i < q.size() && q[i] == '.') {
    ++i;
    while (i < q.size() && std::isdigit(static_cast<unsigned char>(q[i]))) ++i, digits = true;
  }
  if (!digits) return std::nullopt;
  // strtold, not stold: a number beyond long double's range (5,000 digits are
  // a valid int-or-string to the API server) gives HUGE_VALL, not an exception.
  const std::string number(q.substr(num_start, i - num_start));
  const long double value = std::strtold(number.c_str(), nullptr);
  const std::string_view suffix = q.substr(i);
  static const std::pair<std::string_view, long double> kSuffixes[] = {{"", 1.0L},
                                                                       {"n", 1e-9L},
                                                                       {"u", 1e-6L},
                                                                       {"m", 1e-3L},
                                                                       {"k", 1e3L},
                                                                       {"M", 1e6L},
                                                                       {"G", 1e9L},
                                                                       {"T", 1e12L},
                                                                       {"P", 1e15L},
                                                                       {"E", 1e18L},
                                                                       {"Ki", 1024.0L},
                                                                       {"Mi", 1048576.0L},
                                                                       {"Gi", 1073741824.0L},
                                                                       {"Ti", 1099511627776.0L},
                                                                       {"Pi", 1125899906842624.0L},
                                                                       {"Ei", 1152921504606846976.0L}};
  for (auto [s, mult] : kSuffixes) {
    if (suffix == s) return (negative ? -1 : 1) * value * mult;
  }
  if (!suffix.empty() && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::size_t j = 1;
    if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-')) ++j;
    if (j == suffix.size() || suffix.size() - j > 4) return std::nullopt;
    for (std::size_t k = j; k < suffix.size(); ++k) {
      if (!std::isdigit(static_cast<unsigned char>(suffix[k]))) return std::nullopt;
    }
    const int exp = std::stoi(std::string(suffix.substr(1)));
    if (value == 0) return 0.0L;  // not 0 * inf
    return (negative ? -1 : 1) * value * std::pow(10.0L, exp);
  }
  return std::nullopt;
}

std::string check_quantity(std::string_view q) {
  if (q.empty()) return "must not be empty";
  if (auto v = quantity_value(q)) return std::isfinite(*v) ? "" : "is out of range";
  return "is not a valid quantity (a number with an optional suffix: m, k, M, G, T, Ki, Mi, Gi, Ti, e.g. 512Mi, 1Gi, "
         "250m)";
}

std::string check_cron(std::string_view schedule) {
  auto parsed = parse_cron(schedule);
  return parsed.ok() ? "" : parsed.error().message;
}

std::string check_dns_label(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > 63) return "must be at most 63 characters";
  for (char c : name) {
    if (!is_lower_alnum(c) && c != '-') return "must consist of lowercase letters, digits and '-'";
  }
  if (name.front() == '-' || name.back() == '-') return "must start and end with a letter or digit";
  return "";
}

std::string check_dns_subdomain(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (name.size() > 253) return "must be at most 253 characters";
  for (const auto part : kube::split(name, '.')) {
    if (part.empty() || !is_lower_alnum(part.front()) || !is_lower_alnum(part.back()) ||
        !std::all_of(part.begin(), part.end(), [](char c) { return is_lower_alnum(c) || c == '-'; })) {
      return "must be a DNS subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or "
             "digit)";
    }
  }
  return "";
}

std::string check_host(std::string_view host) {
  if (host.rfind("*.", 0) == 0) host.remove_prefix(2);
  if (host.find(':') != std::string_view::npos || host.find('/') != std::string_view::npos) {
    return "must be a host name only (no scheme, port or path)";
  }
  if (!host.empty() && std::all_of(host.begin(), host.end(),
                                   [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; })) {
    return "must be a DNS name, not an IP address";
  }
  return check_dns_subdomain(host);
}

std::string check_image_tag(std::string_view tag) {
  if (tag.empty()) return "must not be empty";
  if (!is_tag(tag)) {
    return "must be a valid image tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')";
  }
  return "";
}

std::string check_image(std::string_view image) {
  if (image.empty()) return "must not be empty";
  std::string rest(image);
  if (auto at = rest.find('@'); at != std::string::npos) {
    if (!is_digest(std::string_view(rest).substr(at + 1)))
      return "has an invalid digest (expected algorithm:hex, e.g. sha256:...)";
    rest = rest.substr(0, at);
  }
  const auto slash = rest.rfind('/');
  if (auto colon = rest.rfind(':'); colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    if (!is_tag(std::string_view(rest).substr(colon + 1))) return "has an invalid tag";
    rest = rest.substr(0, colon);
  }
  const auto parts = kube::split(rest, '/');
  std::size_t first = 0;
  if (parts.size() > 1 && (parts[0].find_first_of(".:") != std::string_view::npos || parts[0] == "localhost")) {
    if (!is_registry_host(parts[0])) return "has an invalid registry host \"" + std::string(parts[0]) + "\"";
    first = 1;
  }
  for (std::size_t i = first; i < parts.size(); ++i) {
    if (!is_image_path_component(parts[i])) {
      return "is not a valid image reference (path component \"" + std::string(parts[i]) +
             "\": lowercase letters, digits and separators)";
    }
  }
  if (rest.size() > 255) return "repository name must be at most 255 characters";
  return "";
}

std::string check_env_name(std::string_view name) {
  if (name.empty()) return "must not be empty";
  if (!is_env_name(name))
    return "must be a valid environment variable name (letters, digits, '_', '-', '.'; not starting with a digit)";
  return "";
}

}  // namespace sot::stillontime
