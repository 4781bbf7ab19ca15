// Services: ClusterIP Services for backend, frontend, Postgres and Redis (what
// clients and the Ingress use), plus headless Services that give the
// StatefulSets their stable pod DNS names. Every port carries protocol TCP:
// the 1.20 server's server-side apply refuses a port without it. When
// monitoring is on, the Postgres and Redis Services also serve their
// exporters' `metrics` ports (the ClusterIP Services only, so a Prometheus
// that scrapes every Service with such a port sees each exporter once).
#include "stillontime/builders/builders.h"

namespace sot::stillontime {

namespace {

json service_port(const char* name, int port, const char* target) {
  return {{"name", name}, {"port", port}, {"targetPort", target}, {"protocol", "TCP"}};
}

json service(const StillOnTime& r, const std::string& name, const char* component, json ports, bool headless) {
  json spec = {{"type", "ClusterIP"}, {"selector", selector_labels(r, component)}, {"ports", std::move(ports)}};
  if (headless) {
    spec["clusterIP"] = "None";
    // Peers must resolve each other while starting (StatefulSet convention).
    spec["publishNotReadyAddresses"] = true;
  }
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", object_meta(r, name, component)},
          {"spec", std::move(spec)}};
}

}  // namespace

json build_backend_service(const StillOnTime& r) {
  return service(
      r, child_name(r, kBackend), kBackend,
      json::array({service_port("http", kBackendPort, "http"), service_port("metrics", kMetricsPort, "metrics")}),
      false);
}

json build_frontend_service(const StillOnTime& r) {
  return service(r, child_name(r, kFrontend), kFrontend, json::array({service_port("http", kFrontendPort, "http")}),
                 false);
}

json build_postgres_service(const StillOnTime& r) {
  json ports = json::array({service_port("postgres", kPostgresPort, "postgres")});
  if (monitoring_on(r)) ports.push_back(service_port("metrics", kPostgresExporterPort, "metrics"));
  return service(r, child_name(r, kPostgres), kPostgres, std::move(ports), false);
}

json build_postgres_headless_service(const StillOnTime& r) {
  return service(r, child_name(r, "postgres-headless"), kPostgres,
                 json::array({service_port("postgres", kPostgresPort, "postgres")}), true);
}

json build_redis_service(const StillOnTime& r) {
  json ports = json::array({service_port("redis", kRedisPort, "redis")});
  if (monitoring_on(r)) ports.push_back(service_port("metrics", kRedisExporterPort, "metrics"));
  return service(r, child_name(r, kRedis), kRedis, std::move(ports), false);
}

json build_redis_headless_service(const StillOnTime& r) {
  return service(r, child_name(r, "redis-headless"), kRedis, json::array({service_port("redis", kRedisPort, "redis")}),
                 true);
}

}  // namespace sot::stillontime
