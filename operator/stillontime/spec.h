// The typed StillOnTime custom resource. The API server's structural schema
// (crds/stillontime.app_stillontimes.yaml) already checks types and enums, but a
// controller must not trust that (the CRD can be older than the operator, and
// `render` reads files that never met a server), so parse() checks every field
// again and names the field in its error. Fields are optional here because the
// environment profile (defaults.h) fills what the user left out; after
// apply_defaults() every field a builder reads is set.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sot::stillontime {

using Json = nlohmann::json;

inline constexpr const char* kGroup = "stillontime.app";
inline constexpr const char* kVersion = "v1alpha1";
inline constexpr const char* kApiVersion = "stillontime.app/v1alpha1";
inline constexpr const char* kKind = "StillOnTime";
inline constexpr const char* kPlural = "stillontimes";

// One problem with one field. to_string() gives the form used in status
// conditions, Events and `render`:
//   "spec.backend.replicas: must be an integer"               (no value)
//   "spec.backend.autoscaling.maxReplicas (2) must be >= minReplicas (3)"
struct FieldError {
  std::string field;  // "spec.backend.autoscaling.maxReplicas"
  std::string value;  // the offending value as written, "" when not useful
  std::string message;

  std::string to_string() const;
  bool operator==(const FieldError&) const = default;
};

// to_string() shows at most this much of a value (then "... N bytes").
inline constexpr std::size_t kMaxShownValueBytes = 128;
// join_errors() lists at most this many errors (then "; and N more").
inline constexpr std::size_t kMaxJoinedErrors = 20;

// "a; b; c" from the errors' to_string().
std::string join_errors(const std::vector<FieldError>& errors);

enum class Environment { kDevelopment, kStaging, kProduction };
enum class DeletionPolicy { kRetain, kDelete };

const char* environment_name(Environment env);
const char* deletion_policy_name(DeletionPolicy policy);

// Quantities are kept as written ("512Mi", "0.5", "250m"); validate() checks the syntax.
struct ResourceList {
  std::optional<std::string> cpu;
  std::optional<std::string> memory;
};

struct Resources {
  ResourceList requests;
  ResourceList limits;
};

struct Autoscaling {
  std::optional<bool> enabled;
  std::optional<int> min_replicas;
  std::optional<int> max_replicas;
  std::optional<int> target_cpu_utilization_percentage;
  std::optional<int> target_memory_utilization_percentage;
};

struct SecretRef {
  std::string name;
};

struct SecretKeySelector {
  std::string name;
  std::string key;
};

// A user environment variable, in the Kubernetes EnvVar shape. valueFrom is
// passed through untouched (the API server validates it).
struct EnvVar {
  std::string name;
  std::optional<std::string> value;
  std::optional<Json> value_from;
};

struct Storage {
  std::optional<std::string> size;
  std::optional<std::string> storage_class_name;
};

// The backend's two PVCs. accessMode defaults to ReadWriteMany when the backend
// can run more than one replica (pods on different nodes share the volumes),
// ReadWriteOnce otherwise.
struct BackendStorage {
  std::optional<std::string> logs;
  std::optional<std::string> uploads;
  std::optional<std::string> storage_class_name;
  std::optional<std::string> access_mode;
};

struct WorkloadSpec {
  std::optional<std::string> image;  // repository; a tag or digest in it wins over spec.version
  std::optional<int> replicas;
  Resources resources;
  Autoscaling autoscaling;
};

struct BackendSpec : WorkloadSpec {
  std::optional<SecretRef> secret_ref;
  std::vector<EnvVar> env;
  BackendStorage storage;
};

struct FrontendSpec : WorkloadSpec {};

struct PostgresBootstrap {
  std::optional<std::string> from_backup;  // backup file name or "latest"
};

struct PostgresSpec {
  std::optional<std::string> image;
  Resources resources;
  Storage storage;
  std::optional<SecretKeySelector> external;  // external.secretRef: {name, key} holding DATABASE_URL
  PostgresBootstrap bootstrap;
};

struct RedisSpec {
  std::optional<std::string> image;
  Resources resources;
  Storage storage;
};

struct BackupSpec {
  std::optional<bool> enabled;
  std::optional<std::string> schedule;
  std::optional<int> retention_days;
  std::optional<int> keep;
  std::optional<bool> suspend;
  Storage storage;
};

struct RestoreSpec {
  std::optional<std::string> from;  // file name or "latest"
  std::optional<std::string> id;    // run once per id
};

struct IngressTls {
  std::optional<std::string> secret_name;
  std::optional<std::string> cluster_issuer;
};

struct IngressSpec {
  std::optional<bool> enabled;
  std::optional<std::string> class_name;
  std::optional<std::string> host;
  std::optional<std::string> api_host;
  std::optional<IngressTls> tls;  // absent: plain HTTP
};

struct NetworkPolicySpec {
  std::optional<bool> enabled;
};

// The monitoring images; defaults are the upstream images of each project.
// A cluster without registry access (an air-gapped one, or a node that only
// has images built locally) names its own.
struct MonitoringImages {
  std::optional<std::string> prometheus;
  std::optional<std::string> alertmanager;
  std::optional<std::string> grafana;
  std::optional<std::string> postgres_exporter;
  std::optional<std::string> redis_exporter;
};

struct MonitoringSpec {
  std::optional<bool> enabled;
  std::optional<bool> embedded;
  MonitoringImages images;
};

struct Spec {
  Environment environment = Environment::kDevelopment;  // required
  std::string version;                                  // required
  std::optional<std::string> target_namespace;
  bool paused = false;
  BackendSpec backend;
  FrontendSpec frontend;
  PostgresSpec postgres;
  RedisSpec redis;
  BackupSpec backup;
  RestoreSpec restore;
  IngressSpec ingress;
  NetworkPolicySpec network_policy;
  MonitoringSpec monitoring;
  std::optional<DeletionPolicy> deletion_policy;
  std::optional<std::string> storage_class_name;
};

// The parts of metadata the operator uses.
struct Metadata {
  std::string name;
  std::string ns;   // "" when the document has none (render defaults it)
  std::string uid;  // "" before the API server assigned one
  std::int64_t generation = 0;
  std::string creation_timestamp;  // RFC 3339 as the server wrote it
};

struct StillOnTime {
  Metadata metadata;
  Spec spec;

  // Where the children go: spec.targetNamespace or the resource's own namespace.
  const std::string& target_namespace() const;
  // Children in the resource's own namespace get a controller ownerReference;
  // across namespaces the operator tracks them by label behind a finalizer.
  bool cross_namespace() const { return target_namespace() != metadata.ns; }
};

// parse() returns every problem it found, not only the first.
struct ParseResult {
  StillOnTime resource;
  std::vector<FieldError> errors;
  bool ok() const { return errors.empty(); }
};

// Parses a StillOnTime object (the whole CR as JSON: apiVersion, kind, metadata,
// spec). Unknown spec fields are errors: the structural schema prunes them on a
// server, so seeing one means a typo in a file given to `render`.
ParseResult parse(const Json& object);

}  // namespace sot::stillontime
