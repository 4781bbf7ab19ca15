// Backup and restore children (see backup.h for the pod layout). The scripts
// themselves are scripts/backup/*.sh, embedded at build time
// (embed_backup_scripts.cmake) and rendered into the ConfigMap N-backup-scripts.
#include "stillontime/builders/backup.h"

#include "common/digest.h"
#include "stillontime/backup_scripts.h"
#include "stillontime/builders/builders.h"

namespace sot::stillontime {

namespace {

json secret_env(const char* name, const std::string& secret, const std::string& key) {
  return {{"name", name}, {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}};
}

json plain_env(const char* name, const std::string& value) {
  return {{"name", name}, {"value", value}};
}

json mount(const char* name, const char* path, bool read_only = false) {
  json m = {{"name", name}, {"mountPath", path}};
  if (read_only) m["readOnly"] = true;
  return m;
}

std::string service_host(const StillOnTime& r, const char* component) {
  return child_name(r, component) + "." + r.target_namespace() + ".svc";
}

// PG* from the generated Secret, or DATABASE_URL from the external database's secretRef.
json postgres_env(const StillOnTime& r) {
  json env =
      json::array({plain_env("BACKUP_DIR", kBackupMountPath), plain_env("TMPDIR", "/tmp"), plain_env("HOME", "/tmp")});
  if (r.spec.postgres.external) {
    env.push_back(secret_env("DATABASE_URL", r.spec.postgres.external->name, r.spec.postgres.external->key));
  } else {
    const std::string secret = postgres_secret_name(r);
    env.push_back(plain_env("PGHOST", service_host(r, kPostgres)));
    env.push_back(plain_env("PGPORT", std::to_string(kPostgresPort)));
    env.push_back(secret_env("PGUSER", secret, "POSTGRES_USER"));
    env.push_back(secret_env("PGPASSWORD", secret, "POSTGRES_PASSWORD"));
    env.push_back(secret_env("PGDATABASE", secret, "POSTGRES_DB"));
  }
  return env;
}

json resources() {
  return {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}}, {"limits", {{"memory", "1Gi"}}}};
}

json container(const std::string& name, const std::string& image, json command, json env) {
  return {{"name", name},
          {"image", image},
          {"imagePullPolicy", "IfNotPresent"},
          {"command", std::move(command)},
          {"env", std::move(env)},
          {"resources", resources()},
          {"securityContext", restricted_container_security_context()},
          // The script writes the file name here; on failure the log tail is the message.
          {"terminationMessagePath", "/dev/termination-log"},
          {"terminationMessagePolicy", "FallbackToLogsOnError"},
          {"volumeMounts", json::array({mount("scripts", kScriptsMountPath, true), mount("backups", kBackupMountPath),
                                        mount("tmp", "/tmp")})}};
}

json pod_spec(const StillOnTime& r, json init_containers, json containers) {
  json spec = {
      {"restartPolicy", "Never"},
      {"serviceAccountName", service_account_name(r)},
      {"automountServiceAccountToken", false},
      {"securityContext", restricted_pod_security_context(kBackupUid)},
      {"containers", std::move(containers)},
      {"volumes", json::array({{{"name", "scripts"},
                                {"configMap", {{"name", backup_scripts_configmap_name(r)}, {"defaultMode", 0555}}}},
                               {{"name", "backups"}, {"persistentVolumeClaim", {{"claimName", backup_pvc_name(r)}}}},
                               {{"name", "tmp"}, {"emptyDir", json::object()}}})}};
  if (!init_containers.empty()) spec["initContainers"] = std::move(init_containers);
  return spec;
}

json task_labels(const StillOnTime& r, const char* task, const char* trigger) {
  json l = labels(r, kBackup);
  l[kTaskLabel] = task;
  if (trigger != nullptr) l[kTriggerLabel] = trigger;
  return l;
}

std::string short_hash(const std::string& id) {
  return common::sha256_hex(id).substr(0, 10);
}

json job(const StillOnTime& r, const std::string& name, json labels_, json annotations, json pod_template, int backoff,
         int deadline) {
  json meta = object_meta(r, name, kBackup);
  meta["labels"] = std::move(labels_);
  if (!annotations.empty()) meta["annotations"] = std::move(annotations);
  return {{"apiVersion", "batch/v1"},
          {"kind", "Job"},
          {"metadata", std::move(meta)},
          {"spec",
           {{"backoffLimit", backoff}, {"activeDeadlineSeconds", deadline}, {"template", std::move(pod_template)}}}};
}

json restore_pod_template(const StillOnTime& r, const char* task, const std::string& from, const char* mode) {
  json env = postgres_env(r);
  env.push_back(plain_env("RESTORE_MODE", mode));
  json c = container(task, *r.spec.postgres.image,
                     json::array({"bash", std::string(kScriptsMountPath) + "/restore.sh", from}), std::move(env));
  return {{"metadata", {{"labels", task_labels(r, task, nullptr)}}},
          {"spec", pod_spec(r, json::array(), json::array({std::move(c)}))}};
}

}  // namespace

std::string backup_cronjob_name(const StillOnTime& r) {
  return child_name(r, kBackup);
}
std::string backup_pvc_name(const StillOnTime& r) {
  return child_name(r, "backups");
}
std::string backup_scripts_configmap_name(const StillOnTime& r) {
  return child_name(r, "backup-scripts");
}
std::string backup_request_job_name(const StillOnTime& r, const std::string& id) {
  return child_name(r, "backup-" + short_hash(id));
}
std::string restore_job_name(const StillOnTime& r, const std::string& id) {
  return child_name(r, "restore-" + short_hash(id));
}
std::string bootstrap_job_name(const StillOnTime& r) {
  return child_name(r, "bootstrap");
}

bool backup_storage_wanted(const StillOnTime& r) {
  return r.spec.backup.enabled.value_or(false) || r.spec.restore.id.has_value() ||
         r.spec.postgres.bootstrap.from_backup.has_value();
}

json build_backup_scripts_configmap(const StillOnTime& r) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", object_meta(r, backup_scripts_configmap_name(r), kBackup)},
          {"data",
           {{"backup.sh", std::string(kBackupScript)},
            {"restore.sh", std::string(kRestoreScript)},
            {"env.sh", std::string(kBackupEnvScript)}}}};
}

json build_backup_pvc(const StillOnTime& r) {
  const auto& st = r.spec.backup.storage;
  json meta = object_meta(r, backup_pvc_name(r), kBackup);
  // Retain: the dumps outlive the resource (no ownerReference, the finalizer skips PVCs).
  if (*r.spec.deletion_policy == DeletionPolicy::kRetain) meta.erase("ownerReferences");
  meta["annotations"][kDeletionPolicyAnnotation] = deletion_policy_name(*r.spec.deletion_policy);
  json spec = {{"accessModes", json::array({"ReadWriteOnce"})},
               {"volumeMode", "Filesystem"},
               {"resources", {{"requests", {{"storage", st.size.value_or("100Gi")}}}}}};
  if (st.storage_class_name) spec["storageClassName"] = *st.storage_class_name;
  return {{"apiVersion", "v1"},
          {"kind", "PersistentVolumeClaim"},
          {"metadata", std::move(meta)},
          {"spec", std::move(spec)}};
}

json backup_pod_template(const StillOnTime& r, const char* trigger) {
  const std::string script = std::string(kScriptsMountPath) + "/backup.sh";
  json redis_env = json::array({plain_env("BACKUP_DIR", kBackupMountPath), plain_env("TMPDIR", "/tmp"),
                                plain_env("HOME", "/tmp"), plain_env("REDIS_HOST", service_host(r, kRedis)),
                                plain_env("REDIS_PORT", std::to_string(kRedisPort)),
                                secret_env("REDIS_PASSWORD", redis_secret_name(r), "REDIS_PASSWORD")});
  json env = postgres_env(r);
  env.push_back(plain_env("RETENTION_DAYS", std::to_string(r.spec.backup.retention_days.value_or(30))));
  env.push_back(plain_env("KEEP", std::to_string(r.spec.backup.keep.value_or(0))));
  json init = json::array(
      {container("redis-snapshot", *r.spec.redis.image, json::array({"bash", script, "redis"}), std::move(redis_env))});
  json main = json::array({container("backup", *r.spec.postgres.image, json::array({"bash", script}), std::move(env))});
  return {{"metadata", {{"labels", task_labels(r, kTaskBackup, trigger)}}},
          {"spec", pod_spec(r, std::move(init), std::move(main))}};
}

json build_backup_cronjob(const StillOnTime& r, const BuildContext& ctx) {
  const auto& b = r.spec.backup;
  json job_template = {{"metadata", {{"labels", task_labels(r, kTaskBackup, "schedule")}}},
                       {"spec",
                        {{"backoffLimit", 1},
                         {"activeDeadlineSeconds", kBackupActiveDeadlineSeconds},
                         {"template", backup_pod_template(r, "schedule")}}}};
  return {{"apiVersion", ctx.api.cronjob},
          {"kind", "CronJob"},
          {"metadata", object_meta(r, backup_cronjob_name(r), kBackup)},
          {"spec",
           {{"schedule", *b.schedule},
            {"suspend", b.suspend.value_or(false)},
            {"concurrencyPolicy", "Forbid"},
            {"startingDeadlineSeconds", kBackupStartingDeadlineSeconds},
            {"successfulJobsHistoryLimit", 3},
            {"failedJobsHistoryLimit", 3},
            {"jobTemplate", std::move(job_template)}}}};
}

json build_backup_request_job(const StillOnTime& r, const std::string& id) {
  return job(r, backup_request_job_name(r, id), task_labels(r, kTaskBackup, "request"),
             {{kBackupRequestAnnotation, id}}, backup_pod_template(r, "request"), 1, kBackupActiveDeadlineSeconds);
}

json build_restore_job(const StillOnTime& r, const std::string& id, const std::string& from) {
  // backoffLimit 0: a failed restore is reported, not retried behind the user's back.
  return job(r, restore_job_name(r, id), task_labels(r, kTaskRestore, nullptr),
             {{kRestoreIdAnnotation, id}, {kRestoreFromAnnotation, from}},
             restore_pod_template(r, kTaskRestore, from, "restore"), 0, kRestoreActiveDeadlineSeconds);
}

json build_bootstrap_job(const StillOnTime& r) {
  const std::string from = *r.spec.postgres.bootstrap.from_backup;
  // Retries while the new database starts; restore.sh loads only into an empty database.
  return job(r, bootstrap_job_name(r), task_labels(r, kTaskBootstrap, nullptr), {{kRestoreFromAnnotation, from}},
             restore_pod_template(r, kTaskBootstrap, from, "bootstrap"), 6, kRestoreActiveDeadlineSeconds);
}

std::vector<json> build_backup_objects(const StillOnTime& r, const BuildContext& ctx) {
  std::vector<json> out;
  if (!backup_storage_wanted(r)) return out;
  out.push_back(build_backup_scripts_configmap(r));
  out.push_back(build_backup_pvc(r));
  if (r.spec.backup.enabled.value_or(false)) out.push_back(build_backup_cronjob(r, ctx));
  return out;
}

}  // namespace sot::stillontime
