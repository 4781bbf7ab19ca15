// Why: a bounded pool of libpq connections. Connections are opened lazily, checked out with a
// timeout (so a saturated pool answers 503 instead of queueing forever) and dropped when libpq
// reports them broken, which is how the server recovers after PostgreSQL comes back.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "storage/database.h"

namespace prometheus {
class Registry;
}

namespace sot::db {

struct PoolOptions {
  std::string url;
  int max_size = 10;
  int connect_timeout_seconds = 3;
  int statement_timeout_ms = 10000;
  std::chrono::milliseconds acquire_timeout{3000};
};

struct PoolStats {
  int open = 0;
  int in_use = 0;
  int max = 0;
};

class PgPool : public Database {
 public:
  virtual PoolStats stats() const = 0;
};

std::unique_ptr<PgPool> make_pg_pool(const PoolOptions& options, prometheus::Registry* metrics);

}  // namespace sot::db
