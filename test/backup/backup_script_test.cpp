// scripts/backup/backup.sh and restore.sh, run for real. Each run gets exactly
// what the rendered Job gives its container: the command, the environment
// (plain values as rendered, secretKeyRef values from the local services'
// credentials, Service host names and ports mapped to loopback) and the mounts
// (/scripts holds the ConfigMap's data, /backups and /tmp are temp dirs).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include "stillontime/builders/backup.h"
#include "stillontime/builders/builders.h"
#include "stillontime/defaults.h"

extern char** environ;

using namespace sot::stillontime;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::map<std::string, std::string> services_env() {
  const char* dir = std::getenv("STILLONTIME_BACKUP_SERVICES_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "STILLONTIME_BACKUP_SERVICES_DIR is not set (run through ctest -L backup)");
  std::ifstream in(std::string(dir) + "/env");
  REQUIRE_MESSAGE(in.good(), "no services env in " << dir);
  std::map<std::string, std::string> out;
  std::string line;
  static const std::regex kLine("^export ([A-Z_]+)='?([^']*)'?$");
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_match(line, m, kLine)) out[m[1]] = m[2];
  }
  return out;
}

const std::map<std::string, std::string>& svc() {
  static const auto env = services_env();
  return env;
}

StillOnTime resource(json spec) {
  json base = {{"environment", "production"}, {"version", "1.0.0"}};
  if (spec.is_object()) base.update(spec);
  auto parsed = parse({{"apiVersion", kApiVersion},
                       {"kind", kKind},
                       {"metadata", {{"name", "sot"}, {"namespace", "apps"}}},
                       {"spec", base}});
  REQUIRE_MESSAGE(parsed.ok(), join_errors(parsed.errors));
  return apply_defaults(std::move(parsed.resource));
}

// A pod's volumes on this machine.
struct Pod {
  fs::path root;
  fs::path backups() const { return root / "backups"; }
  fs::path scripts() const { return root / "scripts"; }
  fs::path tmp() const { return root / "tmp"; }
};

Pod make_pod(const StillOnTime& r) {
  Pod p{fs::temp_directory_path() / ("sot-backup-test-" + std::to_string(::getpid()) + "-" +
                                     std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))};
  fs::create_directories(p.backups());
  fs::create_directories(p.scripts());
  fs::create_directories(p.tmp());
  // /scripts: the ConfigMap's data, as the kubelet projects it (mode 0555).
  const json configmap = build_backup_scripts_configmap(r);
  for (const auto& [name, text] : configmap["data"].items()) {
    std::ofstream(p.scripts() / name) << text.get<std::string>();
    fs::permissions(p.scripts() / name, fs::perms(0555));
  }
  return p;
}

struct Secrets {
  std::map<std::string, std::map<std::string, std::string>> data;
};

Secrets local_secrets(const StillOnTime& r, const std::string& pg_password) {
  Secrets s;
  s.data[postgres_secret_name(r)] = {
      {"POSTGRES_USER", svc().at("PG_USER")}, {"POSTGRES_PASSWORD", pg_password}, {"POSTGRES_DB", "stillontime"}};
  s.data[redis_secret_name(r)] = {{"REDIS_PASSWORD", svc().at("REDIS_PASSWORD")}};
  s.data["external-db"] = {{"url", svc().at("DATABASE_URL")}};
  return s;
}

std::string map_path(std::string v, const Pod& pod) {
  for (const auto& [from, to] :
       {std::pair{std::string("/backups"), pod.backups()}, std::pair{std::string("/scripts"), pod.scripts()},
        std::pair{std::string("/tmp"), pod.tmp()}}) {
    if (v == from || v.rfind(from + "/", 0) == 0) return to.string() + v.substr(from.size());
  }
  return v;
}

struct Run {
  int exit_code = -1;
  std::string out;
};

// Runs one container of a rendered pod spec.
Run run_container(const StillOnTime& r, const json& pod_spec, const std::string& name, const Pod& pod,
                  const Secrets& secrets, const std::map<std::string, std::string>& overrides = {}) {
  json c;
  for (const char* list : {"initContainers", "containers"}) {
    for (const auto& x : pod_spec.value(list, json::array())) {
      if (x["name"] == name) c = x;
    }
  }
  REQUIRE_MESSAGE(c.is_object(), "no container " << name);
  // The mounts must be the ones this test maps.
  std::set<std::string> mounts;
  for (const auto& m : c["volumeMounts"]) mounts.insert(m["mountPath"]);
  REQUIRE(mounts == std::set<std::string>{"/backups", "/scripts", "/tmp"});

  std::map<std::string, std::string> env;
  env["PATH"] = std::getenv("PATH");
  env["HOSTNAME"] = "sot-backup-pod";
  const std::map<std::string, std::string> hosts = {
      {child_name(r, kPostgres) + "." + r.target_namespace() + ".svc", "127.0.0.1"},
      {child_name(r, kRedis) + "." + r.target_namespace() + ".svc", "127.0.0.1"}};
  for (const auto& e : c["env"]) {
    const std::string key = e["name"];
    std::string value;
    if (e.contains("valueFrom")) {
      const json& ref = e["valueFrom"]["secretKeyRef"];
      value = secrets.data.at(ref["name"]).at(ref["key"]);
    } else {
      value = map_path(e["value"], pod);
      if (auto h = hosts.find(value); h != hosts.end()) value = h->second;
      if (key == "PGPORT") value = svc().at("PG_PORT");
      if (key == "REDIS_PORT") value = svc().at("REDIS_PORT");
    }
    env[key] = value;
  }
  for (const auto& [k, v] : overrides) env[k] = v;

  std::vector<std::string> args;
  for (const auto& a : c["command"]) args.push_back(map_path(a, pod));
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text;
  for (const auto& [k, v] : env) env_text.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);

  const fs::path out_file = pod.root / "stdout";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, (pod.root / "stderr").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  int status = 0;
  waitpid(pid, &status, 0);
  Run run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  std::ifstream in(out_file);
  std::stringstream ss;
  ss << in.rdbuf();
  run.out = ss.str();
  if (run.exit_code != 0) {
    std::ifstream err(pod.root / "stderr");
    std::stringstream es;
    es << err.rdbuf();
    MESSAGE(name << " exited " << run.exit_code << ": " << es.str());
  }
  return run;
}

// psql against the local database as the application user (password from the env, not argv).
std::string psql(const std::string& sql) {
  const std::string cmd = "PGPASSWORD='" + svc().at("PG_PASSWORD") +
                          "' psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " + svc().at("PG_PORT") + " -U " +
                          svc().at("PG_USER") + " -d stillontime -c \"" + sql + "\" 2>&1";
  std::string out;
  FILE* f = popen(cmd.c_str(), "r");
  REQUIRE(f != nullptr);
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  const int rc = pclose(f);
  REQUIRE_MESSAGE(rc == 0, sql << ": " << out);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Every table's contents as a checksum.
std::map<std::string, std::string> checksums() {
  std::map<std::string, std::string> out;
  std::stringstream tables(psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"));
  std::string t;
  while (std::getline(tables, t)) {
    out[t] =
        psql("SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM public.\\\"" +
             t + "\\\" x");
  }
  return out;
}

std::vector<std::string> files(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool has_partial(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().find("partial") != std::string::npos) return true;
  }
  return false;
}

std::string stamp(std::int64_t days_ago) {
  const std::time_t t = std::time(nullptr) - days_ago * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

void services(const std::string& command) {
  const std::string cmd = std::string("bash '") + STILLONTIME_SERVICES_SCRIPT + "' " + command + " --dir '" +
                          std::getenv("STILLONTIME_BACKUP_SERVICES_DIR") + "' >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
}

const std::regex kDumpName("stillontime-[0-9]{8}T[0-9]{6}Z\\.dump");

}  // namespace

TEST_CASE("fill, back up, drop, restore: every table comes back identical") {
  auto r = resource({});
  const Pod pod = make_pod(r);
  const Secrets secrets = local_secrets(r, svc().at("PG_PASSWORD"));
  psql("DROP TABLE IF EXISTS crew, shooting_days, notes CASCADE");
  psql(
      "CREATE TABLE crew (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE, joined timestamptz DEFAULT "
      "now())");
  psql(
      "CREATE TABLE shooting_days (id bigserial PRIMARY KEY, crew_id int REFERENCES crew(id), day date, call_time "
      "time, "
      "location jsonb, tags text[])");
  psql("CREATE TABLE notes (id int PRIMARY KEY, body text, blob bytea)");
  psql(
      "INSERT INTO crew (name, email) SELECT 'member ' || g, 'm' || g || '@example.com' FROM generate_series(1, 500) "
      "g");
  psql(
      "INSERT INTO shooting_days (crew_id, day, call_time, location, tags) SELECT (g % 500) + 1, date '2024-01-01' + "
      "g, "
      "time '05:30' + (g || ' minutes')::interval, jsonb_build_object('lat', g, 'name', 'set ' || g), ARRAY['a', 'b' "
      "|| g] "
      "FROM generate_series(1, 2000) g");
  psql("INSERT INTO notes SELECT g, repeat('x', g), decode(md5(g::text), 'hex') FROM generate_series(1, 300) g");
  const auto before = checksums();
  REQUIRE(before.size() >= 3);

  BuildContext ctx;
  const json pod_spec = build_backup_cronjob(r, ctx)["spec"]["jobTemplate"]["spec"]["template"]["spec"];
  auto snap = run_container(r, pod_spec, "redis-snapshot", pod, secrets);
  REQUIRE(snap.exit_code == 0);
  auto backup = run_container(r, pod_spec, "backup", pod, secrets);
  REQUIRE(backup.exit_code == 0);
  std::string name = backup.out;
  while (!name.empty() && name.back() == '\n') name.pop_back();
  name = name.substr(name.rfind('\n') == std::string::npos ? 0 : name.rfind('\n') + 1);
  CHECK(std::regex_match(name, kDumpName));
  CHECK(fs::exists(pod.backups() / name));
  const std::string rdb = name.substr(0, name.size() - 5) + ".rdb";
  CHECK(fs::exists(pod.backups() / rdb));
  CHECK(fs::file_size(pod.backups() / rdb) > 0);
  CHECK_FALSE(has_partial(pod.backups()));

  // Disaster: tables gone, and a stray change.
  psql("DROP TABLE shooting_days, notes");
  psql("UPDATE crew SET name = 'changed'");
  CHECK(checksums() != before);

  const json restore_spec = build_restore_job(r, "r1", "latest")["spec"]["template"]["spec"];
  auto restore = run_container(r, restore_spec, "restore", pod, secrets);
  REQUIRE(restore.exit_code == 0);
  CHECK(restore.out.find(name) != std::string::npos);
  CHECK(checksums() == before);
  // A safety dump of the broken state was taken first.
  bool safety = false;
  for (const auto& f : files(pod.backups())) safety = safety || f.rfind("pre-restore-", 0) == 0;
  CHECK(safety);

  // By name as well, and a name that does not exist fails.
  CHECK(run_container(r, build_restore_job(r, "r2", name)["spec"]["template"]["spec"], "restore", pod, secrets)
            .exit_code == 0);
  CHECK(checksums() == before);
  CHECK(run_container(r, build_restore_job(r, "r3", "stillontime-19990101T000000Z.dump")["spec"]["template"]["spec"],
                      "restore", pod, secrets)
            .exit_code != 0);

  // Bootstrap mode leaves a database that has tables alone.
  auto r_boot = resource({{"postgres", {{"bootstrap", {{"fromBackup", "latest"}}}}}});
  psql("UPDATE crew SET name = 'kept'");
  const auto kept = checksums();
  CHECK(run_container(r_boot, build_bootstrap_job(r_boot)["spec"]["template"]["spec"], "bootstrap", pod, secrets)
            .exit_code == 0);
  CHECK(checksums() == kept);
  fs::remove_all(pod.root);
}

TEST_CASE("an external database: the same backup from DATABASE_URL") {
  auto r = resource({{"postgres", {{"external", {{"secretRef", {{"name", "external-db"}, {"key", "url"}}}}}}}});
  const Pod pod = make_pod(r);
  const Secrets secrets = local_secrets(r, svc().at("PG_PASSWORD"));
  BuildContext ctx;
  const json pod_spec = build_backup_cronjob(r, ctx)["spec"]["jobTemplate"]["spec"]["template"]["spec"];
  auto backup = run_container(r, pod_spec, "backup", pod, secrets);
  REQUIRE(backup.exit_code == 0);
  bool dump = false;
  for (const auto& f : files(pod.backups())) dump = dump || std::regex_match(f, kDumpName);
  CHECK(dump);
  fs::remove_all(pod.root);
}

TEST_CASE("pruning by age and by count keeps the right files, never the newest good dump") {
  auto r = resource({{"backup", {{"retentionDays", 7}, {"keep", 3}}}});
  const Pod pod = make_pod(r);
  const Secrets secrets = local_secrets(r, svc().at("PG_PASSWORD"));
  // Fakes: 1, 2, 10 and 40 days old (with a Redis snapshot beside the 40-day one), and an unrelated file.
  // Named once: the backup takes a second or more, and stamp() moves with the clock.
  std::map<int, std::string> fake;
  for (int days : {1, 2, 10, 40}) fake[days] = "stillontime-" + stamp(days);
  for (int days : {1, 2, 10, 40}) std::ofstream(pod.backups() / (fake[days] + ".dump")) << "fake";
  std::ofstream(pod.backups() / (fake[40] + ".rdb")) << "fake";
  std::ofstream(pod.backups() / "notes.txt") << "keep me";
  BuildContext ctx;
  const json pod_spec = build_backup_cronjob(r, ctx)["spec"]["jobTemplate"]["spec"]["template"]["spec"];
  auto backup = run_container(r, pod_spec, "backup", pod, secrets);
  REQUIRE(backup.exit_code == 0);
  auto left = files(pod.backups());
  // The new one plus the 1- and 2-day fakes (keep 3); 10 and 40 days are past retention anyway.
  std::vector<std::string> dumps;
  for (const auto& f : left) {
    if (f.ends_with(".dump")) dumps.push_back(f);
  }
  REQUIRE(dumps.size() == 3);
  CHECK(dumps[0] == fake[2] + ".dump");
  CHECK(dumps[1] == fake[1] + ".dump");
  CHECK(std::count(left.begin(), left.end(), fake[40] + ".rdb") == 0);
  CHECK(std::count(left.begin(), left.end(), "notes.txt") == 1);

  // Age only, everything old: the newest dump still stays.
  auto r_age = resource({{"backup", {{"retentionDays", 1}, {"keep", 0}}}});
  const Pod old = make_pod(r_age);
  const std::string newest_old = "stillontime-" + stamp(5) + ".dump";
  for (int days : {5, 9, 30})
    std::ofstream(old.backups() / (days == 5 ? newest_old : "stillontime-" + stamp(days) + ".dump")) << "fake";
  auto prune = run_container(r_age, build_backup_cronjob(r_age, ctx)["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                             "backup", old, secrets, {{"PGPASSWORD", "wrong"}});
  CHECK(prune.exit_code != 0);  // the dump fails, so nothing is pruned at all
  CHECK(files(old.backups()).size() == 3);
  const std::string script = (old.scripts() / "backup.sh").string();
  const std::string cmd =
      "BACKUP_DIR='" + old.backups().string() + "' RETENTION_DAYS=1 KEEP=0 bash '" + script + "' prune 2>/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  CHECK(files(old.backups()) == std::vector<std::string>{newest_old});
  fs::remove_all(pod.root);
  fs::remove_all(old.root);
}

TEST_CASE("a failing pg_dump exits non-zero and leaves no partial file") {
  auto r = resource({});
  BuildContext ctx;
  const json pod_spec = build_backup_cronjob(r, ctx)["spec"]["jobTemplate"]["spec"]["template"]["spec"];

  SUBCASE("bad password") {
    const Pod pod = make_pod(r);
    auto run = run_container(r, pod_spec, "backup", pod, local_secrets(r, "not-the-password"));
    CHECK(run.exit_code != 0);
    CHECK(files(pod.backups()).empty());
    CHECK_FALSE(has_partial(pod.backups()));
    fs::remove_all(pod.root);
  }
  SUBCASE("database down") {
    const Pod pod = make_pod(r);
    services("stop-postgres");
    auto run = run_container(r, pod_spec, "backup", pod, local_secrets(r, svc().at("PG_PASSWORD")));
    services("start-postgres");
    CHECK(run.exit_code != 0);
    CHECK(files(pod.backups()).empty());
    CHECK_FALSE(has_partial(pod.backups()));
    // A restore cannot run either (and says so quickly with a short wait).
    fs::remove_all(pod.root);
  }
  SUBCASE("redis unreachable") {
    const Pod pod = make_pod(r);
    auto run = run_container(r, pod_spec, "redis-snapshot", pod, local_secrets(r, svc().at("PG_PASSWORD")),
                             {{"REDIS_PORT", "1"}});
    CHECK(run.exit_code != 0);
    CHECK_FALSE(has_partial(pod.backups()));
    fs::remove_all(pod.root);
  }
}
