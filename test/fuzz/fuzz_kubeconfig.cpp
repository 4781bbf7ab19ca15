// Kubeconfig parsing (operator/kube/config): YAML from --kubeconfig,
// $KUBECONFIG or ~/.kube/config, with inline base64 certificates and keys.
// Any text must give a config or an error naming the field, never a crash;
// the PEM material that parses is then checked as the client would check it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "common/base64.h"
#include "kube/config.h"

using namespace sot::kube;

namespace {
struct EmptyDir {
  std::string path;
  EmptyDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "stillontime-fuzz-kubeconfig.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path = tmpl;
  }
  ~EmptyDir() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  // File references are resolved against an empty directory. Device and
  // kernel files are not kubeconfig material: reading /dev/zero never ends.
  for (const char* special : {"/dev", "/proc", "/sys"}) {
    if (text.find(special) != std::string::npos) return 0;
  }
  // An empty directory of this process's own (mkdtemp: 0700, a fresh name), so
  // nothing another run or user puts in a shared path can answer a reference.
  static const EmptyDir base;
  const std::string& base_dir = base.path;

  (void)sot::common::base64_decode_lenient(text);
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
