// Why: the storage repositories against the real PostgreSQL that scripts/services.sh starts (CTest
// fixture app_services), each suite on a fresh, migrated database: every function round-trips,
// finds nothing where there is nothing, and never lets one user read or change another's rows.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "domain/route_plan.h"
#include "domain/summary.h"
#include "storage/migrations.h"
#include "storage/route_repository.h"
#include "storage/schedule_repository.h"
#include "storage/summary_repository.h"
#include "storage/weather_repository.h"
#include "test_database.h"

using namespace sot;
using json = nlohmann::json;

namespace {

const std::string kNoSuchId = "00000000-0000-4000-8000-000000000000";

// A migrated database of its own and a way to make users in it.
struct Store {
  std::unique_ptr<db::PgPool> pool;

  explicit Store(const std::string& name) {
    pool = db::make_pg_pool(db::PoolOptions{fresh_database(services_env(), name), 2}, nullptr);
    auto migrated = db::migrate(*pool, db::embedded_migrations());
    REQUIRE_MESSAGE(migrated.ok(), (migrated.ok() ? "" : migrated.error().message));
  }
  std::string user(const std::string& email) {
    auto rows = pool->exec("INSERT INTO users (email) VALUES ($1) RETURNING id::text AS id", {email});
    REQUIRE(rows.ok());
    return rows->get(0, "id");
  }
  // One value read straight from the table, to see what a write left behind.
  std::string scalar(const std::string& sql, const db::Params& params) {
    auto rows = pool->exec(sql, params);
    REQUIRE_MESSAGE(rows.ok(), (rows.ok() ? "" : rows.error().message));
    REQUIRE(rows->size() == 1);
    return rows->get(0, rows->columns.at(0));
  }
};

json day(const std::string& date, const std::string& call, const std::string& location) {
  return {{"shootingDate", date}, {"callTime", call}, {"location", location}};
}

json full_day() {
  return {{"shootingDate", "2030-06-01"},
          {"callTime", "06:30"},
          {"title", "The Long Night"},
          {"location", "Old Brewery, Warsaw"},
          {"baseLocation", "Parking lot B"},
          {"sceneType", "EXT/NIGHT"},
          {"scenes", {"12", "14A"}},
          {"equipment", {"crane"}},
          {"contacts", {{{"name", "Anna"}, {"role", "1st AD"}, {"phone", "+48 600"}}}},
          {"safetyNotes", {"Life vests required"}},
          {"notes", "bring a torch"}};
}

std::string create(db::ScheduleRepository& schedules, const std::string& user, const json& schedule) {
  auto id = schedules.create(user, schedule);
  REQUIRE_MESSAGE(id.ok(), (id.ok() ? "" : id.error().message));
  return *id;
}

domain::RoutePlan plan_for(const std::string& date, int hour, int minute, int travel) {
  auto plan = domain::plan_route(domain::LocalDateTime::of(*domain::parse_iso_date(date), hour, minute),
                                 {{"Home St 1", "Set", travel, 12.5, "user"}}, domain::Buffers{});
  REQUIRE(plan.ok());
  return *plan;
}

json report(const std::string& description, std::vector<std::string> warnings) {
  return {{"forecastDate", "2030-06-01"}, {"temperature", 18.5}, {"description", description}, {"windSpeed", 3.0},
          {"precipitation", 0.0},         {"humidity", 60},      {"warnings", warnings}};
}

}  // namespace

TEST_SUITE("schedule_repository") {
  TEST_CASE("create and find round-trip every field, for the owner only") {
    Store store("repo_sched_find");
    db::ScheduleRepository schedules(*store.pool);
    const auto a = store.user("a@example.com");
    const auto b = store.user("b@example.com");
    const auto id = create(schedules, a, full_day());

    auto found = schedules.find(a, id);
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    const json& s = **found;
    CHECK(s["id"] == id);
    const json expected = full_day();
    for (auto it = expected.begin(); it != expected.end(); ++it) CHECK_MESSAGE(s[it.key()] == it.value(), it.key());
    CHECK(s["source"] == "manual");
    CHECK(s["createdAt"].get<std::string>().size() == 20);
    CHECK(s["createdAt"].get<std::string>().back() == 'Z');
    CHECK(s["updatedAt"] == s["createdAt"]);

    // Absent fields take the table's defaults.
    const auto bare = create(schedules, a, day("2030-06-02", "07:00", "Studio 3"));
    auto minimal = schedules.find(a, bare);
    REQUIRE(minimal.ok());
    REQUIRE(minimal->has_value());
    CHECK((**minimal)["title"] == "");
    CHECK((**minimal)["scenes"] == json::array());
    CHECK((**minimal)["contacts"] == json::array());

    auto other = schedules.find(b, id);
    REQUIRE(other.ok());
    CHECK_FALSE(other->has_value());
    auto missing = schedules.find(a, kNoSuchId);
    REQUIRE(missing.ok());
    CHECK_FALSE(missing->has_value());
  }

  TEST_CASE("create for a user who does not exist is an invalid write") {
    Store store("repo_sched_nouser");
    db::ScheduleRepository schedules(*store.pool);
    auto id = schedules.create(kNoSuchId, day("2030-06-01", "06:30", "Set"));
    REQUIRE_FALSE(id.ok());
    CHECK(id.error().code == ErrorCode::kInvalid);
    CHECK(store.scalar("SELECT count(*) FROM schedules", {}) == "0");
  }

  TEST_CASE("update changes the owner's schedule and nobody else's") {
    Store store("repo_sched_update");
    db::ScheduleRepository schedules(*store.pool);
    const auto a = store.user("a@example.com");
    const auto b = store.user("b@example.com");
    const auto id = create(schedules, a, full_day());

    json changed = full_day();
    changed["callTime"] = "05:15";
    changed["scenes"] = {"99"};
    changed["notes"] = "moved earlier";
    auto updated = schedules.update(a, id, changed);
    REQUIRE(updated.ok());
    CHECK(*updated);
    auto found = schedules.find(a, id);
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK((**found)["callTime"] == "05:15");
    CHECK((**found)["scenes"] == json{"99"});
    CHECK((**found)["notes"] == "moved earlier");
    CHECK((**found)["location"] == "Old Brewery, Warsaw");

    auto by_other = schedules.update(b, id, day("2031-01-01", "10:00", "Elsewhere"));
    REQUIRE(by_other.ok());
    CHECK_FALSE(*by_other);
    auto still = schedules.find(a, id);
    REQUIRE(still.ok());
    CHECK((**still)["location"] == "Old Brewery, Warsaw");
    CHECK((**still)["shootingDate"] == "2030-06-01");

    auto missing = schedules.update(a, kNoSuchId, changed);
    REQUIRE(missing.ok());
    CHECK_FALSE(*missing);
  }

  TEST_CASE("remove deletes the owner's schedule only, once") {
    Store store("repo_sched_remove");
    db::ScheduleRepository schedules(*store.pool);
    const auto a = store.user("a@example.com");
    const auto b = store.user("b@example.com");
    const auto id = create(schedules, a, full_day());

    auto by_other = schedules.remove(b, id);
    REQUIRE(by_other.ok());
    CHECK_FALSE(*by_other);
    auto kept = schedules.find(a, id);
    REQUIRE(kept.ok());
    CHECK(kept->has_value());

    auto removed = schedules.remove(a, id);
    REQUIRE(removed.ok());
    CHECK(*removed);
    auto gone = schedules.find(a, id);
    REQUIRE(gone.ok());
    CHECK_FALSE(gone->has_value());
    auto again = schedules.remove(a, id);
    REQUIRE(again.ok());
    CHECK_FALSE(*again);
  }

  TEST_CASE("list pages the user's schedules in shooting order within a date range") {
    Store store("repo_sched_list");
    db::ScheduleRepository schedules(*store.pool);
    const auto a = store.user("a@example.com");
    const auto b = store.user("b@example.com");
    const auto third = create(schedules, a, day("2030-06-03", "06:00", "Third"));
    const auto first = create(schedules, a, day("2030-06-01", "09:00", "First"));
    const auto second = create(schedules, a, day("2030-06-01", "10:00", "Second"));
    const auto fourth = create(schedules, a, day("2030-07-15", "06:00", "Fourth"));
    create(schedules, b, day("2030-06-02", "06:00", "Not A's"));

    auto all = schedules.list(a, {"", "", 20, 0});
    REQUIRE(all.ok());
    CHECK(all->total == 4);
    REQUIRE(all->schedules.size() == 4);
    const std::vector<std::string> order = {first, second, third, fourth};
    for (std::size_t i = 0; i < order.size(); ++i) CHECK(all->schedules[i]["id"] == order[i]);

    auto june = schedules.list(a, {"2030-06-01", "2030-06-30", 20, 0});
    REQUIRE(june.ok());
    CHECK(june->total == 3);
    CHECK(june->schedules.size() == 3);
    auto from_second_day = schedules.list(a, {"2030-06-02", "", 20, 0});
    REQUIRE(from_second_day.ok());
    CHECK(from_second_day->total == 2);
    CHECK(from_second_day->schedules[0]["id"] == third);

    auto page2 = schedules.list(a, {"", "", 3, 3});
    REQUIRE(page2.ok());
    CHECK(page2->total == 4);
    REQUIRE(page2->schedules.size() == 1);
    CHECK(page2->schedules[0]["id"] == fourth);
    auto past_end = schedules.list(a, {"", "", 3, 6});
    REQUIRE(past_end.ok());
    CHECK(past_end->schedules.empty());
    CHECK(past_end->total == 4);

    auto other = schedules.list(b, {"", "", 20, 0});
    REQUIRE(other.ok());
    CHECK(other->total == 1);
    CHECK(other->schedules[0]["location"] == "Not A's");
    auto nobody = schedules.list(store.user("c@example.com"), {"", "", 20, 0});
    REQUIRE(nobody.ok());
    CHECK(nobody->total == 0);
    CHECK(nobody->schedules.empty());
  }

  TEST_CASE("upcoming lists from a day on, with wake-up times and weather warnings once known") {
    Store store("repo_sched_upcoming");
    db::ScheduleRepository schedules(*store.pool);
    db::RouteRepository routes(*store.pool);
    db::WeatherRepository weather(*store.pool);
    const auto a = store.user("a@example.com");
    const auto b = store.user("b@example.com");
    create(schedules, a, day("2030-05-31", "06:00", "Past"));
    const auto first = create(schedules, a, day("2030-06-01", "06:30", "Set"));
    const auto second = create(schedules, a, day("2030-06-02", "08:00", "Studio"));
    create(schedules, a, day("2030-06-03", "08:00", "Later"));
    create(schedules, b, day("2030-06-01", "05:00", "Not A's"));

    auto plain = schedules.upcoming(a, "2030-06-01", 2);
    REQUIRE(plain.ok());
    REQUIRE(plain->size() == 2);
    CHECK((*plain)[0]["id"] == first);
    CHECK((*plain)[1]["id"] == second);
    CHECK((*plain)[0]["wakeUpTime"].is_null());
    CHECK((*plain)[0]["departureTime"].is_null());
    CHECK((*plain)[0]["weatherWarnings"].is_null());

    auto route_saved = routes.save(a, first, plan_for("2030-06-01", 6, 30, 40));
    REQUIRE(route_saved.ok());
    REQUIRE(*route_saved);
    auto weather_saved = weather.save(a, first, report("light rain", {"rain"}), "2030-06-01");
    REQUIRE(weather_saved.ok());
    auto calm_saved = weather.save(a, second, report("clear sky", {}), "2030-06-02");
    REQUIRE(calm_saved.ok());
    auto known = schedules.upcoming(a, "2030-06-01", 5);
    REQUIRE(known.ok());
    REQUIRE(known->size() == 3);
    // 06:30 call - 10 parking - 10 entry = 06:10 arrival; - 20 traffic - 40 travel = 05:10; - 45 = 04:25.
    CHECK((*known)[0]["wakeUpTime"] == "2030-06-01T04:25:00");
    CHECK((*known)[0]["departureTime"] == "2030-06-01T05:10:00");
    CHECK((*known)[0]["weatherWarnings"] == json{"rain"});
    CHECK((*known)[1]["weatherWarnings"] == json::array());

    auto none = schedules.upcoming(a, "2031-01-01", 5);
    REQUIRE(none.ok());
    CHECK(none->empty());
    auto other = schedules.upcoming(b, "2030-01-01", 5);
    REQUIRE(other.ok());
    REQUIRE(other->size() == 1);
    CHECK((*other)[0]["location"] == "Not A's");
  }

  TEST_CASE("statistics count the user's own schedules") {
    Store store("repo_sched_stats");
    db::ScheduleRepository schedules(*store.pool);
    db::RouteRepository routes(*store.pool);
    const auto a = store.user("a@example.com");
    const auto b = store.user("b@example.com");
    create(schedules, a, day("2030-05-20", "06:00", "Past"));
    const auto june = create(schedules, a, day("2030-06-10", "06:00", "June"));
    create(schedules, a, day("2030-07-01", "06:00", "July"));
    auto imported = schedules.create_imported(a, day("2030-06-05", "06:00", "From a sheet"), "pdf", "hash-1");
    REQUIRE(imported.ok());
    REQUIRE(imported->has_value());
    create(schedules, b, day("2030-06-03", "06:00", "Not A's"));
    auto saved = routes.save(a, june, plan_for("2030-06-10", 6, 0, 30));
    REQUIRE(saved.ok());

    auto stats = schedules.statistics(a, "2030-06-01");
    REQUIRE(stats.ok());
    CHECK(stats->total == 4);
    CHECK(stats->upcoming == 3);
    CHECK(stats->this_month == 2);
    CHECK(stats->with_route_plan == 1);
    CHECK(stats->manual == 3);
    CHECK(stats->text == 0);
    CHECK(stats->pdf == 1);
    REQUIRE(stats->next_shooting_date);
    CHECK(*stats->next_shooting_date == "2030-06-05");

    auto later = schedules.statistics(a, "2031-01-01");
    REQUIRE(later.ok());
    CHECK(later->upcoming == 0);
    CHECK_FALSE(later->next_shooting_date);
    auto other = schedules.statistics(b, "2030-06-01");
    REQUIRE(other.ok());
    CHECK(other->total == 1);
    CHECK(other->with_route_plan == 0);
    CHECK(other->pdf == 0);
  }

  TEST_CASE("an imported call sheet is found again by its hash, per user, until its schedule goes") {
    Store store("repo_sched_import");
    db::ScheduleRepository schedules(*store.pool);
    const auto a = store.user("a@example.com");
    const auto b = store.user("b@example.com");

    auto none = schedules.find_imported(a, "hash-1");
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());

    auto created = schedules.create_imported(a, full_day(), "text", "hash-1");
    REQUIRE(created.ok());
    REQUIRE(created->has_value());
    const std::string id = **created;
    auto stored = schedules.find(a, id);
    REQUIRE(stored.ok());
    REQUIRE(stored->has_value());
    CHECK((**stored)["source"] == "text");
    CHECK((**stored)["title"] == "The Long Night");

    auto found = schedules.find_imported(a, "hash-1");
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK(**found == id);

    // The same document again: nothing new is stored.
    auto again = schedules.create_imported(a, full_day(), "text", "hash-1");
    REQUIRE(again.ok());
    CHECK_FALSE(again->has_value());
    CHECK(store.scalar("SELECT count(*) FROM schedules WHERE user_id = $1", {a}) == "1");

    // Another user's import of the same bytes is theirs alone.
    auto not_b = schedules.find_imported(b, "hash-1");
    REQUIRE(not_b.ok());
    CHECK_FALSE(not_b->has_value());
    auto theirs = schedules.create_imported(b, full_day(), "pdf", "hash-1");
    REQUIRE(theirs.ok());
    REQUIRE(theirs->has_value());
    CHECK(**theirs != id);

    auto removed = schedules.remove(a, id);
    REQUIRE(removed.ok());
    auto forgotten = schedules.find_imported(a, "hash-1");
    REQUIRE(forgotten.ok());
    CHECK_FALSE(forgotten->has_value());
  }
}

TEST_SUITE("route_repository") {
  TEST_CASE("a plan is saved, replaced and read back by the schedule's owner only") {
    Store store("repo_route");
    db::ScheduleRepository schedules(*store.pool);
    db::RouteRepository routes(*store.pool);
    const auto a = store.user("a@example.com");
    const auto b = store.user("b@example.com");
    const auto id = create(schedules, a, day("2030-06-01", "06:30", "Set"));

    auto none = routes.find(a, id);
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());

    auto saved = routes.save(a, id, plan_for("2030-06-01", 6, 30, 40));
    REQUIRE(saved.ok());
    CHECK(*saved);
    auto found = routes.find(a, id);
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    const json& plan = **found;
    CHECK(plan["wakeUpTime"] == "2030-06-01T04:25:00");
    CHECK(plan["departureTime"] == "2030-06-01T05:10:00");
    CHECK(plan["arrivalTime"] == "2030-06-01T06:10:00");
    CHECK(plan["totalTravelMinutes"] == 40);
    REQUIRE(plan["segments"].size() == 1);
    CHECK(plan["segments"][0]["from"] == "Home St 1");
    CHECK(plan["buffers"] == domain::to_json(domain::Buffers{}));
    CHECK(plan["calculatedAt"].get<std::string>().back() == 'Z');

    auto replaced = routes.save(a, id, plan_for("2030-06-01", 6, 30, 10));
    REQUIRE(replaced.ok());
    CHECK(*replaced);
    auto now = routes.find(a, id);
    REQUIRE(now.ok());
    CHECK((**now)["totalTravelMinutes"] == 10);
    CHECK(store.scalar("SELECT count(*) FROM route_plans", {}) == "1");

    // Another user can neither read the plan nor overwrite it through the schedule's id.
    auto peek = routes.find(b, id);
    REQUIRE(peek.ok());
    CHECK_FALSE(peek->has_value());
    auto hijack = routes.save(b, id, plan_for("2030-06-01", 6, 30, 90));
    REQUIRE(hijack.ok());
    CHECK_FALSE(*hijack);
    auto kept = routes.find(a, id);
    REQUIRE(kept.ok());
    CHECK((**kept)["totalTravelMinutes"] == 10);

    auto missing = routes.save(a, kNoSuchId, plan_for("2030-06-01", 6, 30, 40));
    REQUIRE(missing.ok());
    CHECK_FALSE(*missing);
  }
}

TEST_SUITE("weather_repository") {
  TEST_CASE("a report is saved, replaced and read back by the schedule's owner only") {
    Store store("repo_weather");
    db::ScheduleRepository schedules(*store.pool);
    db::WeatherRepository weather(*store.pool);
    const auto a = store.user("a@example.com");
    const auto b = store.user("b@example.com");
    const auto id = create(schedules, a, day("2030-06-01", "06:30", "Set"));

    auto none = weather.find(a, id);
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());

    auto saved = weather.save(a, id, report("light rain", {"rain"}), "2030-06-01");
    REQUIRE(saved.ok());
    CHECK(*saved);
    auto found = weather.find(a, id);
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK((**found)["description"] == "light rain");
    CHECK((**found)["warnings"] == json{"rain"});
    CHECK((**found)["humidity"] == 60);
    CHECK((**found)["fetchedAt"].get<std::string>().back() == 'Z');
    CHECK(store.scalar("SELECT temperature FROM weather_data WHERE schedule_id = $1", {id}) == "18.5");

    // A report without its own date is filed under the shooting date.
    json undated = report("clear sky", {});
    undated.erase("forecastDate");
    auto replaced = weather.save(a, id, undated, "2030-06-01");
    REQUIRE(replaced.ok());
    CHECK(*replaced);
    auto now = weather.find(a, id);
    REQUIRE(now.ok());
    CHECK((**now)["description"] == "clear sky");
    CHECK(store.scalar("SELECT forecast_date::text FROM weather_data WHERE schedule_id = $1", {id}) == "2030-06-01");
    CHECK(store.scalar("SELECT count(*) FROM weather_data", {}) == "1");

    auto peek = weather.find(b, id);
    REQUIRE(peek.ok());
    CHECK_FALSE(peek->has_value());
    auto hijack = weather.save(b, id, report("hail", {"hail"}), "2030-06-01");
    REQUIRE(hijack.ok());
    CHECK_FALSE(*hijack);
    auto kept = weather.find(a, id);
    REQUIRE(kept.ok());
    CHECK((**kept)["description"] == "clear sky");
  }
}

TEST_SUITE("summary_repository") {
  TEST_CASE("a summary is saved and replaced for the schedule's owner only") {
    Store store("repo_summary");
    db::ScheduleRepository schedules(*store.pool);
    db::SummaryRepository summaries(*store.pool);
    const auto a = store.user("a@example.com");
    const auto b = store.user("b@example.com");
    const auto id = create(schedules, a, day("2030-06-01", "06:30", "Set"));

    domain::DaySummary summary{
        "Wake up 04:25", "<p>Wake up 04:25</p>", json::array({{{"time", "04:25"}, {"event", "wake up"}}}), {"rain"}};
    auto saved = summaries.save(a, id, summary);
    REQUIRE(saved.ok());
    CHECK(*saved);
    CHECK(store.scalar("SELECT text FROM summaries WHERE schedule_id = $1 AND user_id = $2", {id, a}) ==
          "Wake up 04:25");
    CHECK(json::parse(store.scalar("SELECT timeline::text FROM summaries WHERE schedule_id = $1", {id})) ==
          summary.timeline);
    CHECK(json::parse(store.scalar("SELECT warnings::text FROM summaries WHERE schedule_id = $1", {id})) ==
          json{"rain"});

    summary.text = "Wake up 05:00";
    auto replaced = summaries.save(a, id, summary);
    REQUIRE(replaced.ok());
    CHECK(*replaced);
    CHECK(store.scalar("SELECT text FROM summaries WHERE schedule_id = $1", {id}) == "Wake up 05:00");
    CHECK(store.scalar("SELECT count(*) FROM summaries", {}) == "1");

    summary.text = "not yours";
    auto hijack = summaries.save(b, id, summary);
    REQUIRE(hijack.ok());
    CHECK_FALSE(*hijack);
    CHECK(store.scalar("SELECT text FROM summaries WHERE schedule_id = $1", {id}) == "Wake up 05:00");
    auto missing = summaries.save(a, kNoSuchId, summary);
    REQUIRE(missing.ok());
    CHECK_FALSE(*missing);
  }
}
