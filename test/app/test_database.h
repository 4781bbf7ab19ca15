// Why: how the app's integration suites reach the PostgreSQL and Redis that scripts/services.sh
// starts (CTest fixture app_services): the services' env file, and a fresh database per suite so
// every run also migrates from empty.
#pragma once

#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include <doctest/doctest.h>

#include "core/crypto.h"
#include "storage/pg_pool.h"

namespace {

std::map<std::string, std::string> services_env() {
  const char* path = std::getenv("STILLONTIME_SERVICES_ENV");
  REQUIRE_MESSAGE(path != nullptr, "STILLONTIME_SERVICES_ENV is not set (run through ctest)");
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read services env file");
  std::map<std::string, std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("export ", 0) != 0) continue;
    line = line.substr(7);
    const auto eq = line.find('=');
    std::string value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '\'') value = value.substr(1, value.size() - 2);
    out[line.substr(0, eq)] = value;
  }
  return out;
}

std::string with_database(const std::string& url, const std::string& db) {
  const auto slash = url.rfind('/');
  return url.substr(0, slash + 1) + db;
}

// A database of its own for each suite: every run migrates from empty.
std::string fresh_database(const std::map<std::string, std::string>& env, const std::string& name) {
  auto admin = sot::db::make_pg_pool(sot::db::PoolOptions{env.at("DATABASE_URL"), 1}, nullptr);
  const std::string db = "t_" + name + "_" + sot::crypto::random_hex(4);
  auto r = admin->exec("CREATE DATABASE " + db);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return with_database(env.at("DATABASE_URL"), db);
}

}  // namespace
