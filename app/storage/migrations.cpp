// Why: see migrations.h. Each migration runs in its own transaction together with its row in
// schema_migrations; an applied migration whose text changed stops start-up (never silently
// diverge from the schema the code expects).
#include "storage/migrations.h"

#include <algorithm>
#include <map>

#include "common/digest.h"
#include "core/log.h"

namespace sot::db {
namespace {
// Arbitrary but fixed: "SOT" + "MIGR" as a bigint key for pg_advisory_lock.
constexpr const char* kLockKey = "5459358110474815826";
}  // namespace

int latest_version(const std::vector<Migration>& migrations) {
  int v = 0;
  for (const auto& m : migrations) v = std::max(v, m.version);
  return v;
}

Result<int> applied_version(Database& db) {
  // Two statements: PostgreSQL resolves table names at parse time, even in an untaken CASE branch.
  auto exists = db.exec("SELECT to_regclass('public.schema_migrations') IS NOT NULL AS present");
  if (!exists) return exists.error();
  if (exists->get(0, "present") != "t") return 0;
  auto rows = db.exec("SELECT coalesce(max(version), 0) AS v FROM schema_migrations");
  if (!rows) return rows.error();
  return std::stoi(rows->get(0, "v"));
}

Result<MigrationReport> migrate(Database& db, const std::vector<Migration>& migrations) {
  MigrationReport report;
  Status status = db.with_session([&](Session& s) -> Status {
    auto lock = s.exec(std::string("SELECT pg_advisory_lock(") + kLockKey + ")");
    if (!lock) return lock.error();
    auto run = [&]() -> Status {
      Status created = s.exec_script(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version integer PRIMARY KEY,"
          " name text NOT NULL,"
          " checksum text NOT NULL,"
          " applied_at timestamptz NOT NULL DEFAULT now())");
      if (!created) return created;
      auto rows = s.exec("SELECT version, checksum FROM schema_migrations");
      if (!rows) return rows.error();
      std::map<int, std::string> applied;
      for (std::size_t i = 0; i < rows->size(); ++i)
        applied[std::stoi(rows->get(i, "version"))] = rows->get(i, "checksum");
      for (const auto& m : migrations) {
        const std::string checksum = common::sha256_hex(m.sql);
        if (auto it = applied.find(m.version); it != applied.end()) {
          if (it->second != checksum) {
            return make_error(ErrorCode::kInternal, "migration " + std::to_string(m.version) + " (" + m.name +
                                                        ") was changed after it was applied");
          }
          continue;
        }
        Status begin = s.exec_script("BEGIN");
        if (!begin) return begin;
        Status applied_ok = s.exec_script(m.sql);
        if (applied_ok) {
          auto row = s.exec("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                            {std::to_string(m.version), m.name, checksum});
          if (!row) applied_ok = row.error();
        }
        if (!applied_ok) {
          (void)s.exec_script("ROLLBACK");
          return make_error(applied_ok.error().code, "migration " + std::to_string(m.version) + " (" + m.name +
                                                         ") failed: " + applied_ok.error().message);
        }
        Status commit = s.exec_script("COMMIT");
        if (!commit) return commit;
        report.applied.push_back(m.version);
        log::info("migration applied", {{"version", m.version}, {"name", m.name}});
      }
      return ok_status();
    };
    Status result = run();
    auto unlock = s.exec(std::string("SELECT pg_advisory_unlock(") + kLockKey + ")");
    if (result && !unlock) return unlock.error();
    return result;
  });
  if (!status) return status.error();
  auto current = applied_version(db);
  if (!current) return current.error();
  report.current = *current;
  return report;
}

}  // namespace sot::db
