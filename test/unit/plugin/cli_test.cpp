#include "plugin/cli.h"

#include <doctest/doctest.h>

using namespace sot::plugin;
using namespace std::chrono_literals;

namespace {
Invocation ok(std::vector<std::string> args) {
  auto r = parse_args(args);
  REQUIRE_MESSAGE(r.ok(), r.error().message);
  return *r;
}
std::string refused(std::vector<std::string> args) {
  auto r = parse_args(args);
  REQUIRE_FALSE(r.ok());
  return r.error().message;
}
}  // namespace

TEST_CASE("commands, names and flags in every accepted spelling") {
  auto d = ok({"deploy", "app", "--version", "1.4.2", "--wait", "--timeout=90s", "-n", "prod"});
  CHECK(d.command == "deploy");
  CHECK(d.name == "app");
  CHECK(d.version == "1.4.2");
  CHECK(d.wait);
  CHECK(d.timeout == 90s);
  CHECK(d.ns == "prod");
  CHECK(ok({"-nprod", "status", "app"}).ns == "prod");
  CHECK(ok({"status", "--namespace=prod", "app"}).ns == "prod");
  CHECK(ok({"status", "app", "-o", "yaml"}).output == Output::kYaml);
  CHECK(ok({"status", "app", "-ojson"}).output == Output::kJson);
  CHECK_FALSE(ok({"deploy", "app", "--version", "1", "--wait=false"}).wait);
  CHECK(ok({"restore", "app", "--from", "latest", "--id", "r1"}).from == "latest");
  CHECK(ok({"rollback", "app", "--to", "1.0.0", "--force"}).force);
  auto report = ok({"report", "app", "-f", "/tmp/x.tar.gz", "--log-lines", "50", "--operator-namespace", "ops"});
  CHECK(report.file == "/tmp/x.tar.gz");
  CHECK(report.log_lines == 50);
  CHECK(report.operator_namespace == "ops");
  CHECK(ok({"--kubeconfig", "/k", "--context", "c", "pause", "app"}).kubeconfig == "/k");
  CHECK(ok({"completion", "zsh"}).shell == "zsh");
  CHECK(ok({}).command == "help");
  CHECK(ok({"help", "deploy"}).help_topic == "deploy");
  CHECK(ok({"deploy", "--help"}).help);
  // --help needs nothing else, not even the required flags.
  CHECK(ok({"restore", "-h"}).help);
  auto c = ok({"__complete", "status", "--bogus", ""});
  CHECK(c.command == "__complete");
  CHECK(c.words == std::vector<std::string>{"status", "--bogus", ""});
}

TEST_CASE("mistakes are refused with what to type instead") {
  CHECK(refused({"deploy", "app"}).find("--version") != std::string::npos);
  CHECK(refused({"status"}).find("needs the name of a StillOnTime") != std::string::npos);
  CHECK(refused({"status", "a", "b"}).find("one name") != std::string::npos);
  CHECK(refused({"status", "App_1"}).find("not a resource name") != std::string::npos);
  CHECK(refused({"status", "app", "--force"}).find("--force is not a flag of status") != std::string::npos);
  CHECK(refused({"--force", "status", "app"}).find("--force is not a flag of status") != std::string::npos);
  CHECK(refused({"status", "app", "--colour"}).find("unknown flag --colour") != std::string::npos);
  CHECK(refused({"launch", "app"}).find("unknown command \"launch\"") != std::string::npos);
  CHECK(refused({"status", "app", "-o", "xml"}).find("text, json, yaml") != std::string::npos);
  CHECK(refused({"health", "app", "-o", "yaml"}).find("-o yaml is for status") != std::string::npos);
  CHECK(refused({"deploy", "app", "--version"}).find("needs a value") != std::string::npos);
  CHECK(refused({"deploy", "app", "--version", "1", "--timeout", "5m"}).find("--timeout goes with --wait") !=
        std::string::npos);
  CHECK(refused({"deploy", "app", "--version", "1", "--wait", "--timeout", "soon"}).find("not a duration") !=
        std::string::npos);
  CHECK(refused({"status", "app", "-n", "Bad_NS"}).find("not a namespace name") != std::string::npos);
  CHECK(refused({"restore", "app"}).find("--from") != std::string::npos);
  CHECK(refused({"completion", "fish"}).find("bash or zsh") != std::string::npos);
  CHECK(refused({"report", "app", "--log-lines", "-3"}).find("--log-lines") != std::string::npos);
  CHECK(refused({"status", "app", "--wait=maybe"}).find("takes no value") != std::string::npos);
  // Every refusal points at the help.
  CHECK(refused({"status"}).find("kubectl stillontime status --help") != std::string::npos);
}

TEST_CASE("durations: units, bare seconds, bounds; and back to text") {
  CHECK(*parse_duration("90") == 90s);
  CHECK(*parse_duration("1h30m") == 5400s);
  CHECK(*parse_duration("2m5s") == 125s);
  CHECK_FALSE(parse_duration("").ok());
  CHECK_FALSE(parse_duration("1m30").ok());
  CHECK_FALSE(parse_duration("0s").ok());
  CHECK_FALSE(parse_duration("25h").ok());
  CHECK_FALSE(parse_duration("5d").ok());
  CHECK_FALSE(parse_duration("99999999999999h").ok());
  CHECK(format_duration(45s) == "45s");
  CHECK(format_duration(270s) == "4m30s");
  CHECK(format_duration(7320s) == "2h2m");
  for (auto d : {1s, 59s, 61s, 3599s, 3600s}) CHECK(parse_duration(format_duration(d)).ok());
}

TEST_CASE("help lists every visible command and each command's own flags") {
  const std::string overview = help_text("");
  for (const auto& c : commands()) {
    CAPTURE(c.name);
    CHECK((overview.find(std::string("  ") + c.name + " ") != std::string::npos) == !c.hidden);
    if (c.hidden) continue;
    const std::string own = help_text(c.name);
    CHECK(own.find(std::string("kubectl stillontime ") + c.name) != std::string::npos);
    for (const char* f : c.flags) CHECK(own.find(f) != std::string::npos);
    CHECK(own.find("--namespace") != std::string::npos);
  }
  CHECK(overview.find("Exit codes") != std::string::npos);
}

TEST_CASE("names: DNS-1123 subdomains for resources, labels for namespaces") {
  CHECK(valid_resource_name("stillontime"));
  CHECK(valid_resource_name("a.b-c"));
  CHECK_FALSE(valid_resource_name("-a"));
  CHECK_FALSE(valid_resource_name("a/b"));
  CHECK_FALSE(valid_resource_name(std::string(254, 'a')));
  CHECK(valid_namespace("stillontime-staging"));
  CHECK_FALSE(valid_namespace("a.b"));
  CHECK_FALSE(valid_namespace(std::string(64, 'a')));
}
