// Parsing the CR JSON into the typed Spec. A Reader walks one JSON object,
// knows its path ("spec.backend"), records an error naming the field for each
// type mismatch, and at the end reports keys it did not expect. Parsing goes on
// after an error so the user sees every problem at once.
#include "stillontime/spec.h"

#include <algorithm>
#include <set>

#include "kube/text.h"

namespace sot::stillontime {

std::string FieldError::to_string() const {
  if (value.empty()) return field + ": " + message;
  if (value.size() <= kMaxShownValueBytes) return field + " (" + value + ") " + message;
  // A 100,000-character value would make the status condition longer than
  // the API server stores (32,768) and the log line as long.
  return field + " (" + kube::truncate_utf8(value, kMaxShownValueBytes) + " " + std::to_string(value.size()) +
         " bytes) " + message;
}

std::string join_errors(const std::vector<FieldError>& errors) {
  std::string out;
  std::size_t shown = 0;
  for (const auto& e : errors) {
    if (shown == kMaxJoinedErrors) {
      out += "; and " + std::to_string(errors.size() - shown) + " more";
      break;
    }
    if (!out.empty()) out += "; ";
    out += e.to_string();
    ++shown;
  }
  return out;
}

const char* environment_name(Environment env) {
  switch (env) {
    case Environment::kDevelopment:
      return "development";
    case Environment::kStaging:
      return "staging";
    case Environment::kProduction:
      return "production";
  }
  return "development";
}

const char* deletion_policy_name(DeletionPolicy policy) {
  return policy == DeletionPolicy::kDelete ? "Delete" : "Retain";
}

const std::string& StillOnTime::target_namespace() const {
  return spec.target_namespace && !spec.target_namespace->empty() ? *spec.target_namespace : metadata.ns;
}

namespace {

class Reader {
 public:
  Reader(const Json* object, std::string path, std::vector<FieldError>& errors)
      : object_(object), path_(std::move(path)), errors_(errors) {}

  // Records unexpected keys; call after reading every known field.
  ~Reader() {
    if (!object_ || !object_->is_object()) return;
    for (const auto& [key, value] : object_->items()) {
      if (!seen_.count(key)) errors_.push_back({path_ + "." + key, "", "unknown field"});
    }
  }

  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  std::string field(const std::string& key) const { return path_ + "." + key; }

  const Json* get(const std::string& key) {
    seen_.insert(key);
    if (!object_ || !object_->is_object()) return nullptr;
    auto it = object_->find(key);
    if (it == object_->end() || it->is_null()) return nullptr;
    return &*it;
  }

  std::optional<std::string> string(const std::string& key) {
    const Json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
      error(key, "must be a string");
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  // Quantities: Kubernetes accepts 1 as well as "1" (x-kubernetes-int-or-string).
  std::optional<std::string> quantity(const std::string& key) {
    const Json* v = get(key);
    if (!v) return std::nullopt;
    if (v->is_string()) return v->get<std::string>();
    if (v->is_number_integer()) return std::to_string(v->get<std::int64_t>());
    if (v->is_number_float()) {
      std::string s = v->dump();
      return s;
    }
    error(key, "must be a quantity (a string like \"512Mi\" or an integer)");
    return std::nullopt;
  }

  std::optional<int> integer(const std::string& key) {
    const Json* v = get(key);
    if (!v) return std::nullopt;
    if (v->is_number_integer()) {
      auto n = v->get<std::int64_t>();
      if (n < INT32_MIN || n > INT32_MAX) {
        error(key, "is out of range for a 32-bit integer");
        return std::nullopt;
      }
      return static_cast<int>(n);
    }
    if (v->is_number_float() && v->get<double>() == static_cast<double>(static_cast<std::int64_t>(v->get<double>()))) {
      return static_cast<int>(v->get<double>());
    }
    error(key, "must be an integer");
    return std::nullopt;
  }

  std::optional<bool> boolean(const std::string& key) {
    const Json* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) {
      error(key, "must be a boolean (true or false)");
      return std::nullopt;
    }
    return v->get<bool>();
  }

  // A nested object; nullptr (and an error) when the value is not an object.
  const Json* object(const std::string& key) {
    const Json* v = get(key);
    if (!v) return nullptr;
    if (!v->is_object()) {
      error(key, "must be an object");
      return nullptr;
    }
    return v;
  }

  void error(const std::string& key, std::string message) { errors_.push_back({field(key), "", std::move(message)}); }

  std::vector<FieldError>& errors() { return errors_; }

 private:
  const Json* object_;
  std::string path_;
  std::vector<FieldError>& errors_;
  std::set<std::string> seen_;
};

ResourceList read_resource_list(const Json* obj, const std::string& path, std::vector<FieldError>& errors) {
  Reader r(obj, path, errors);
  ResourceList out;
  out.cpu = r.quantity("cpu");
  out.memory = r.quantity("memory");
  return out;
}

Resources read_resources(Reader& parent, const std::string& key) {
  Resources out;
  const Json* obj = parent.object(key);
  if (!obj) return out;
  Reader r(obj, parent.field(key), parent.errors());
  out.requests = read_resource_list(r.object("requests"), r.field("requests"), r.errors());
  out.limits = read_resource_list(r.object("limits"), r.field("limits"), r.errors());
  return out;
}

Autoscaling read_autoscaling(Reader& parent) {
  Autoscaling out;
  const Json* obj = parent.object("autoscaling");
  if (!obj) return out;
  Reader r(obj, parent.field("autoscaling"), parent.errors());
  out.enabled = r.boolean("enabled");
  out.min_replicas = r.integer("minReplicas");
  out.max_replicas = r.integer("maxReplicas");
  out.target_cpu_utilization_percentage = r.integer("targetCPUUtilizationPercentage");
  out.target_memory_utilization_percentage = r.integer("targetMemoryUtilizationPercentage");
  return out;
}

Storage read_storage(Reader& parent) {
  Storage out;
  const Json* obj = parent.object("storage");
  if (!obj) return out;
  Reader r(obj, parent.field("storage"), parent.errors());
  out.size = r.quantity("size");
  out.storage_class_name = r.string("storageClassName");
  return out;
}

std::optional<std::string> required_string(Reader& r, const std::string& key) {
  auto v = r.string(key);
  if (!v && !r.get(key))
    r.error(key, "is required");
  else if (v && v->empty()) {
    r.error(key, "must not be empty");
    return std::nullopt;
  }
  return v;
}

void read_workload(Reader& r, WorkloadSpec& out) {
  out.image = r.string("image");
  out.replicas = r.integer("replicas");
  out.resources = read_resources(r, "resources");
  out.autoscaling = read_autoscaling(r);
}

BackendSpec read_backend(Reader& parent) {
  BackendSpec out;
  const Json* obj = parent.object("backend");
  if (!obj) return out;
  Reader r(obj, parent.field("backend"), parent.errors());
  read_workload(r, out);
  if (const Json* ref = r.object("secretRef")) {
    Reader rr(ref, r.field("secretRef"), r.errors());
    auto name = required_string(rr, "name");
    if (name) out.secret_ref = SecretRef{*name};
  }
  if (const Json* env = r.get("env")) {
    if (!env->is_array()) {
      r.error("env", "must be a list of {name, value} or {name, valueFrom}");
    } else {
      for (std::size_t i = 0; i < env->size(); ++i) {
        const std::string path = r.field("env") + "[" + std::to_string(i) + "]";
        const Json& item = (*env)[i];
        if (!item.is_object()) {
          r.errors().push_back({path, "", "must be an object"});
          continue;
        }
        Reader er(&item, path, r.errors());
        EnvVar var;
        auto name = required_string(er, "name");
        var.value = er.string("value");
        if (const Json* from = er.object("valueFrom")) var.value_from = *from;
        if (name) {
          var.name = *name;
          out.env.push_back(std::move(var));
        }
      }
    }
  }
  if (const Json* st = r.object("storage")) {
    Reader sr(st, r.field("storage"), r.errors());
    out.storage.logs = sr.quantity("logs");
    out.storage.uploads = sr.quantity("uploads");
    out.storage.storage_class_name = sr.string("storageClassName");
    out.storage.access_mode = sr.string("accessMode");
    if (out.storage.access_mode && *out.storage.access_mode != "ReadWriteOnce" &&
        *out.storage.access_mode != "ReadWriteMany") {
      sr.error("accessMode", "must be ReadWriteOnce or ReadWriteMany");
      out.storage.access_mode.reset();
    }
  }
  return out;
}

FrontendSpec read_frontend(Reader& parent) {
  FrontendSpec out;
  const Json* obj = parent.object("frontend");
  if (!obj) return out;
  Reader r(obj, parent.field("frontend"), parent.errors());
  read_workload(r, out);
  return out;
}

PostgresSpec read_postgres(Reader& parent) {
  PostgresSpec out;
  const Json* obj = parent.object("postgres");
  if (!obj) return out;
  Reader r(obj, parent.field("postgres"), parent.errors());
  out.image = r.string("image");
  out.resources = read_resources(r, "resources");
  out.storage = read_storage(r);
  if (const Json* ext = r.object("external")) {
    Reader er(ext, r.field("external"), r.errors());
    const Json* ref = er.object("secretRef");
    if (!ref) {
      if (!er.get("secretRef")) er.error("secretRef", "is required");
    } else {
      Reader sr(ref, er.field("secretRef"), r.errors());
      auto name = required_string(sr, "name");
      auto key = sr.string("key");
      if (name) out.external = SecretKeySelector{*name, key.value_or("DATABASE_URL")};
    }
  }
  if (const Json* boot = r.object("bootstrap")) {
    Reader br(boot, r.field("bootstrap"), r.errors());
    out.bootstrap.from_backup = br.string("fromBackup");
  }
  return out;
}

RedisSpec read_redis(Reader& parent) {
  RedisSpec out;
  const Json* obj = parent.object("redis");
  if (!obj) return out;
  Reader r(obj, parent.field("redis"), parent.errors());
  out.image = r.string("image");
  out.resources = read_resources(r, "resources");
  out.storage = read_storage(r);
  return out;
}

BackupSpec read_backup(Reader& parent) {
  BackupSpec out;
  const Json* obj = parent.object("backup");
  if (!obj) return out;
  Reader r(obj, parent.field("backup"), parent.errors());
  out.enabled = r.boolean("enabled");
  out.schedule = r.string("schedule");
  out.retention_days = r.integer("retentionDays");
  out.keep = r.integer("keep");
  out.suspend = r.boolean("suspend");
  out.storage = read_storage(r);
  return out;
}

RestoreSpec read_restore(Reader& parent) {
  RestoreSpec out;
  const Json* obj = parent.object("restore");
  if (!obj) return out;
  Reader r(obj, parent.field("restore"), parent.errors());
  out.from = r.string("from");
  out.id = r.string("id");
  return out;
}

IngressSpec read_ingress(Reader& parent) {
  IngressSpec out;
  const Json* obj = parent.object("ingress");
  if (!obj) return out;
  Reader r(obj, parent.field("ingress"), parent.errors());
  out.enabled = r.boolean("enabled");
  out.class_name = r.string("className");
  out.host = r.string("host");
  out.api_host = r.string("apiHost");
  if (const Json* tls = r.object("tls")) {
    Reader tr(tls, r.field("tls"), r.errors());
    IngressTls t;
    t.secret_name = tr.string("secretName");
    t.cluster_issuer = tr.string("clusterIssuer");
    out.tls = t;
  }
  return out;
}

void read_spec(const Json& object, Spec& spec, std::vector<FieldError>& errors);

}  // namespace

ParseResult parse(const Json& object) {
  ParseResult out;
  auto& errors = out.errors;
  if (!object.is_object()) {
    errors.push_back({"", "", "the resource must be an object"});
    return out;
  }
  // apiVersion/kind: only checked when present (the informer hands us typed objects).
  if (auto it = object.find("apiVersion"); it != object.end() && *it != kApiVersion) {
    errors.push_back({"apiVersion", "", std::string("must be ") + kApiVersion});
  }
  if (auto it = object.find("kind"); it != object.end() && *it != kKind) {
    errors.push_back({"kind", "", std::string("must be ") + kKind});
  }

  auto& meta = out.resource.metadata;
  if (auto it = object.find("metadata"); it != object.end() && it->is_object()) {
    // A file given to `render` can hold anything here; the API server's own
    // checks do not apply to it.
    auto text = [&](const char* key) -> std::string {
      auto f = it->find(key);
      if (f == it->end() || f->is_null()) return {};
      if (f->is_string()) return f->get<std::string>();
      errors.push_back({std::string("metadata.") + key, "", "must be a string"});
      return {};
    };
    meta.name = text("name");
    meta.ns = text("namespace");
    meta.uid = text("uid");
    if (auto g = it->find("generation"); g != it->end() && g->is_number_integer())
      meta.generation = g->get<std::int64_t>();
    meta.creation_timestamp = text("creationTimestamp");
  }
  if (meta.name.empty() &&
      std::none_of(errors.begin(), errors.end(), [](const FieldError& e) { return e.field == "metadata.name"; })) {
    errors.push_back({"metadata.name", "", "is required"});
  }

  auto spec_it = object.find("spec");
  if (spec_it == object.end() || !spec_it->is_object()) {
    errors.push_back({"spec", "", "is required"});
    return out;
  }
  read_spec(*spec_it, out.resource.spec, errors);
  return out;
}

namespace {
void read_spec(const Json& object, Spec& spec, std::vector<FieldError>& errors) {
  Reader r(&object, "spec", errors);

  if (auto env = required_string(r, "environment")) {
    if (*env == "development")
      spec.environment = Environment::kDevelopment;
    else if (*env == "staging")
      spec.environment = Environment::kStaging;
    else if (*env == "production")
      spec.environment = Environment::kProduction;
    else
      errors.push_back({"spec.environment", "\"" + *env + "\"", "must be development, staging or production"});
  }
  if (auto version = required_string(r, "version")) spec.version = *version;
  spec.target_namespace = r.string("targetNamespace");
  spec.paused = r.boolean("paused").value_or(false);
  spec.backend = read_backend(r);
  spec.frontend = read_frontend(r);
  spec.postgres = read_postgres(r);
  spec.redis = read_redis(r);
  spec.backup = read_backup(r);
  spec.restore = read_restore(r);
  spec.ingress = read_ingress(r);
  if (const Json* np = r.object("networkPolicy")) {
    Reader nr(np, "spec.networkPolicy", errors);
    spec.network_policy.enabled = nr.boolean("enabled");
  }
  if (const Json* mon = r.object("monitoring")) {
    Reader mr(mon, "spec.monitoring", errors);
    spec.monitoring.enabled = mr.boolean("enabled");
    spec.monitoring.embedded = mr.boolean("embedded");
    if (const Json* images = mr.object("images")) {
      Reader ir(images, "spec.monitoring.images", errors);
      auto& i = spec.monitoring.images;
      i.prometheus = ir.string("prometheus");
      i.alertmanager = ir.string("alertmanager");
      i.grafana = ir.string("grafana");
      i.postgres_exporter = ir.string("postgresExporter");
      i.redis_exporter = ir.string("redisExporter");
    }
  }
  if (auto policy = r.string("deletionPolicy")) {
    if (*policy == "Retain")
      spec.deletion_policy = DeletionPolicy::kRetain;
    else if (*policy == "Delete")
      spec.deletion_policy = DeletionPolicy::kDelete;
    else
      errors.push_back({"spec.deletionPolicy", "\"" + *policy + "\"", "must be Retain or Delete"});
  }
  spec.storage_class_name = r.string("storageClassName");
}
}  // namespace

}  // namespace sot::stillontime
