// The environment profiles carry DESIGN.md's numbers; a field set in the spec wins.
#include "stillontime/defaults.h"

#include <doctest/doctest.h>

#include "unit/stillontime/helpers.h"

namespace sot::stillontime {
namespace {

using test::make_resource;

TEST_CASE("development profile") {
  auto r = make_resource({{"environment", "development"}});
  const Spec& s = r.spec;
  CHECK(*s.backend.replicas == 1);
  CHECK(*s.frontend.replicas == 1);
  CHECK_FALSE(*s.backend.autoscaling.enabled);
  CHECK_FALSE(*s.frontend.autoscaling.enabled);
  CHECK_FALSE(*s.backup.enabled);
  CHECK_FALSE(*s.monitoring.enabled);
  CHECK(*s.deletion_policy == DeletionPolicy::kDelete);
  CHECK(*s.backend.storage.access_mode == "ReadWriteOnce");
  CHECK_FALSE(s.ingress.tls.has_value());
}

TEST_CASE("staging profile") {
  auto r = make_resource({{"environment", "staging"}});
  const Spec& s = r.spec;
  CHECK(*s.backend.replicas == 2);
  CHECK(*s.frontend.replicas == 2);
  CHECK(*s.backend.resources.requests.memory == "128Mi");
  CHECK(*s.backend.resources.limits.memory == "256Mi");
  CHECK(*s.backend.resources.requests.cpu == "100m");
  CHECK(*s.backend.resources.limits.cpu == "250m");
  CHECK(*s.frontend.resources.requests.memory == "32Mi");
  CHECK(*s.frontend.resources.limits.memory == "64Mi");
  CHECK(*s.frontend.resources.requests.cpu == "25m");
  CHECK(*s.frontend.resources.limits.cpu == "50m");
  CHECK(*s.backend.autoscaling.enabled);
  CHECK(*s.backend.autoscaling.min_replicas == 2);
  CHECK(*s.backend.autoscaling.max_replicas == 5);
  CHECK(*s.frontend.autoscaling.min_replicas == 1);
  CHECK(*s.frontend.autoscaling.max_replicas == 3);
  CHECK(*s.backend.autoscaling.target_cpu_utilization_percentage == 70);
  CHECK(*s.backend.autoscaling.target_memory_utilization_percentage == 80);
  CHECK(*s.deletion_policy == DeletionPolicy::kRetain);
}

TEST_CASE("production profile") {
  auto r = make_resource({{"environment", "production"}});
  const Spec& s = r.spec;
  CHECK(*s.backend.replicas == 3);
  CHECK(*s.backend.resources.requests.memory == "256Mi");
  CHECK(*s.backend.resources.limits.memory == "512Mi");
  CHECK(*s.backend.resources.requests.cpu == "250m");
  CHECK(*s.backend.resources.limits.cpu == "500m");
  CHECK(*s.frontend.resources.requests.memory == "64Mi");
  CHECK(*s.frontend.resources.limits.memory == "128Mi");
  CHECK(*s.frontend.resources.requests.cpu == "50m");
  CHECK(*s.frontend.resources.limits.cpu == "100m");
  CHECK(*s.backend.autoscaling.min_replicas == 3);
  CHECK(*s.backend.autoscaling.max_replicas == 10);
  CHECK(*s.frontend.autoscaling.min_replicas == 2);
  CHECK(*s.frontend.autoscaling.max_replicas == 6);
  CHECK(*s.backend.storage.logs == "10Gi");
  CHECK(*s.backend.storage.uploads == "50Gi");
  CHECK(*s.postgres.storage.size == "100Gi");
  CHECK(*s.redis.storage.size == "20Gi");
  CHECK(*s.backup.enabled);
  CHECK(*s.backup.schedule == "0 2 * * *");
  CHECK(*s.backup.retention_days == 30);
  CHECK(*s.monitoring.enabled);
  CHECK(*s.network_policy.enabled);
  CHECK(*s.backend.storage.access_mode == "ReadWriteMany");
}

TEST_CASE("a field set in the spec wins over the profile") {
  auto r = make_resource(
      {{"environment", "production"},
       {"backend",
        {{"replicas", 7}, {"resources", {{"limits", {{"memory", "2Gi"}}}}}, {"autoscaling", {{"maxReplicas", 20}}}}},
       {"backup", {{"schedule", "30 3 * * *"}, {"enabled", false}}},
       {"storageClassName", "fast"}});
  const Spec& s = r.spec;
  CHECK(*s.backend.replicas == 7);
  CHECK(*s.backend.resources.limits.memory == "2Gi");
  CHECK(*s.backend.resources.requests.memory == "256Mi");  // the rest still from the profile
  CHECK(*s.backend.autoscaling.max_replicas == 20);
  CHECK(*s.backend.autoscaling.min_replicas == 3);
  CHECK(*s.backup.schedule == "30 3 * * *");
  CHECK_FALSE(*s.backup.enabled);
  CHECK(*s.postgres.storage.storage_class_name == "fast");
  CHECK(*s.backend.storage.storage_class_name == "fast");
}

}  // namespace
}  // namespace sot::stillontime
