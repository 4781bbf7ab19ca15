// Why: the day summary (schedule, route plan and forecast as text, HTML or JSON), rendered by the
// domain and kept with the schedule.
#include "domain/summary.h"
#include "service/application.h"

namespace sot {

Result<http::Response> Application::summary_get(RequestContext& ctx) {
  auto day = load_day(ctx.user_id(), ctx.params["id"]);
  if (!day) return day.error();
  const auto summary = domain::render_summary(day->schedule, day->route, day->weather);
  auto saved = summaries_.save(ctx.user_id(), ctx.params["id"], summary);
  if (!saved) return saved.error();
  if (!*saved) return make_error(ErrorCode::kNotFound, "schedule not found");  // deleted meanwhile
  const std::string format = ctx.request.query("format").value_or("json");
  if (format == "text") return http::Response{200, {{"content-type", "text/plain; charset=utf-8"}}, summary.text};
  if (format == "html") return http::Response{200, {{"content-type", "text/html; charset=utf-8"}}, summary.html};
  if (format != "json") return make_error(ErrorCode::kInvalid, "format must be json, text or html");
  return json_response(200, {{"summary",
                              {{"text", summary.text},
                               {"html", summary.html},
                               {"timeline", summary.timeline},
                               {"warnings", summary.warnings}}}});
}

}  // namespace sot
