// Why: the storage repositories against the real PostgreSQL that scripts/services.sh starts (CTest
// fixture app_services), each test on a fresh, migrated database: every function round-trips,
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
#include "storage/user_repository.h"
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

// A fresh database with two users, a and b: what b must never reach of a's.
struct Crew {
  Store store{"repo"};
  db::ScheduleRepository schedules{*store.pool};
  db::UserRepository users{*store.pool};
  const std::string a = store.user("a@example.com");
  const std::string b = store.user("b@example.com");
};

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

// The value of a repository call that must succeed.
template <typename T>
T must(Result<T> result) {
  REQUIRE_MESSAGE(result.ok(), (result.ok() ? "" : result.error().message));
  return std::move(result).value();
}

// The row a repository find (or create_imported) must return.
template <typename T>
T must_find(Result<std::optional<T>> result) {
  auto found = must(std::move(result));
  REQUIRE(found.has_value());
  return std::move(*found);
}

json report(const std::string& description, std::vector<std::string> warnings) {
  return {{"forecastDate", "2030-06-01"}, {"temperature", 18.5}, {"description", description}, {"windSpeed", 3.0},
          {"precipitation", 0.0},         {"humidity", 60},      {"warnings", warnings}};
}

}  // namespace

TEST_SUITE("schedule_repository") {
  TEST_CASE_FIXTURE(Crew, "create and find round-trip every field, for the owner only") {
    const auto id = create(schedules, a, full_day());

    const auto found = must_find(schedules.find(a, id));
    const json& s = found;
    CHECK(s["id"] == id);
    const json expected = full_day();
    for (auto it = expected.begin(); it != expected.end(); ++it) CHECK_MESSAGE(s[it.key()] == it.value(), it.key());
    CHECK(s["source"] == "manual");
    CHECK(s["createdAt"].get<std::string>().size() == 20);
    CHECK(s["createdAt"].get<std::string>().back() == 'Z');
    CHECK(s["updatedAt"] == s["createdAt"]);

    // Absent fields take the table's defaults.
    const auto bare = create(schedules, a, day("2030-06-02", "07:00", "Studio 3"));
    const auto minimal = must_find(schedules.find(a, bare));
    CHECK(minimal["title"] == "");
    CHECK(minimal["scenes"] == json::array());
    CHECK(minimal["contacts"] == json::array());

    CHECK_FALSE(must(schedules.find(b, id)).has_value());
    CHECK_FALSE(must(schedules.find(a, kNoSuchId)).has_value());
  }

  TEST_CASE("create for a user who does not exist is an invalid write") {
    Store store("repo_sched_nouser");
    db::ScheduleRepository schedules(*store.pool);
    auto id = schedules.create(kNoSuchId, day("2030-06-01", "06:30", "Set"));
    REQUIRE_FALSE(id.ok());
    CHECK(id.error().code == ErrorCode::kInvalid);
    CHECK(store.scalar("SELECT count(*) FROM schedules", {}) == "0");
  }

  TEST_CASE_FIXTURE(Crew, "update changes the owner's schedule and nobody else's") {
    const auto id = create(schedules, a, full_day());

    json changed = full_day();
    changed["callTime"] = "05:15";
    changed["scenes"] = {"99"};
    changed["notes"] = "moved earlier";
    CHECK(must(schedules.update(a, id, changed)));
    const auto found = must_find(schedules.find(a, id));
    CHECK(found["callTime"] == "05:15");
    CHECK(found["scenes"] == json{"99"});
    CHECK(found["notes"] == "moved earlier");
    CHECK(found["location"] == "Old Brewery, Warsaw");

    CHECK_FALSE(must(schedules.update(b, id, day("2031-01-01", "10:00", "Elsewhere"))));
    const auto still = must_find(schedules.find(a, id));
    CHECK(still["location"] == "Old Brewery, Warsaw");
    CHECK(still["shootingDate"] == "2030-06-01");

    CHECK_FALSE(must(schedules.update(a, kNoSuchId, changed)));
  }

  TEST_CASE_FIXTURE(Crew, "remove deletes the owner's schedule only, once") {
    const auto id = create(schedules, a, full_day());

    CHECK_FALSE(must(schedules.remove(b, id)));
    CHECK(must(schedules.find(a, id)).has_value());

    CHECK(must(schedules.remove(a, id)));
    CHECK_FALSE(must(schedules.find(a, id)).has_value());
    CHECK_FALSE(must(schedules.remove(a, id)));
  }

  TEST_CASE_FIXTURE(Crew, "list pages the user's schedules in shooting order within a date range") {
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

  TEST_CASE_FIXTURE(Crew, "upcoming lists from a day on, with wake-up times and weather warnings once known") {
    db::RouteRepository routes(*store.pool);
    db::WeatherRepository weather(*store.pool);
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

  TEST_CASE_FIXTURE(Crew, "statistics count the user's own schedules") {
    db::RouteRepository routes(*store.pool);
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

  TEST_CASE_FIXTURE(Crew,
                    "calendar lists the user's days from 60 days ago on, with wake-up and departure once planned") {
    db::RouteRepository routes(*store.pool);
    create(schedules, a, day("2020-01-01", "06:00", "Long ago"));
    const auto later = create(schedules, a, day("2030-06-02", "08:00", "Studio"));
    const auto first = create(schedules, a, full_day());
    create(schedules, b, day("2030-06-01", "05:00", "Not A's"));
    auto saved = routes.save(a, first, plan_for("2030-06-01", 6, 30, 40));
    REQUIRE(saved.ok());

    auto days = schedules.calendar(a);
    REQUIRE(days.ok());
    REQUIRE(days->size() == 2);
    const auto& d = (*days)[0];
    CHECK(d.schedule_id == first);
    CHECK(d.shooting_date == "2030-06-01");
    CHECK(d.call_time == "06:30");
    CHECK(d.title == "The Long Night");
    CHECK(d.location == "Old Brewery, Warsaw");
    CHECK(d.base_location == "Parking lot B");
    CHECK(d.safety_notes == json{"Life vests required"});
    CHECK(d.updated_unix > 1700000000);
    REQUIRE(d.wake_up);
    CHECK(*d.wake_up == "2030-06-01T04:25:00");
    REQUIRE(d.departure);
    CHECK(*d.departure == "2030-06-01T05:10:00");
    CHECK((*days)[1].schedule_id == later);
    CHECK_FALSE((*days)[1].wake_up);
    CHECK_FALSE((*days)[1].departure);

    auto other = schedules.calendar(b);
    REQUIRE(other.ok());
    REQUIRE(other->size() == 1);
    CHECK((*other)[0].location == "Not A's");
    auto nobody = schedules.calendar(store.user("c@example.com"));
    REQUIRE(nobody.ok());
    CHECK(nobody->empty());
  }

  TEST_CASE_FIXTURE(Crew, "an imported call sheet is found again by its hash, per user, until its schedule goes") {
    CHECK_FALSE(must(schedules.find_imported(a, "hash-1")).has_value());

    const std::string id = must_find(schedules.create_imported(a, full_day(), "text", "hash-1"));
    const auto stored = must_find(schedules.find(a, id));
    CHECK(stored["source"] == "text");
    CHECK(stored["title"] == "The Long Night");

    const auto found = must_find(schedules.find_imported(a, "hash-1"));
    CHECK(found == id);

    // The same document again: nothing new is stored.
    CHECK_FALSE(must(schedules.create_imported(a, full_day(), "text", "hash-1")).has_value());
    CHECK(store.scalar("SELECT count(*) FROM schedules WHERE user_id = $1", {a}) == "1");

    // Another user's import of the same bytes is theirs alone.
    CHECK_FALSE(must(schedules.find_imported(b, "hash-1")).has_value());
    CHECK(must_find(schedules.create_imported(b, full_day(), "pdf", "hash-1")) != id);

    CHECK(must(schedules.remove(a, id)));
    CHECK_FALSE(must(schedules.find_imported(a, "hash-1")).has_value());
  }
}

TEST_SUITE("route_repository") {
  TEST_CASE_FIXTURE(Crew, "a plan is saved, replaced and read back by the schedule's owner only") {
    db::RouteRepository routes(*store.pool);
    const auto id = create(schedules, a, day("2030-06-01", "06:30", "Set"));

    CHECK_FALSE(must(routes.find(a, id)).has_value());

    CHECK(must(routes.save(a, id, plan_for("2030-06-01", 6, 30, 40))));
    const auto found = must_find(routes.find(a, id));
    const json& plan = found;
    CHECK(plan["wakeUpTime"] == "2030-06-01T04:25:00");
    CHECK(plan["departureTime"] == "2030-06-01T05:10:00");
    CHECK(plan["arrivalTime"] == "2030-06-01T06:10:00");
    CHECK(plan["totalTravelMinutes"] == 40);
    REQUIRE(plan["segments"].size() == 1);
    CHECK(plan["segments"][0]["from"] == "Home St 1");
    CHECK(plan["buffers"] == domain::to_json(domain::Buffers{}));
    CHECK(plan["calculatedAt"].get<std::string>().back() == 'Z');

    CHECK(must(routes.save(a, id, plan_for("2030-06-01", 6, 30, 10))));
    const auto now = must_find(routes.find(a, id));
    CHECK(now["totalTravelMinutes"] == 10);
    CHECK(store.scalar("SELECT count(*) FROM route_plans", {}) == "1");

    // Another user can neither read the plan nor overwrite it through the schedule's id.
    CHECK_FALSE(must(routes.find(b, id)).has_value());
    CHECK_FALSE(must(routes.save(b, id, plan_for("2030-06-01", 6, 30, 90))));
    const auto kept = must_find(routes.find(a, id));
    CHECK(kept["totalTravelMinutes"] == 10);

    CHECK_FALSE(must(routes.save(a, kNoSuchId, plan_for("2030-06-01", 6, 30, 40))));
  }
}

TEST_SUITE("weather_repository") {
  TEST_CASE_FIXTURE(Crew, "a report is saved, replaced and read back by the schedule's owner only") {
    db::WeatherRepository weather(*store.pool);
    const auto id = create(schedules, a, day("2030-06-01", "06:30", "Set"));

    CHECK_FALSE(must(weather.find(a, id)).has_value());

    CHECK(must(weather.save(a, id, report("light rain", {"rain"}), "2030-06-01")));
    const auto found = must_find(weather.find(a, id));
    CHECK(found["description"] == "light rain");
    CHECK(found["warnings"] == json{"rain"});
    CHECK(found["humidity"] == 60);
    CHECK(found["fetchedAt"].get<std::string>().back() == 'Z');
    CHECK(store.scalar("SELECT temperature FROM weather_data WHERE schedule_id = $1", {id}) == "18.5");

    // A report without its own date is filed under the shooting date.
    json undated = report("clear sky", {});
    undated.erase("forecastDate");
    CHECK(must(weather.save(a, id, undated, "2030-06-01")));
    const auto now = must_find(weather.find(a, id));
    CHECK(now["description"] == "clear sky");
    CHECK(store.scalar("SELECT forecast_date::text FROM weather_data WHERE schedule_id = $1", {id}) == "2030-06-01");
    CHECK(store.scalar("SELECT count(*) FROM weather_data", {}) == "1");

    CHECK_FALSE(must(weather.find(b, id)).has_value());
    CHECK_FALSE(must(weather.save(b, id, report("hail", {"hail"}), "2030-06-01")));
    const auto kept = must_find(weather.find(a, id));
    CHECK(kept["description"] == "clear sky");
  }
}

TEST_SUITE("summary_repository") {
  TEST_CASE_FIXTURE(Crew, "a summary is saved and replaced for the schedule's owner only") {
    db::SummaryRepository summaries(*store.pool);
    const auto id = create(schedules, a, day("2030-06-01", "06:30", "Set"));

    domain::DaySummary summary{
        "Wake up 04:25", "<p>Wake up 04:25</p>", json::array({{{"time", "04:25"}, {"event", "wake up"}}}), {"rain"}};
    CHECK(must(summaries.save(a, id, summary)));
    CHECK(store.scalar("SELECT text FROM summaries WHERE schedule_id = $1 AND user_id = $2", {id, a}) ==
          "Wake up 04:25");
    CHECK(json::parse(store.scalar("SELECT timeline::text FROM summaries WHERE schedule_id = $1", {id})) ==
          summary.timeline);
    CHECK(json::parse(store.scalar("SELECT warnings::text FROM summaries WHERE schedule_id = $1", {id})) ==
          json{"rain"});

    summary.text = "Wake up 05:00";
    CHECK(must(summaries.save(a, id, summary)));
    CHECK(store.scalar("SELECT text FROM summaries WHERE schedule_id = $1", {id}) == "Wake up 05:00");
    CHECK(store.scalar("SELECT count(*) FROM summaries", {}) == "1");

    summary.text = "not yours";
    CHECK_FALSE(must(summaries.save(b, id, summary)));
    CHECK(store.scalar("SELECT text FROM summaries WHERE schedule_id = $1", {id}) == "Wake up 05:00");
    CHECK_FALSE(must(summaries.save(a, kNoSuchId, summary)));
  }
}

TEST_SUITE("user_repository") {
  TEST_CASE("a login creates the account once, with its configuration, and updates it after") {
    Store store("repo_user_login");
    db::UserRepository users(*store.pool);
    auto first = users.record_login("crew@example.com", "Crew", "g-1");
    REQUIRE(first.ok());
    CHECK(first->created);
    CHECK(first->email == "crew@example.com");
    CHECK(first->name == "Crew");
    CHECK(first->role == "crew");
    CHECK(store.scalar("SELECT count(*) FROM user_configs WHERE user_id = $1", {first->id}) == "1");

    auto again = users.record_login("crew@example.com", "Crew Renamed", "g-2");
    REQUIRE(again.ok());
    CHECK_FALSE(again->created);
    CHECK(again->id == first->id);
    CHECK(again->name == "Crew Renamed");
    CHECK(store.scalar("SELECT google_id FROM users WHERE id = $1", {first->id}) == "g-2");
    CHECK(store.scalar("SELECT count(*) FROM users", {}) == "1");
  }

  TEST_CASE("find, rename and remove touch the named user only") {
    Store store("repo_user_profile");
    db::UserRepository users(*store.pool);
    db::ScheduleRepository schedules(*store.pool);
    auto login = users.record_login("a@example.com", "Crew A", "g-a");
    REQUIRE(login.ok());
    const auto a = login->id;
    const auto b = store.user("b@example.com");

    const auto profile = must_find(users.find(a));
    CHECK(profile["id"] == a);
    CHECK(profile["email"] == "a@example.com");
    CHECK(profile["name"] == "Crew A");
    CHECK(profile["role"] == "crew");
    CHECK(profile["createdAt"].get<std::string>().back() == 'Z');
    CHECK(profile["lastLoginAt"].is_string());
    CHECK(profile["calendarFeedEnabled"] == false);
    const auto never_logged_in = must_find(users.find(b));
    CHECK(never_logged_in["lastLoginAt"].is_null());
    CHECK_FALSE(must(users.find(kNoSuchId)).has_value());

    CHECK(must(users.rename(a, "Key Grip")));
    CHECK(must_find(users.find(a))["name"] == "Key Grip");
    CHECK(must_find(users.find(b))["name"] == "");
    CHECK_FALSE(must(users.rename(kNoSuchId, "Nobody")));

    create(schedules, a, day("2030-06-01", "06:30", "Set"));
    create(schedules, b, day("2030-06-01", "06:30", "Set"));
    CHECK(must(users.remove(a)));
    CHECK_FALSE(must(users.find(a)).has_value());
    CHECK(store.scalar("SELECT count(*) FROM schedules WHERE user_id = $1", {a}) == "0");
    CHECK(store.scalar("SELECT count(*) FROM user_configs WHERE user_id = $1", {a}) == "0");
    CHECK(store.scalar("SELECT count(*) FROM schedules WHERE user_id = $1", {b}) == "1");
    CHECK_FALSE(must(users.remove(a)));
  }

  TEST_CASE_FIXTURE(Crew, "a calendar token finds its user until it is cleared") {
    CHECK_FALSE(must(users.find_by_calendar_token("hash-a")).has_value());
    CHECK(must(users.set_calendar_token(a, "hash-a")));
    auto set_b = users.set_calendar_token(b, "hash-b");
    REQUIRE(set_b.ok());
    CHECK(must_find(users.find(a))["calendarFeedEnabled"] == true);

    const auto found = must_find(users.find_by_calendar_token("hash-a"));
    CHECK(found == a);
    CHECK(must_find(users.find_by_calendar_token("hash-b")) == b);

    // A new token replaces the old one.
    REQUIRE(users.set_calendar_token(a, "hash-a2").ok());
    CHECK_FALSE(must(users.find_by_calendar_token("hash-a")).has_value());

    CHECK(must(users.clear_calendar_token(a)));
    CHECK_FALSE(must(users.find_by_calendar_token("hash-a2")).has_value());
    CHECK(must_find(users.find(a))["calendarFeedEnabled"] == false);
    CHECK(must_find(users.find_by_calendar_token("hash-b")) == b);

    CHECK_FALSE(must(users.set_calendar_token(kNoSuchId, "hash-x")));
    CHECK_FALSE(must(users.clear_calendar_token(kNoSuchId)));
  }

  TEST_CASE_FIXTURE(Crew, "the configuration starts with the defaults, round-trips, resets, and is each user's own") {
    const auto defaults = must_find(users.config(a));
    CHECK_FALSE(defaults.home_address);
    CHECK_FALSE(defaults.office_address);
    CHECK(domain::to_json(defaults.buffers) == domain::to_json(domain::Buffers{}));
    CHECK(defaults.notify_email);
    CHECK_FALSE(defaults.notify_sms);
    CHECK_FALSE(defaults.notify_push);
    CHECK_FALSE(defaults.sms_number);
    CHECK(defaults.updated_at.back() == 'Z');

    db::UserConfig mine = defaults;
    mine.home_address = "Home St 1";
    mine.office_address = "Office Ave 2";
    mine.buffers = {5, 6, 7, 8, 9};
    mine.notify_email = false;
    mine.notify_sms = true;
    mine.notify_push = true;
    mine.sms_number = "+48 600 100 200";
    CHECK(must(users.save_config(a, mine)));
    const auto back = must_find(users.config(a));
    CHECK(back.home_address == mine.home_address);
    CHECK(back.office_address == mine.office_address);
    CHECK(domain::to_json(back.buffers) == domain::to_json(mine.buffers));
    CHECK_FALSE(back.notify_email);
    CHECK(back.notify_sms);
    CHECK(back.notify_push);
    CHECK(back.sms_number == mine.sms_number);

    const auto theirs = must_find(users.config(b));
    CHECK_FALSE(theirs.home_address);
    CHECK(domain::to_json(theirs.buffers) == domain::to_json(domain::Buffers{}));

    REQUIRE(users.reset_config(a).ok());
    const auto reset = must_find(users.config(a));
    CHECK_FALSE(reset.home_address);
    CHECK_FALSE(reset.sms_number);
    CHECK(domain::to_json(reset.buffers) == domain::to_json(domain::Buffers{}));

    CHECK_FALSE(must(users.config(kNoSuchId)).has_value());
    CHECK(store.scalar("SELECT count(*) FROM user_configs WHERE user_id = $1", {kNoSuchId}) == "0");
    CHECK_FALSE(must(users.save_config(kNoSuchId, mine)));
  }
}
