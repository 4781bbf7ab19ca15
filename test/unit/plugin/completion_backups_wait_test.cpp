#include <set>
#include <sstream>

#include <doctest/doctest.h>

#include "plugin/backups.h"
#include "plugin/completion.h"
#include "plugin/wait.h"
#include "stillontime/defaults.h"
#include "stillontime/spec.h"

using namespace sot::plugin;
using nlohmann::json;

namespace {

// Records what completion asked for; answers from fixed lists.
class FakeSource final : public CompletionSource {
 public:
  std::vector<std::string> asked;
  std::vector<std::string> resources(const std::string& ns) override {
    asked.push_back("resources " + ns);
    return ns == "prod" ? std::vector<std::string>{"stillontime"} : std::vector<std::string>{"app", "api", "other"};
  }
  std::vector<std::string> namespaces() override { return {"default", "prod", "staging"}; }
  std::vector<std::string> versions(const std::string& ns, const std::string& name) override {
    asked.push_back("versions " + ns + " " + name);
    return {"1.1.0", "1.0.0"};
  }
  std::vector<std::string> backups(const std::string& ns, const std::string& name) override {
    asked.push_back("backups " + ns + " " + name);
    return {"latest", "stillontime-20240515T020012Z.dump"};
  }
};

std::vector<std::string> values(const std::string& output) {
  std::vector<std::string> out;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) out.push_back(line.substr(0, line.find('\t')));
  return out;
}

sot::stillontime::StillOnTime resource() {
  auto parsed = sot::stillontime::parse(
      {{"apiVersion", "stillontime.app/v1alpha1"},
       {"kind", "StillOnTime"},
       {"metadata", {{"name", "app"}, {"namespace", "ns1"}}},
       {"spec", {{"environment", "production"}, {"version", "1.0.0"}, {"targetNamespace", "prod"}}}});
  REQUIRE(parsed.ok());
  return sot::stillontime::apply_defaults(parsed.resource);
}

json cr_with(json status, json spec = {{"version", "1.1.0"}}, int generation = 4) {
  return {{"metadata", {{"generation", generation}}}, {"spec", spec}, {"status", status}};
}

json cond(const std::string& type, const std::string& status, const std::string& reason, int gen = 4) {
  return {{"type", type},
          {"status", status},
          {"reason", reason},
          {"message", reason + " message"},
          {"observedGeneration", gen}};
}

}  // namespace

TEST_CASE("completion: commands, then names from the namespace on the line, then flags and their values") {
  FakeSource src;
  CHECK(values(complete({"st"}, src)) == std::vector<std::string>{"status", ":4"});
  CHECK(complete({""}, src).find("deploy\tset spec.version") != std::string::npos);
  CHECK(complete({""}, src).find("__complete") == std::string::npos);
  CHECK(values(complete({"status", "a"}, src)) == std::vector<std::string>{"app", "api", ":4"});
  CHECK(values(complete({"-n", "prod", "status", ""}, src)) == std::vector<std::string>{"stillontime", ":4"});
  CHECK(values(complete({"status", "--namespace=prod", ""}, src)) == std::vector<std::string>{"stillontime", ":4"});
  CHECK(src.asked.back() == "resources prod");
  // The name is given: no more names.
  CHECK(values(complete({"status", "app", ""}, src)) == std::vector<std::string>{":4"});
  CHECK(values(complete({"status", "app", "-o", ""}, src)) == std::vector<std::string>{"text", "json", "yaml", ":4"});
  CHECK(values(complete({"health", "app", "-o", "j"}, src)) == std::vector<std::string>{"json", ":4"});
  CHECK(values(complete({"rollback", "app", "-n", "prod", "--to", ""}, src)) ==
        std::vector<std::string>{"1.1.0", "1.0.0", ":4"});
  CHECK(src.asked.back() == "versions prod app");
  CHECK(values(complete({"restore", "app", "--from", "st"}, src)) ==
        std::vector<std::string>{"stillontime-20240515T020012Z.dump", ":4"});
  CHECK(values(complete({"restore", "app", "--from=la"}, src)) == std::vector<std::string>{"--from=latest", ":4"});
  CHECK(values(complete({"status", "app", "-n", "st"}, src)) == std::vector<std::string>{"staging", ":4"});
  // Files for --kubeconfig and --file: the shell's own completion.
  CHECK(complete({"--kubeconfig", ""}, src) == ":0\n");
  CHECK(complete({"report", "app", "-f", ""}, src) == ":0\n");
  const auto flags = values(complete({"deploy", "app", "--"}, src));
  for (const char* f : {"--version", "--wait", "--timeout", "--force", "--namespace", "--kubeconfig"}) {
    CHECK(std::find(flags.begin(), flags.end(), f) != flags.end());
  }
  CHECK(std::find(flags.begin(), flags.end(), "--from") == flags.end());
  CHECK(values(complete({"completion", ""}, src)) == std::vector<std::string>{"bash", "zsh", ":4"});
  CHECK(values(complete({}, src)).size() > 10);
}

TEST_CASE("completion scripts call back into the binary with __complete") {
  for (const char* shell : {"bash", "zsh"}) {
    const std::string script = completion_script(shell);
    CAPTURE(shell);
    CHECK(script.find("__complete") != std::string::npos);
    CHECK(script.find("kubectl-stillontime") != std::string::npos);
  }
  CHECK(completion_script("bash").find("complete -o default -F _kubectl_stillontime kubectl-stillontime") !=
        std::string::npos);
  CHECK(completion_script("zsh").rfind("#compdef kubectl-stillontime", 0) == 0);
  CHECK(completion_script("fish").empty());
}

TEST_CASE("the listing pod: the backup pod's image and security, the volume read-only, nothing else") {
  const json pod = backup_list_pod(resource());
  CHECK(pod["metadata"]["generateName"] == "app-backup-list-");
  CHECK(pod["metadata"]["namespace"] == "prod");
  CHECK(pod["metadata"]["labels"]["app.kubernetes.io/component"] == kListComponent);
  CHECK(pod["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kubectl-stillontime");
  CHECK_FALSE(pod["metadata"]["labels"].contains("stillontime.app/owner"));  // not a child the operator prunes
  const json& spec = pod["spec"];
  CHECK(spec["restartPolicy"] == "Never");
  CHECK(spec["automountServiceAccountToken"] == false);
  CHECK(spec["securityContext"]["runAsNonRoot"] == true);
  CHECK_FALSE(spec.contains("initContainers"));
  REQUIRE(spec["containers"].size() == 1);
  const json& c = spec["containers"][0];
  CHECK(c["image"] == "postgres:16");
  CHECK_FALSE(c.contains("env"));  // no credentials
  CHECK(c["securityContext"]["readOnlyRootFilesystem"] == true);
  CHECK(c["securityContext"]["allowPrivilegeEscalation"] == false);
  REQUIRE(c["volumeMounts"].size() == 1);
  CHECK(c["volumeMounts"][0]["readOnly"] == true);
  REQUIRE(spec["volumes"].size() == 1);
  CHECK(spec["volumes"][0]["persistentVolumeClaim"]["claimName"] == "app-backups");
  CHECK(c["command"][2].get<std::string>().find("/dev/termination-log") != std::string::npos);
}

TEST_CASE("the listing: newest first, hostile lines skipped, latest as restore.sh picks it") {
  auto l = parse_backup_listing(
      "total 5\n"
      "1715738412.0512345678 1048576 stillontime-20240515T020012Z.dump\n"
      "1715738500.1 2048 pre-restore-20240515T021000Z.dump\n"
      "1715652000 999 stillontime-20240514T020000Z.dump\n"
      "1715652000 12 ../../etc/passwd.dump\n"
      "17156520xx 12 stillontime-bad.dump\n"
      "1715652000 12 stillontime-20240513T0200");  // cut by the 4096-byte limit
  REQUIRE(l.ok());
  CHECK(l->total == 5);
  REQUIRE(l->files.size() == 3);
  CHECK(l->files[0] == BackupFile{"stillontime-20240515T020012Z.dump", 1048576, 1715738412});
  auto latest = find_backup(*l, "latest");
  REQUIRE(latest.ok());
  CHECK(latest->name == "stillontime-20240515T020012Z.dump");  // not the newer pre-restore safety dump
  CHECK(find_backup(*l, "pre-restore-20240515T021000Z.dump").ok());
  auto missing = find_backup(*l, "stillontime-20200101T000000Z.dump");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("it holds: stillontime-20240515T020012Z.dump, pre-restore") != std::string::npos);
  CHECK(missing.error().message.find("(the newest 3 of 5)") != std::string::npos);
  auto empty = parse_backup_listing("total 0\n");
  REQUIRE(empty.ok());
  CHECK(find_backup(*empty, "latest").error().message.find("backup NAME --wait") != std::string::npos);
  CHECK_FALSE(parse_backup_listing("").ok());
  CHECK_FALSE(parse_backup_listing("total many\n").ok());
  CHECK(human_size(512) == "512 B");
  CHECK(human_size(1536) == "1.5 KiB");
  CHECK(human_size(5LL * 1024 * 1024 * 1024) == "5.0 GiB");
}

TEST_CASE("rollout judge: observed generation first, then stalled, then Ready at the version") {
  CHECK(judge_rollout(cr_with({{"observedGeneration", 3}}), 4, "1.1.0").verdict == Verdict::kWaiting);
  auto stalled = judge_rollout(
      cr_with({{"observedGeneration", 4}, {"conditions", {cond("Stalled", "True", "InvalidSpec")}}}), 4, "1.1.0");
  CHECK(stalled.verdict == Verdict::kFailed);
  CHECK(stalled.line.find("InvalidSpec") != std::string::npos);
  // A Stalled left over from an older generation does not count.
  CHECK(judge_rollout(cr_with({{"observedGeneration", 4}, {"conditions", {cond("Stalled", "True", "Old", 3)}}}), 4,
                      "1.1.0")
            .verdict == Verdict::kWaiting);
  // Ready=True while still applying (phase Progressing) is not done yet.
  json progressing = {{"observedGeneration", 4},
                      {"phase", "Progressing"},
                      {"version", "1.1.0"},
                      {"conditions", {cond("Ready", "True", "AllComponentsReady")}}};
  CHECK(judge_rollout(cr_with(progressing), 4, "1.1.0").verdict == Verdict::kWaiting);
  progressing["phase"] = "Ready";
  auto done = judge_rollout(cr_with(progressing), 4, "1.1.0");
  CHECK(done.verdict == Verdict::kDone);
  CHECK(done.line.find("1.1.0 is Ready") == 0);
  auto paused = judge_rollout(cr_with(progressing, {{"version", "1.1.0"}, {"paused", true}}), 4, "1.1.0");
  CHECK(paused.verdict == Verdict::kFailed);
  CHECK(paused.line.find("resume") != std::string::npos);
  auto moved = judge_rollout(cr_with(progressing, {{"version", "2.0.0"}}), 4, "1.1.0");
  CHECK(moved.verdict == Verdict::kFailed);
  CHECK(moved.line.find("changed to 2.0.0") != std::string::npos);
}

TEST_CASE("backup, restore and pause judges") {
  CHECK(judge_backup_request(cr_with({{"backup", {{"lastRequest", {{"id", "old"}}}}}}), "new").verdict ==
        Verdict::kWaiting);
  auto ok = judge_backup_request(
      cr_with({{"backup",
                {{"lastBackup", "f.dump"}, {"lastRequest", {{"id", "new"}, {"phase", "Succeeded"}, {"job", "j"}}}}}}),
      "new");
  CHECK(ok.verdict == Verdict::kDone);
  CHECK(ok.line.find("f.dump") != std::string::npos);
  auto failed = judge_backup_request(
      cr_with({{"backup",
                {{"lastRequest", {{"id", "new"}, {"phase", "Failed"}, {"job", "j"}, {"message", "pg_dump failed"}}}}}}),
      "new");
  CHECK(failed.verdict == Verdict::kFailed);
  CHECK(failed.line.find("kubectl logs job/j") != std::string::npos);
  CHECK(judge_backup_request(cr_with({{"backup", {{"lastRequest", {{"id", "new"}, {"phase", "Skipped"}}}}}}), "new")
            .verdict == Verdict::kFailed);

  CHECK(judge_restore(cr_with({{"restore", {{"id", "r1"}, {"phase", "ScalingDown"}}}}), "r1").verdict ==
        Verdict::kWaiting);
  CHECK(judge_restore(cr_with({{"restore", {{"id", "r1"}, {"phase", "Succeeded"}}}}), "r1").verdict == Verdict::kDone);
  auto rf = judge_restore(
      cr_with({{"restore", {{"id", "r1"}, {"phase", "Failed"}, {"message", "see logs; remove spec.restore"}}}}), "r1");
  CHECK(rf.verdict == Verdict::kFailed);
  CHECK(rf.line.find("remove spec.restore") != std::string::npos);
  CHECK(judge_restore(cr_with({{"restore", {{"id", "r0"}, {"phase", "Succeeded"}}}}), "r1").verdict ==
        Verdict::kWaiting);

  CHECK(judge_paused(cr_with({{"observedGeneration", 3}, {"phase", "Paused"}}), 4, true).verdict == Verdict::kWaiting);
  CHECK(judge_paused(cr_with({{"observedGeneration", 4}, {"phase", "Paused"}}), 4, true).verdict == Verdict::kDone);
  CHECK(judge_paused(cr_with({{"observedGeneration", 4}, {"phase", "Progressing"}}), 4, false).verdict ==
        Verdict::kDone);
}
