// Backup and restore children (builders/backup.cpp). Pure functions of the
// defaulted resource, like every builder.
//
// One pod template serves every backup run (the CronJob's jobTemplate and each
// on-demand Job), so an on-demand backup is exactly a scheduled one:
//   init container "redis-snapshot" (the Redis image: it has redis-cli and bash)
//     runs `backup.sh redis`: a Redis RDB snapshot into /backups/.staging;
//   container "backup" (the Postgres image: pg_dump/pg_restore of the server's
//     major version) runs `backup.sh`: pg_dump -Fc, verify, atomic rename to
//     stillontime-YYYYmmddTHHMMSSZ.dump, the Redis snapshot renamed beside it,
//     prune; the file name goes to the termination message, where the operator
//     reads it for status.backup.lastBackup.
// Volumes: /scripts (ConfigMap N-backup-scripts, read-only: backup.sh,
// restore.sh and env.sh, the environment handling both source), /backups (PVC
// N-backups), /tmp (emptyDir; the root filesystem is read-only).
// Credentials reach the scripts only as environment variables from Secrets.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stillontime/context.h"
#include "stillontime/spec.h"

namespace sot::stillontime {

// Labels and annotations of backup, restore and bootstrap Jobs.
inline constexpr const char* kTaskLabel = "stillontime.app/task";        // backup | restore | bootstrap
inline constexpr const char* kTriggerLabel = "stillontime.app/trigger";  // schedule | request
inline constexpr const char* kBackupRequestAnnotation = "stillontime.app/backup-request";  // on the CR and the Job
inline constexpr const char* kRestoreIdAnnotation = "stillontime.app/restore-id";
inline constexpr const char* kRestoreFromAnnotation = "stillontime.app/restore-from";
inline constexpr const char* kTaskBackup = "backup";
inline constexpr const char* kTaskRestore = "restore";
inline constexpr const char* kTaskBootstrap = "bootstrap";

inline constexpr const char* kBackupMountPath = "/backups";
inline constexpr const char* kScriptsMountPath = "/scripts";
inline constexpr int kBackupUid = 999;  // postgres and redis in the Debian images
// How long a scheduled run may start late, and how long any run may take.
inline constexpr int kBackupStartingDeadlineSeconds = 600;
inline constexpr int kBackupActiveDeadlineSeconds = 3600;
inline constexpr int kRestoreActiveDeadlineSeconds = 7200;

std::string backup_cronjob_name(const StillOnTime& r);            // N-backup
std::string backup_pvc_name(const StillOnTime& r);                // N-backups
std::string backup_scripts_configmap_name(const StillOnTime& r);  // N-backup-scripts
// N-backup-<10 hex of sha256(id)>: stable per id, valid whatever the id holds.
std::string backup_request_job_name(const StillOnTime& r, const std::string& id);
std::string restore_job_name(const StillOnTime& r, const std::string& id);  // N-restore-<hash>
std::string bootstrap_job_name(const StillOnTime& r);                       // N-bootstrap

// True when the backup PVC and the scripts are needed (backups enabled, a
// restore or a bootstrap asked for).
bool backup_storage_wanted(const StillOnTime& r);

nlohmann::json build_backup_scripts_configmap(const StillOnTime& r);
nlohmann::json build_backup_pvc(const StillOnTime& r);
nlohmann::json build_backup_cronjob(const StillOnTime& r, const BuildContext& ctx);
// The pod template every backup run uses (`trigger`: schedule | request).
nlohmann::json backup_pod_template(const StillOnTime& r, const char* trigger);
// An on-demand backup for `id` (the stillontime.app/backup-request annotation).
nlohmann::json build_backup_request_job(const StillOnTime& r, const std::string& id);
// Restore `from` (file name or "latest") for spec.restore.id.
nlohmann::json build_restore_job(const StillOnTime& r, const std::string& id, const std::string& from);
// Loads spec.postgres.bootstrap.fromBackup into an empty database.
nlohmann::json build_bootstrap_job(const StillOnTime& r);

}  // namespace sot::stillontime
