// What kubectl-stillontime makes of what the cluster hands it: the resource
// and its children (status document, text, tree, drift from managedFields,
// rollback's choice from versionHistory, report's redaction), the listing pod's
// termination message, log lines, and a command line with its completion. A
// hostile or broken object must end in a message, never in a crash.
//
// Input: parts separated by lines "---". Part 1 is the resource (JSON), every
// other part that parses as JSON is a child or pod; the whole text is also read
// as a backup listing and as log lines, and its first line as a command line.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "plugin/backups.h"
#include "plugin/cli.h"
#include "plugin/completion.h"
#include "plugin/history.h"
#include "plugin/ownership.h"
#include "plugin/redact.h"
#include "plugin/status_view.h"

using namespace sot::plugin;
using nlohmann::json;

namespace {

class NoCluster final : public CompletionSource {
 public:
  std::vector<std::string> resources(const std::string&) override { return {"app"}; }
  std::vector<std::string> namespaces() override { return {"default"}; }
  std::vector<std::string> versions(const std::string&, const std::string&) override { return {"1.0.0"}; }
  std::vector<std::string> backups(const std::string&, const std::string&) override { return {"latest"}; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<json> parts;
  for (std::size_t start = 0;;) {
    const std::size_t sep = text.find("\n---\n", start);
    const json j =
        json::parse(text.substr(start, sep == std::string::npos ? std::string::npos : sep - start), nullptr, false);
    if (!j.is_discarded()) parts.push_back(j);
    if (sep == std::string::npos) break;
    start = sep + 5;
  }
  if (!parts.empty()) {
    ClusterSnapshot snap;
    snap.resource = parts[0];
    for (std::size_t i = 1; i < parts.size(); ++i) {
      (parts[i].is_object() && parts[i].value("kind", json()) == "Pod" ? snap.pods : snap.children).push_back(parts[i]);
    }
    const json doc = status_document(snap, 1715738400);
    (void)render_status(doc, 1715738400);
    const json& status = parts[0].is_object() && parts[0].contains("status") ? parts[0]["status"] : json();
    const json history = status.is_object() && status.contains("versionHistory") ? status["versionHistory"] : json();
    (void)choose_rollback(history, "1.0.0", "");
    (void)choose_rollback(history, "1.0.0", "0.9.0");
    for (const auto& p : parts) {
      (void)redact_object(p);
      (void)blocking_owner(owners_of(p, {"spec", "version"}), kFieldManager);
      (void)foreign_fields(p, expected_managers());
    }
  }
  if (auto listing = parse_backup_listing(text); listing.ok()) {
    (void)find_backup(*listing, "latest");
    (void)find_backup(*listing, "stillontime-20240515T020012Z.dump");
  }
  (void)dump_size_from_log(text);
  std::istringstream lines(text);
  std::string line, first;
  bool have_first = false;
  while (std::getline(lines, line)) {
    (void)redact_log_line(line);
    if (!have_first) {
      first = line;
      have_first = true;
    }
  }
  std::vector<std::string> words;
  std::istringstream ws(first);
  for (std::string w; ws >> w && words.size() < 64;) words.push_back(w);
  (void)parse_args(words);
  NoCluster source;
  (void)complete(words, source);
  return 0;
}
