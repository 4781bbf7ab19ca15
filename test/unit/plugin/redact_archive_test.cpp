#include <cstring>
#include <map>

#include <doctest/doctest.h>
#include <zlib.h>

#include "plugin/archive.h"
#include "plugin/redact.h"

using namespace sot::plugin;
using nlohmann::json;

namespace {

// A reader written for the test: gunzip, then walk ustar headers checking each checksum.
std::map<std::string, std::string> untar(const std::string& gz) {
  std::string tar;
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 32) == Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  char buf[4096];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    tar.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  REQUIRE(rc == Z_STREAM_END);
  std::map<std::string, std::string> files;
  std::size_t at = 0;
  while (at + 512 <= tar.size()) {
    const char* h = tar.data() + at;
    if (h[0] == '\0') break;
    unsigned sum = 0;
    for (int i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    CHECK(std::strtoul(std::string(h + 148, 7).c_str(), nullptr, 8) == sum);
    CHECK(std::string(h + 257, 5) == "ustar");
    const std::string prefix(h + 345, strnlen(h + 345, 155));
    const std::string name(h, strnlen(h, 100));
    const std::size_t size = std::strtoul(std::string(h + 124, 11).c_str(), nullptr, 8);
    const std::string path = prefix.empty() ? name : prefix + "/" + name;
    if (h[156] == '0') files[path] = tar.substr(at + 512, size);
    if (h[156] == '5') files[path] = "<dir>";
    at += 512 + (size + 511) / 512 * 512;
  }
  return files;
}

}  // namespace

TEST_CASE("Secrets keep their keys, never their values; last-applied and managedFields go") {
  json secret = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata",
       {{"name", "app-postgres-credentials"},
        {"managedFields", json::array({json::object()})},
        {"annotations",
         {{"kubectl.kubernetes.io/last-applied-configuration", "{\"data\":{\"POSTGRES_PASSWORD\":\"c2VjcmV0\"}}"},
          {"keep", "me"}}}}},
      {"data", {{"POSTGRES_PASSWORD", "c2VjcmV0"}, {"POSTGRES_USER", "c3RpbGxvbnRpbWU="}}},
      {"stringData", {{"JWT_SECRET", "plain-text"}}}};
  const json r = redact_object(secret);
  const std::string text = r.dump();
  CHECK(text.find("c2VjcmV0") == std::string::npos);
  CHECK(text.find("plain-text") == std::string::npos);
  CHECK(r["data"]["POSTGRES_PASSWORD"] == "<redacted: 6 bytes>");
  CHECK(r["data"]["POSTGRES_USER"] == "<redacted: 11 bytes>");
  CHECK(r["stringData"]["JWT_SECRET"] == "<redacted: 10 bytes>");
  CHECK_FALSE(r["metadata"].contains("managedFields"));
  CHECK_FALSE(r["metadata"]["annotations"].contains("kubectl.kubernetes.io/last-applied-configuration"));
  CHECK(r["metadata"]["annotations"]["keep"] == "me");
}

TEST_CASE("env: credential-like names and URL passwords are replaced, secretKeyRef stays a reference") {
  json deploy =
      json::parse(R"({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "backend", "env": [
      {"name": "PORT", "value": "3000"},
      {"name": "OAUTH_CLIENT_SECRET", "value": "s3cr3t"},
      {"name": "API_TOKEN", "value": "tok"},
      {"name": "DATABASE_URL", "value": "postgresql://app:hunter2@db:5432/app"},
      {"name": "JWT_SECRET", "valueFrom": {"secretKeyRef": {"name": "app-app-secrets", "key": "JWT_SECRET"}}}]}]}}}})");
  const json r = redact_object(deploy);
  const json& env = r["spec"]["template"]["spec"]["containers"][0]["env"];
  CHECK(env[0]["value"] == "3000");
  CHECK(env[1]["value"] == kRedacted);
  CHECK(env[2]["value"] == kRedacted);
  CHECK(env[3]["value"] == "postgresql://app:<redacted>@db:5432/app");
  CHECK(env[4]["valueFrom"]["secretKeyRef"]["name"] == "app-app-secrets");
  // The resource's own spec.backend.env is treated alike.
  json cr = {{"kind", "StillOnTime"},
             {"spec", {{"backend", {{"env", {{{"name", "SMTP_PASSWORD"}, {"value", "pw"}}}}}}}}};
  CHECK(redact_object(cr)["spec"]["backend"]["env"][0]["value"] == kRedacted);
  CHECK(redact_object(json("not an object")) == json("not an object"));
}

TEST_CASE("log lines: JSON keys at any depth, key=value pairs and URLs") {
  const std::string json_line =
      R"({"level":"info","msg":"x","password":"pw","nested":{"apiToken":"t","url":"redis://:pw2@r:6379"}})";
  const json out = json::parse(redact_log_line(json_line));
  CHECK(out["password"] == kRedacted);
  CHECK(out["nested"]["apiToken"] == kRedacted);
  CHECK(out["nested"]["url"] == "redis://:<redacted>@r:6379");
  CHECK(out["msg"] == "x");
  CHECK(redact_log_line("connecting with password=hunter2 user=app") == "connecting with password=<redacted> user=app");
  CHECK(redact_log_line("Authorization: Bearer abc def") == "Authorization: <redacted> def");
  CHECK(redact_log_line("dsn postgres://u:p@h/db ok") == "dsn postgres://u:<redacted>@h/db ok");
  CHECK(redact_log_line("nothing here") == "nothing here");
  CHECK(redact_log_line("{broken json password=x") == "{broken json password=<redacted>");
  CHECK(redact_url_passwords("http://host/path@x") == "http://host/path@x");
}

TEST_CASE("tar.gz: ustar entries with directories, read back byte for byte") {
  TarGzWriter w;
  const std::string big(70000, 'x');
  w.add_file("report/README.txt", "hello\n", 1715738400);
  w.add_file("report/children/deployment/app-backend.yaml", big, 1715738400);
  const std::string long_name = "report/children/secret/" + std::string(150, 'a') + ".yaml";
  w.add_file(long_name, "long", 1715738400);
  w.add_file("report/README.txt", "again", 1715738400);  // a repeated name gets its own entry
  auto gz = w.finish();
  REQUIRE(gz.ok());
  CHECK(gz->size() < big.size() / 10);
  const auto files = untar(*gz);
  CHECK(files.at("report/README.txt") == "hello\n");
  CHECK(files.at("report/children/deployment/app-backend.yaml") == big);
  CHECK(files.at("report/") == "<dir>");
  CHECK(files.at("report/children/deployment/") == "<dir>");
  int longs = 0, agains = 0;
  for (const auto& [path, content] : files) {
    longs += content == "long" ? 1 : 0;
    agains += content == "again" ? 1 : 0;
    CHECK(path.size() <= 256);
  }
  CHECK(longs == 1);
  CHECK(agains == 1);
}

TEST_CASE("ustar_safe_path keeps what fits and shortens the rest uniquely") {
  CHECK(ustar_safe_path("a/b.yaml") == "a/b.yaml");
  const std::string dir(120, 'd');
  CHECK(ustar_safe_path(dir + "/file.yaml") == dir + "/file.yaml");  // prefix 120, name 9
  const std::string a = ustar_safe_path("x/" + std::string(120, 'a') + "1.yaml");
  const std::string b = ustar_safe_path("x/" + std::string(120, 'a') + "2.yaml");
  CHECK(a != b);
  CHECK(a.size() <= 102);
  CHECK(a.ends_with(".yaml"));
  CHECK(ustar_safe_path(std::string(300, 'p') + "/f").size() <= 256);
}
