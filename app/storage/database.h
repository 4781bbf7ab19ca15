// Why: the application talks to PostgreSQL only through this interface (parameterised SQL in,
// text rows out), so handlers never see libpq and tests can count or fail queries.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace sot::db {

using Param = std::optional<std::string>;  // nullopt is SQL NULL
using Params = std::vector<Param>;

struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  long affected = 0;

  bool empty() const { return rows.empty(); }
  std::size_t size() const { return rows.size(); }
  int column(std::string_view name) const;
  // Text of a column; empty string for NULL.
  std::string get(std::size_t row, std::string_view name) const;
  bool is_null(std::size_t row, std::string_view name) const;
};

class Session {
 public:
  virtual ~Session() = default;
  [[nodiscard]] virtual Result<Rows> exec(std::string_view sql, const Params& params = {}) = 0;
  // Several statements, no parameters (migrations).
  [[nodiscard]] virtual Status exec_script(std::string_view sql) = 0;
};

class Database {
 public:
  virtual ~Database() = default;
  // One statement on any pooled connection (autocommit).
  [[nodiscard]] virtual Result<Rows> exec(std::string_view sql, const Params& params = {}) = 0;
  // Runs body inside BEGIN/COMMIT on one connection; an error from body rolls back.
  [[nodiscard]] virtual Status transaction(const std::function<Status(Session&)>& body) = 0;
  // Runs body on one dedicated connection without a transaction (advisory locks live on a session).
  [[nodiscard]] virtual Status with_session(const std::function<Status(Session&)>& body) = 0;
};

}  // namespace sot::db
