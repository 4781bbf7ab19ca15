// Environment profiles. Numbers marked "guide" come from the infrastructure
// guide via DESIGN.md; the rest (development sizes, Postgres/Redis resources)
// are ours and are written down in docs/crd-reference.md.
#include "stillontime/defaults.h"

namespace sot::stillontime {

namespace {

Resources resources(const char* req_cpu, const char* req_mem, const char* lim_cpu, const char* lim_mem) {
  Resources r;
  r.requests.cpu = req_cpu;
  r.requests.memory = req_mem;
  r.limits.cpu = lim_cpu;
  r.limits.memory = lim_mem;
  return r;
}

Autoscaling autoscaling(bool enabled, int min, int max) {
  Autoscaling a;
  a.enabled = enabled;
  a.min_replicas = min;
  a.max_replicas = max;
  a.target_cpu_utilization_percentage = 70;     // guide
  a.target_memory_utilization_percentage = 80;  // guide
  return a;
}

template <typename T>
void fill(std::optional<T>& field, const std::optional<T>& fallback) {
  if (!field) field = fallback;
}

void fill(ResourceList& list, const ResourceList& fallback) {
  fill(list.cpu, fallback.cpu);
  fill(list.memory, fallback.memory);
}

void fill(Resources& r, const Resources& fallback) {
  fill(r.requests, fallback.requests);
  fill(r.limits, fallback.limits);
}

void fill(Autoscaling& a, const Autoscaling& fallback) {
  fill(a.enabled, fallback.enabled);
  fill(a.min_replicas, fallback.min_replicas);
  fill(a.max_replicas, fallback.max_replicas);
  fill(a.target_cpu_utilization_percentage, fallback.target_cpu_utilization_percentage);
  fill(a.target_memory_utilization_percentage, fallback.target_memory_utilization_percentage);
}

void fill(Storage& s, const Storage& fallback, const std::optional<std::string>& class_name) {
  fill(s.size, fallback.size);
  fill(s.storage_class_name, class_name);
}

void fill(WorkloadSpec& w, const WorkloadSpec& fallback) {
  fill(w.image, fallback.image);
  fill(w.replicas, fallback.replicas);
  fill(w.resources, fallback.resources);
  fill(w.autoscaling, fallback.autoscaling);
}

}  // namespace

Spec profile(Environment env) {
  Spec p;
  p.environment = env;
  const int replicas = env == Environment::kDevelopment ? 1 : env == Environment::kStaging ? 2 : 3;  // guide

  p.backend.image = kDefaultBackendImage;
  p.frontend.image = kDefaultFrontendImage;
  p.backend.replicas = replicas;
  p.frontend.replicas = replicas;
  p.postgres.image = kDefaultPostgresImage;
  p.redis.image = kDefaultRedisImage;

  switch (env) {
    case Environment::kDevelopment:
      p.backend.resources = resources("50m", "64Mi", "250m", "256Mi");
      p.frontend.resources = resources("10m", "16Mi", "50m", "64Mi");
      p.postgres.resources = resources("100m", "128Mi", "500m", "512Mi");
      p.redis.resources = resources("50m", "64Mi", "250m", "256Mi");
      p.backend.autoscaling = autoscaling(false, 1, 3);  // guide: HPA off in development
      p.frontend.autoscaling = autoscaling(false, 1, 2);
      break;
    case Environment::kStaging:
      p.backend.resources = resources("100m", "128Mi", "250m", "256Mi");  // guide
      p.frontend.resources = resources("25m", "32Mi", "50m", "64Mi");     // guide
      p.postgres.resources = resources("250m", "256Mi", "1", "1Gi");
      p.redis.resources = resources("100m", "128Mi", "250m", "256Mi");
      p.backend.autoscaling = autoscaling(true, 2, 5);   // guide
      p.frontend.autoscaling = autoscaling(true, 1, 3);  // guide
      break;
    case Environment::kProduction:
      p.backend.resources = resources("250m", "256Mi", "500m", "512Mi");  // guide
      p.frontend.resources = resources("50m", "64Mi", "100m", "128Mi");   // guide
      p.postgres.resources = resources("500m", "512Mi", "2", "2Gi");
      p.redis.resources = resources("100m", "256Mi", "500m", "512Mi");
      p.backend.autoscaling = autoscaling(true, 3, 10);  // guide
      p.frontend.autoscaling = autoscaling(true, 2, 6);  // guide
      break;
  }

  // guide: PVC sizes
  p.backend.storage.logs = "10Gi";
  p.backend.storage.uploads = "50Gi";
  p.postgres.storage.size = "100Gi";
  p.redis.storage.size = "20Gi";

  const bool deployed = env != Environment::kDevelopment;
  p.backup.enabled = deployed;
  p.backup.schedule = kDefaultBackupSchedule;  // guide
  p.backup.retention_days = 30;                // guide
  p.backup.keep = 0;                           // 0: no count limit, retentionDays decides
  p.backup.suspend = false;
  p.backup.storage.size = "100Gi";

  p.ingress.enabled = false;
  p.ingress.class_name = kDefaultIngressClass;
  if (deployed) p.ingress.tls = IngressTls{};  // TLS on outside development; secretName defaults to N-tls

  p.network_policy.enabled = true;
  p.monitoring.enabled = deployed;
  p.monitoring.embedded = false;
  p.monitoring.images = {kPrometheusImage, kAlertmanagerImage, kGrafanaImage, kPostgresExporterImage,
                         kRedisExporterImage};
  // Data outlives a staging or production resource unless the user says otherwise.
  p.deletion_policy = deployed ? DeletionPolicy::kRetain : DeletionPolicy::kDelete;
  return p;
}

Spec apply_defaults(Spec spec) {
  const Spec p = profile(spec.environment);
  fill(spec.backend, p.backend);
  fill(spec.frontend, p.frontend);
  fill(spec.postgres.image, p.postgres.image);
  fill(spec.postgres.resources, p.postgres.resources);
  fill(spec.postgres.storage, p.postgres.storage, spec.storage_class_name);
  fill(spec.redis.image, p.redis.image);
  fill(spec.redis.resources, p.redis.resources);
  fill(spec.redis.storage, p.redis.storage, spec.storage_class_name);

  auto& bs = spec.backend.storage;
  fill(bs.logs, p.backend.storage.logs);
  fill(bs.uploads, p.backend.storage.uploads);
  fill(bs.storage_class_name, spec.storage_class_name);
  if (!bs.access_mode) {
    const auto& a = spec.backend.autoscaling;
    const int most = *a.enabled ? *a.max_replicas : *spec.backend.replicas;
    bs.access_mode = most > 1 ? "ReadWriteMany" : "ReadWriteOnce";
  }

  auto& b = spec.backup;
  fill(b.enabled, p.backup.enabled);
  fill(b.schedule, p.backup.schedule);
  fill(b.retention_days, p.backup.retention_days);
  fill(b.keep, p.backup.keep);
  fill(b.suspend, p.backup.suspend);
  fill(b.storage, p.backup.storage, spec.storage_class_name);

  auto& i = spec.ingress;
  fill(i.enabled, p.ingress.enabled);
  fill(i.class_name, p.ingress.class_name);
  fill(i.tls, p.ingress.tls);

  fill(spec.network_policy.enabled, p.network_policy.enabled);
  fill(spec.monitoring.enabled, p.monitoring.enabled);
  fill(spec.monitoring.embedded, p.monitoring.embedded);
  auto& mi = spec.monitoring.images;
  fill(mi.prometheus, p.monitoring.images.prometheus);
  fill(mi.alertmanager, p.monitoring.images.alertmanager);
  fill(mi.grafana, p.monitoring.images.grafana);
  fill(mi.postgres_exporter, p.monitoring.images.postgres_exporter);
  fill(mi.redis_exporter, p.monitoring.images.redis_exporter);
  fill(spec.deletion_policy, p.deletion_policy);
  return spec;
}

StillOnTime apply_defaults(StillOnTime resource) {
  resource.spec = apply_defaults(std::move(resource.spec));
  return resource;
}

}  // namespace sot::stillontime
