// The backup children: the CronJob (both API versions), its pod template
// (restricted, scripts from the ConfigMap, credentials by secretKeyRef), the
// PVC (kept unless deletionPolicy Delete), the scripts ConfigMap (the repo's
// files byte for byte) and the on-demand, restore and bootstrap Jobs.
#include <set>

#include <doctest/doctest.h>

#include "stillontime/builders/backup.h"
#include "stillontime/builders/builders.h"
#include "unit/stillontime/helpers.h"

using namespace sot::stillontime;
using sot::stillontime::test::make_resource;

namespace {

const json& container_named(const json& pod_spec, const std::string& name) {
  for (const char* list : {"containers", "initContainers"}) {
    if (!pod_spec.contains(list)) continue;
    for (const auto& c : pod_spec.at(list)) {
      if (c.at("name") == name) return c;
    }
  }
  FAIL("no container " << name);
  static json none;
  return none;
}

std::map<std::string, json> env_of(const json& c) {
  std::map<std::string, json> out;
  for (const auto& e : c["env"]) out[e["name"]] = e;
  return out;
}

void check_restricted(const json& pod_spec) {
  CHECK(pod_spec["securityContext"]["runAsNonRoot"] == true);
  CHECK(pod_spec["securityContext"]["runAsUser"].is_number_integer());
  CHECK(pod_spec["securityContext"]["runAsUser"] != 0);
  CHECK(pod_spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault");
  CHECK(pod_spec["automountServiceAccountToken"] == false);
  for (const auto& c : sot::stillontime::test::all_containers(pod_spec)) {
    CAPTURE(c["name"]);
    CHECK(c["securityContext"]["allowPrivilegeEscalation"] == false);
    CHECK(c["securityContext"]["readOnlyRootFilesystem"] == true);
    CHECK(c["securityContext"]["capabilities"]["drop"] == json::array({"ALL"}));
    std::set<std::string> mounts;
    for (const auto& m : c["volumeMounts"]) mounts.insert(m["mountPath"]);
    CHECK(mounts == std::set<std::string>{"/scripts", "/backups", "/tmp"});
    // Credentials never appear as literal values.
    for (const auto& e : c["env"]) {
      const std::string n = e["name"];
      if (n.find("PASSWORD") != std::string::npos || n == "DATABASE_URL") CHECK(e.contains("valueFrom"));
    }
  }
  std::map<std::string, json> volumes;
  for (const auto& v : pod_spec["volumes"]) volumes[v["name"]] = v;
  CHECK(volumes["tmp"].contains("emptyDir"));
  CHECK(volumes["backups"]["persistentVolumeClaim"]["claimName"] == "sot-backups");
  CHECK(volumes["scripts"]["configMap"]["name"] == "sot-backup-scripts");
}

}  // namespace

TEST_CASE("backups enabled: ConfigMap, PVC and CronJob, in that order") {
  auto r = make_resource({{"environment", "production"}});
  BuildContext ctx;
  auto objects = build_backup_objects(r, ctx);
  REQUIRE(objects.size() == 3);
  CHECK(objects[0]["kind"] == "ConfigMap");
  CHECK(objects[1]["kind"] == "PersistentVolumeClaim");
  CHECK(objects[2]["kind"] == "CronJob");
  for (const auto& o : objects) sot::stillontime::test::check_contract_labels(o, "backup");
}

TEST_CASE("backups off in development: nothing, unless a restore or a bootstrap needs the volume") {
  BuildContext ctx;
  CHECK(build_backup_objects(make_resource({{"environment", "development"}}), ctx).empty());
  auto restore = build_backup_objects(
      make_resource({{"environment", "development"}, {"restore", {{"from", "latest"}, {"id", "r1"}}}}), ctx);
  REQUIRE(restore.size() == 2);
  CHECK(restore[1]["metadata"]["name"] == "sot-backups");
}

TEST_CASE("the CronJob: schedule, suspend, Forbid, history, deadlines, the API version of the server") {
  auto r = make_resource({{"environment", "staging"}, {"backup", {{"schedule", "30 3 * * *"}, {"suspend", true}}}});
  BuildContext ctx;
  ctx.api.cronjob = "batch/v1beta1";
  const json cj = build_backup_cronjob(r, ctx);
  CHECK(cj["apiVersion"] == "batch/v1beta1");
  CHECK(cj["metadata"]["name"] == "sot-backup");
  CHECK(cj["metadata"]["namespace"] == "apps");
  CHECK(cj["spec"]["schedule"] == "30 3 * * *");
  CHECK(cj["spec"]["suspend"] == true);
  CHECK(cj["spec"]["concurrencyPolicy"] == "Forbid");
  CHECK(cj["spec"]["successfulJobsHistoryLimit"] == 3);
  CHECK(cj["spec"]["failedJobsHistoryLimit"] == 3);
  CHECK(cj["spec"]["startingDeadlineSeconds"] == kBackupStartingDeadlineSeconds);
  CHECK(cj["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] == kBackupActiveDeadlineSeconds);
  CHECK(cj["spec"]["jobTemplate"]["metadata"]["labels"]["stillontime.app/owner"] == "apps.sot");
  CHECK(cj["spec"]["jobTemplate"]["metadata"]["labels"][kTaskLabel] == "backup");
  ctx.api.cronjob = "batch/v1";
  CHECK(build_backup_cronjob(r, ctx)["apiVersion"] == "batch/v1");
  CHECK(build_backup_cronjob(make_resource({{"environment", "staging"}}), ctx)["spec"]["suspend"] == false);
}

TEST_CASE("the backup pod: restricted, component backup, postgres and redis images, credentials from the Secrets") {
  auto r = make_resource({{"environment", "production"}, {"backup", {{"retentionDays", 7}, {"keep", 5}}}});
  const json tmpl = backup_pod_template(r, "schedule");
  const json& spec = tmpl["spec"];
  CHECK(tmpl["metadata"]["labels"]["app.kubernetes.io/component"] == "backup");  // the N-backup NetworkPolicy
  CHECK(spec["restartPolicy"] == "Never");
  check_restricted(spec);

  const json& main = container_named(spec, "backup");
  CHECK(main["image"] == "postgres:16");
  CHECK(main["command"] == json::array({"bash", "/scripts/backup.sh"}));
  CHECK(main["terminationMessagePolicy"] == "FallbackToLogsOnError");
  auto env = env_of(main);
  CHECK(env["BACKUP_DIR"]["value"] == "/backups");
  CHECK(env["PGHOST"]["value"] == "sot-postgres.apps.svc");
  CHECK(env["PGPORT"]["value"] == "5432");
  CHECK(env["PGPASSWORD"]["valueFrom"]["secretKeyRef"] ==
        json{{"name", "sot-postgres-credentials"}, {"key", "POSTGRES_PASSWORD"}});
  CHECK(env["PGUSER"]["valueFrom"]["secretKeyRef"]["key"] == "POSTGRES_USER");
  CHECK(env["PGDATABASE"]["valueFrom"]["secretKeyRef"]["key"] == "POSTGRES_DB");
  CHECK(env["RETENTION_DAYS"]["value"] == "7");
  CHECK(env["KEEP"]["value"] == "5");

  const json& redis = container_named(spec, "redis-snapshot");
  CHECK(redis["image"] == "redis:7.2");
  CHECK(redis["command"] == json::array({"bash", "/scripts/backup.sh", "redis"}));
  auto renv = env_of(redis);
  CHECK(renv["REDIS_HOST"]["value"] == "sot-redis.apps.svc");
  CHECK(renv["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"] ==
        json{{"name", "sot-redis-credentials"}, {"key", "REDIS_PASSWORD"}});
  CHECK_FALSE(env.count("REDIS_PASSWORD"));  // each container gets only what it uses
}

TEST_CASE("an external database: DATABASE_URL from its secretRef, no PG* from a generated Secret") {
  auto r = make_resource(
      {{"environment", "production"}, {"postgres", {{"external", {{"secretRef", {{"name", "db"}, {"key", "url"}}}}}}}});
  auto env = env_of(container_named(backup_pod_template(r, "schedule")["spec"], "backup"));
  CHECK(env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == json{{"name", "db"}, {"key", "url"}});
  CHECK_FALSE(env.count("PGPASSWORD"));
  CHECK_FALSE(env.count("PGHOST"));
}

TEST_CASE("the PVC: size and class from spec.backup.storage; an ownerReference only with deletionPolicy Delete") {
  auto keep = make_resource(
      {{"environment", "production"}, {"backup", {{"storage", {{"size", "5Gi"}, {"storageClassName", "fast"}}}}}});
  const json pvc = build_backup_pvc(keep);
  CHECK(pvc["metadata"]["name"] == "sot-backups");
  CHECK(pvc["spec"]["resources"]["requests"]["storage"] == "5Gi");
  CHECK(pvc["spec"]["storageClassName"] == "fast");
  CHECK_FALSE(pvc["metadata"].contains("ownerReferences"));
  CHECK(pvc["metadata"]["annotations"]["stillontime.app/deletion-policy"] == "Retain");
  auto del = make_resource({{"environment", "production"}, {"deletionPolicy", "Delete"}});
  CHECK(build_backup_pvc(del)["metadata"]["ownerReferences"].size() == 1);
}

TEST_CASE("the ConfigMap carries scripts/backup/*.sh byte for byte") {
  auto r = make_resource({{"environment", "production"}});
  const json cm = build_backup_scripts_configmap(r);
  CHECK(cm["metadata"]["name"] == "sot-backup-scripts");
  CHECK(cm["data"]["backup.sh"] == sot::stillontime::test::read_file(STILLONTIME_SCRIPTS_DIR "/backup.sh"));
  CHECK(cm["data"]["restore.sh"] == sot::stillontime::test::read_file(STILLONTIME_SCRIPTS_DIR "/restore.sh"));
  CHECK(cm["data"]["env.sh"] == sot::stillontime::test::read_file(STILLONTIME_SCRIPTS_DIR "/env.sh"));
  CHECK(cm["data"].size() == 3);
}

TEST_CASE("on-demand backup, restore and bootstrap Jobs") {
  auto r = make_resource({{"environment", "production"}, {"postgres", {{"bootstrap", {{"fromBackup", "latest"}}}}}});
  const json req = build_backup_request_job(r, "before-upgrade");
  CHECK(req["apiVersion"] == "batch/v1");
  CHECK(req["metadata"]["name"] == backup_request_job_name(r, "before-upgrade"));
  CHECK(req["metadata"]["name"].get<std::string>().size() == std::string("sot-backup-").size() + 10);
  CHECK(backup_request_job_name(r, "a") != backup_request_job_name(r, "b"));
  CHECK(req["metadata"]["annotations"][kBackupRequestAnnotation] == "before-upgrade");
  CHECK(req["metadata"]["labels"][kTriggerLabel] == "request");
  CHECK(req["metadata"]["ownerReferences"].size() == 1);
  // The same pod as the scheduled runs, apart from the trigger label.
  json a = req["spec"]["template"];
  json b = backup_pod_template(r, "request");
  CHECK(a == b);

  const json restore = build_restore_job(r, "r1", "stillontime-20240101T020000Z.dump");
  CHECK(restore["metadata"]["name"] == restore_job_name(r, "r1"));
  CHECK(restore["spec"]["backoffLimit"] == 0);
  const json& rc = restore["spec"]["template"]["spec"]["containers"][0];
  CHECK(rc["command"] == json::array({"bash", "/scripts/restore.sh", "stillontime-20240101T020000Z.dump"}));
  CHECK(env_of(rc)["RESTORE_MODE"]["value"] == "restore");
  check_restricted(restore["spec"]["template"]["spec"]);
  CHECK(restore["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "backup");

  const json boot = build_bootstrap_job(r);
  CHECK(boot["metadata"]["name"] == "sot-bootstrap");
  CHECK(env_of(boot["spec"]["template"]["spec"]["containers"][0])["RESTORE_MODE"]["value"] == "bootstrap");
}

TEST_CASE("the backup NetworkPolicy lets backup pods reach Postgres 5432, Redis 6379 and DNS only") {
  auto r = make_resource({{"environment", "production"}});
  json backup_policy;
  json dns_policy;
  for (const auto& p : build_network_policies(r)) {
    if (p["metadata"]["name"] == "sot-backup") backup_policy = p;
    if (p["metadata"]["name"] == "sot-allow-dns") dns_policy = p;
  }
  REQUIRE(backup_policy.is_object());
  const json& spec = backup_policy["spec"];
  CHECK(spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "backup");
  CHECK(spec["policyTypes"] == json::array({"Egress"}));
  std::set<int> ports;
  for (const auto& rule : spec["egress"]) {
    REQUIRE(rule.contains("to"));  // no rule open to anywhere
    for (const auto& p : rule["ports"]) ports.insert(p["port"].get<int>());
  }
  CHECK(ports == std::set<int>{5432, 6379});
  // DNS comes from the instance-wide policy; nothing else is open (default deny).
  for (const auto& rule : dns_policy["spec"]["egress"]) {
    for (const auto& p : rule["ports"]) CHECK(p["port"] == 53);
  }
}
