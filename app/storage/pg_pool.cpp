// Why: the libpq adapter. Everything libpq reports is turned into Error values here; messages
// carry PostgreSQL's text but never the connection string (it may hold the password).
#include "storage/pg_pool.h"

#include <condition_variable>
#include <deque>
#include <mutex>

#include <libpq-fe.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "core/log.h"

namespace sot::db {

int Rows::column(std::string_view name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::string Rows::get(std::size_t row, std::string_view name) const {
  const int c = column(name);
  if (c < 0 || row >= rows.size()) return {};
  const auto& v = rows[row][static_cast<std::size_t>(c)];
  return v ? *v : std::string();
}

bool Rows::is_null(std::size_t row, std::string_view name) const {
  const int c = column(name);
  if (c < 0 || row >= rows.size()) return true;
  return !rows[row][static_cast<std::size_t>(c)].has_value();
}

namespace {

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;

struct Metrics {
  prometheus::Gauge* open = nullptr;
  prometheus::Gauge* in_use = nullptr;
  prometheus::Gauge* max = nullptr;
  prometheus::Counter* ok = nullptr;
  prometheus::Counter* failed = nullptr;
  prometheus::Counter* acquire_timeouts = nullptr;
  prometheus::Counter* connect_errors = nullptr;
  prometheus::Histogram* duration = nullptr;
  prometheus::Histogram* acquire = nullptr;
};

ErrorCode code_for_sqlstate(const char* state) {
  if (state == nullptr) return ErrorCode::kUnavailable;
  const std::string s(state);
  if (s == "23505") return ErrorCode::kConflict;  // unique_violation
  if (s == "23503" || s == "23514" || s == "22P02" || s == "22007" || s == "22008" || s == "23502" || s == "22021" ||
      s == "22P05" || s == "22001") {
    // FK, check, bad text representation, datetime errors, not-null, bad UTF-8, \u0000 in jsonb,
    // value too long. Handlers validate first; this is the backstop.
    return ErrorCode::kInvalid;
  }
  if (s.rfind("08", 0) == 0 || s.rfind("57P", 0) == 0 || s == "53300") return ErrorCode::kUnavailable;
  if (s == "57014") return ErrorCode::kUnavailable;  // statement timeout
  return ErrorCode::kInternal;
}

std::string first_line(const char* text) {
  std::string s = text ? text : "";
  const auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

class Pool;

class PooledSession final : public Session {
 public:
  PooledSession(PGconn* conn, Pool& pool) : conn_(conn), pool_(pool) {}
  Result<Rows> exec(std::string_view sql, const Params& params) override;
  Status exec_script(std::string_view sql) override;
  bool broken() const { return broken_; }

 private:
  PGconn* conn_;
  Pool& pool_;
  bool broken_ = false;
};

class Pool final : public PgPool {
 public:
  Pool(const PoolOptions& options, prometheus::Registry* registry) : options_(options) {
    if (registry != nullptr) {
      auto& conns = prometheus::BuildGauge()
                        .Name("db_pool_connections")
                        .Help("Database pool connections by state")
                        .Register(*registry);
      metrics_.open = &conns.Add({{"state", "open"}});
      metrics_.in_use = &conns.Add({{"state", "in_use"}});
      metrics_.max = &prometheus::BuildGauge()
                          .Name("db_pool_max_connections")
                          .Help("Configured pool size")
                          .Register(*registry)
                          .Add({});
      metrics_.max->Set(options_.max_size);
      auto& queries =
          prometheus::BuildCounter().Name("db_queries_total").Help("Database statements by result").Register(*registry);
      metrics_.ok = &queries.Add({{"result", "success"}});
      metrics_.failed = &queries.Add({{"result", "error"}});
      metrics_.acquire_timeouts = &prometheus::BuildCounter()
                                       .Name("db_pool_acquire_timeouts_total")
                                       .Help("Checkouts that timed out")
                                       .Register(*registry)
                                       .Add({});
      metrics_.connect_errors = &prometheus::BuildCounter()
                                     .Name("db_connection_errors_total")
                                     .Help("Failed connection attempts")
                                     .Register(*registry)
                                     .Add({});
      metrics_.duration =
          &prometheus::BuildHistogram()
               .Name("db_query_duration_seconds")
               .Help("Statement latency")
               .Register(*registry)
               .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                                0.25, 0.5, 1, 2.5, 5});
      metrics_.acquire = &prometheus::BuildHistogram()
                              .Name("db_pool_acquire_duration_seconds")
                              .Help("Time waiting for a pooled connection")
                              .Register(*registry)
                              .Add({}, prometheus::Histogram::BucketBoundaries{0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05,
                                                                               0.1, 0.5, 1, 3});
    }
  }

  ~Pool() override {
    std::lock_guard<std::mutex> lock(mutex_);
    idle_.clear();
  }

  Result<Rows> exec(std::string_view sql, const Params& params) override {
    Result<Rows> result = make_error(ErrorCode::kInternal, "not run");
    Status status = with_session([&](Session& s) -> Status {
      result = s.exec(sql, params);
      return ok_status();
    });
    if (!status) return status.error();
    return result;
  }

  Status transaction(const std::function<Status(Session&)>& body) override {
    return with_session([&](Session& s) -> Status {
      auto begin = s.exec("BEGIN", {});
      if (!begin) return begin.error();
      Status status = body(s);
      if (!status) {
        (void)s.exec("ROLLBACK", {});
        return status;
      }
      auto commit = s.exec("COMMIT", {});
      if (!commit) return commit.error();
      return ok_status();
    });
  }

  Status with_session(const std::function<Status(Session&)>& body) override {
    auto conn = acquire();
    if (!conn) return conn.error();
    PooledSession session(conn->get(), *this);
    Status status = body(session);
    // A connection left inside a transaction (body returned early) is not safe to reuse.
    const bool reusable =
        !session.broken() && PQstatus(conn->get()) == CONNECTION_OK && PQtransactionStatus(conn->get()) == PQTRANS_IDLE;
    release(std::move(conn).value(), reusable);
    return status;
  }

  PoolStats stats() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return PoolStats{open_, open_ - static_cast<int>(idle_.size()), options_.max_size};
  }

  void record(bool ok, double seconds) {
    if (metrics_.duration == nullptr) return;
    (ok ? metrics_.ok : metrics_.failed)->Increment();
    metrics_.duration->Observe(seconds);
  }

 private:
  Result<ConnPtr> acquire() {
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(mutex_);
    if (!cv_.wait_for(lock, options_.acquire_timeout, [this] { return !idle_.empty() || open_ < options_.max_size; })) {
      if (metrics_.acquire_timeouts) metrics_.acquire_timeouts->Increment();
      return make_error(ErrorCode::kUnavailable,
                        "database pool exhausted (all " + std::to_string(options_.max_size) + " connections busy)");
    }
    if (!idle_.empty()) {
      ConnPtr conn = std::move(idle_.front());
      idle_.pop_front();
      update_gauges_locked();
      observe_acquire(start);
      return conn;
    }
    ++open_;  // reserve the slot, connect without holding the lock
    update_gauges_locked();
    lock.unlock();
    auto conn = connect();
    if (!conn) {
      lock.lock();
      --open_;
      update_gauges_locked();
      cv_.notify_one();
      return conn.error();
    }
    observe_acquire(start);
    return conn;
  }

  void observe_acquire(std::chrono::steady_clock::time_point start) {
    if (metrics_.acquire) {
      metrics_.acquire->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }

  void release(ConnPtr conn, bool reusable) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (reusable) {
      idle_.push_front(std::move(conn));  // LIFO keeps a warm working set
    } else {
      --open_;
    }
    update_gauges_locked();
    cv_.notify_one();
  }

  void update_gauges_locked() {
    if (metrics_.open == nullptr) return;
    metrics_.open->Set(open_);
    metrics_.in_use->Set(open_ - static_cast<double>(idle_.size()));
  }

  Result<ConnPtr> connect() {
    const std::string timeout = std::to_string(options_.connect_timeout_seconds);
    const std::string statement_timeout = "-c statement_timeout=" + std::to_string(options_.statement_timeout_ms);
    const char* keys[] = {"dbname", "connect_timeout", "application_name", "options", nullptr};
    const char* values[] = {options_.url.c_str(), timeout.c_str(), "stillontime-server", statement_timeout.c_str(),
                            nullptr};
    ConnPtr conn(PQconnectdbParams(keys, values, 1));
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
      if (metrics_.connect_errors) metrics_.connect_errors->Increment();
      const std::string why = conn ? first_line(PQerrorMessage(conn.get())) : "out of memory";
      return make_error(ErrorCode::kUnavailable, "database unavailable: " + why);
    }
    return conn;
  }

  PoolOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<ConnPtr> idle_;
  int open_ = 0;
  Metrics metrics_;
};

Result<Rows> PooledSession::exec(std::string_view sql, const Params& params) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
  const std::string statement(sql);
  PGresult* raw = PQexecParams(conn_, statement.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0);
  std::unique_ptr<PGresult, void (*)(PGresult*)> res(raw, PQclear);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    pool_.record(false, seconds);
    if (PQstatus(conn_) != CONNECTION_OK) {
      broken_ = true;
      return make_error(ErrorCode::kUnavailable, "database unavailable: " + first_line(PQerrorMessage(conn_)));
    }
    const char* state = res ? PQresultErrorField(res.get(), PG_DIAG_SQLSTATE) : nullptr;
    const std::string message = res ? first_line(PQresultErrorMessage(res.get())) : first_line(PQerrorMessage(conn_));
    const ErrorCode code = code_for_sqlstate(state);
    // PostgreSQL's own words (constraint, table and column names, the offending value) stay in
    // the log; callers, and through them clients, get a sentence that names no schema object.
    if (code == ErrorCode::kInvalid || code == ErrorCode::kConflict) {
      log::warn("database refused a statement", {{"sqlstate", state ? state : ""}, {"error", message}});
      return make_error(code, code == ErrorCode::kConflict ? "the change conflicts with stored data"
                                                           : "a value was refused by the database");
    }
    return make_error(code, message);
  }
  pool_.record(true, seconds);
  Rows rows;
  const int ncols = PQnfields(res.get());
  const int nrows = PQntuples(res.get());
  rows.columns.reserve(static_cast<std::size_t>(ncols));
  for (int c = 0; c < ncols; ++c) rows.columns.emplace_back(PQfname(res.get(), c));
  rows.rows.reserve(static_cast<std::size_t>(nrows));
  for (int r = 0; r < nrows; ++r) {
    std::vector<std::optional<std::string>> row;
    row.reserve(static_cast<std::size_t>(ncols));
    for (int c = 0; c < ncols; ++c) {
      if (PQgetisnull(res.get(), r, c))
        row.emplace_back(std::nullopt);
      else
        row.emplace_back(
            std::string(PQgetvalue(res.get(), r, c), static_cast<std::size_t>(PQgetlength(res.get(), r, c))));
    }
    rows.rows.push_back(std::move(row));
  }
  const char* affected = PQcmdTuples(res.get());
  if (affected && *affected) rows.affected = std::strtol(affected, nullptr, 10);
  return rows;
}

Status PooledSession::exec_script(std::string_view sql) {
  const std::string script(sql);
  std::unique_ptr<PGresult, void (*)(PGresult*)> res(PQexec(conn_, script.c_str()), PQclear);
  const auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) return ok_status();
  if (PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    return make_error(ErrorCode::kUnavailable, "database unavailable: " + first_line(PQerrorMessage(conn_)));
  }
  return make_error(ErrorCode::kInternal, res ? first_line(PQresultErrorMessage(res.get())) : "script failed");
}

}  // namespace

std::unique_ptr<PgPool> make_pg_pool(const PoolOptions& options, prometheus::Registry* metrics) {
  return std::make_unique<Pool>(options, metrics);
}

}  // namespace sot::db
