// Kubeconfig parsing (operator/kube/config): YAML from --kubeconfig,
// $KUBECONFIG or ~/.kube/config, with inline base64 certificates and keys.
// Any text must give a config or an error naming the field, never a crash;
// the PEM material that parses is then checked as the client would check it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "kube/config.h"

using namespace sot::kube;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // File references are resolved against an empty directory. Device and
  // kernel files are not kubeconfig material: reading /dev/zero never ends.
  for (const char* special : {"/dev", "/proc", "/sys"}) {
    if (text.find(special) != std::string::npos) return 0;
  }
  static const std::string base_dir = [] {
    auto dir = std::filesystem::temp_directory_path() / "stillontime-fuzz-kubeconfig";
    std::filesystem::create_directories(dir);
    return dir.string();
  }();

  (void)base64_decode(text);
  for (const std::string context : {"", "other"}) {
    auto cfg = parse_kubeconfig(text, base_dir, "fuzz", context);
    if (!cfg.ok()) {
      if (cfg.error().message.empty()) std::abort();
      continue;
    }
    (void)validate_tls_material(*cfg);
  }
  return 0;
}
