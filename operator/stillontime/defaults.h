// Environment profiles: the numbers of the infrastructure guide (DESIGN.md,
// "Environment profiles"). apply_defaults() fills every field the user left
// out from the profile of spec.environment; a field set in the spec always wins.
// After it, every optional a builder reads has a value.
#pragma once

#include "stillontime/spec.h"

namespace sot::stillontime {

inline constexpr const char* kDefaultBackendImage = "ghcr.io/ruvnet/stillontime/backend";
// Built from app/web/Dockerfile (the crew UI on nginx, port 8080); the frontend Deployment builder
// follows that image's contract (docs/frontend.md).
inline constexpr const char* kDefaultFrontendImage = "ghcr.io/ruvnet/stillontime/frontend";
// Debian-based images: their postgres/redis users are uid 999, which the
// restricted pod security context names explicitly (runAsNonRoot needs a uid).
inline constexpr const char* kDefaultPostgresImage = "postgres:16";
inline constexpr const char* kDefaultRedisImage = "redis:7.2";
// Monitoring images (spec.monitoring.images), pinned: an operator upgrade, not
// a registry push, changes what runs.
inline constexpr const char* kPrometheusImage = "prom/prometheus:v2.53.1";
inline constexpr const char* kAlertmanagerImage = "prom/alertmanager:v0.27.0";
inline constexpr const char* kGrafanaImage = "grafana/grafana:11.1.0";
inline constexpr const char* kPostgresExporterImage = "prometheuscommunity/postgres-exporter:v0.15.0";
inline constexpr const char* kRedisExporterImage = "oliver006/redis_exporter:v1.62.0";
inline constexpr const char* kDefaultBackupSchedule = "0 2 * * *";
inline constexpr const char* kDefaultIngressClass = "nginx";

// The profile of one environment, all fields set.
Spec profile(Environment env);

// Fills unset fields of `spec` from profile(spec.environment).
Spec apply_defaults(Spec spec);
StillOnTime apply_defaults(StillOnTime resource);

}  // namespace sot::stillontime
