// Why: the SQL of day summaries: the latest one rendered for a schedule is kept (text, HTML,
// timeline, warnings), for the schedule's owner only.
#pragma once

#include <string>

#include "domain/summary.h"
#include "storage/database.h"

namespace sot::db {

class SummaryRepository {
 public:
  explicit SummaryRepository(Database& db) : db_(db) {}

  // Stores or replaces the schedule's summary; false (nothing stored): the schedule is not the user's.
  [[nodiscard]] Result<bool> save(const std::string& user_id, const std::string& schedule_id,
                                  const domain::DaySummary& summary);

 private:
  Database& db_;
};

}  // namespace sot::db
