// Why: the SQL behind SummaryRepository.
#include "storage/summary_repository.h"

namespace sot::db {

Result<bool> SummaryRepository::save(const std::string& user_id, const std::string& schedule_id,
                                     const domain::DaySummary& summary) {
  auto rows = db_.exec(
      "INSERT INTO summaries (schedule_id, user_id, text, html, timeline, warnings) "
      "SELECT $1::uuid, $2::uuid, $3::text, $4::text, $5::jsonb, $6::jsonb "
      "WHERE EXISTS (SELECT 1 FROM schedules WHERE id = $1::uuid AND user_id = $2::uuid) "
      "ON CONFLICT (schedule_id) DO UPDATE SET text = EXCLUDED.text, html = EXCLUDED.html, timeline = "
      "EXCLUDED.timeline, "
      "warnings = EXCLUDED.warnings, created_at = now()",
      {schedule_id, user_id, summary.text, summary.html, summary.timeline.dump(),
       nlohmann::json(summary.warnings).dump()});
  if (!rows) return rows.error();
  return rows->affected > 0;
}

}  // namespace sot::db
