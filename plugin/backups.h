// `backups` and `restore`'s check: what dumps the backup volume holds. Only a
// pod can look into a volume, so the plugin starts a short-lived one from the
// operator's own backup pod template (same image, same restricted security
// context, the N-backups claim mounted read-only), without the credentials or
// the init container, and with a command that writes the list to its
// termination message. The API server reports that message in the pod's
// status, so the list arrives without logs or exec. Pure functions here; the
// command (commands.cpp) creates, waits for and deletes the pod.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/result.h"
#include "stillontime/spec.h"

namespace sot::plugin {

inline constexpr const char* kListComponent = "backup-list";
// A termination message holds 4096 bytes; this many lines always fit.
inline constexpr int kListedDumpsMax = 60;

// The listing pod for a defaulted, valid resource (generateName N-backup-list-).
nlohmann::json backup_list_pod(const stillontime::StillOnTime& resource);

struct BackupFile {
  std::string name;
  std::int64_t size = 0;      // bytes
  std::int64_t modified = 0;  // seconds since the epoch
  bool operator==(const BackupFile&) const = default;
};

struct BackupListing {
  std::vector<BackupFile> files;  // newest first
  std::int64_t total = 0;         // dumps in the volume (files may hold fewer)
};

// Reads what the pod wrote: "total N" and then "<mtime> <size> <name>" lines.
// Lines that are not of that form (a hostile file name) are skipped.
kube::Result<BackupListing> parse_backup_listing(std::string_view message);

// The dump `from` ("latest" or a file name) names in `listing`, or an Error
// saying what is there instead.
kube::Result<BackupFile> find_backup(const BackupListing& listing, const std::string& from);

// "12.3 MiB", "512 B".
std::string human_size(std::int64_t bytes);

}  // namespace sot::plugin
