// Why: the schema is versioned SQL in app/migrations/, embedded into the binary at build time (the
// image has a read-only root filesystem and no separate migration job). Start-up applies what is
// missing under a PostgreSQL advisory lock, so replicas starting together migrate exactly once.
#pragma once

#include <string>
#include <vector>

#include "storage/database.h"

namespace sot::db {

struct Migration {
  int version = 0;
  std::string name;
  std::string sql;
};

// The migrations compiled into this binary, ordered by version.
const std::vector<Migration>& embedded_migrations();
int latest_version(const std::vector<Migration>& migrations);

struct MigrationReport {
  std::vector<int> applied;  // versions applied by this call
  int current = 0;
};

[[nodiscard]] Result<MigrationReport> migrate(Database& db, const std::vector<Migration>& migrations);

// The highest applied version, 0 when the table does not exist yet.
[[nodiscard]] Result<int> applied_version(Database& db);

}  // namespace sot::db
