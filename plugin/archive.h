// A .tar.gz written in memory: POSIX ustar entries (regular files, and the
// directories they need) compressed with zlib's gzip framing. Enough for
// `report`; read back by GNU tar, bsdtar and Python's tarfile. No library
// outside the tree's dependencies (zlib is already the runtime's).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "kube/result.h"

namespace sot::plugin {

class TarGzWriter {
 public:
  // `path` is relative ("children/deployment/app-backend.yaml"); names the
  // ustar header cannot hold (over 255 bytes, or a last part over 100) are
  // shortened, keeping them unique. `mtime`: seconds since the epoch.
  void add_file(std::string_view path, std::string_view content, std::int64_t mtime, unsigned mode = 0644);
  // The compressed archive; an Error only when zlib fails.
  kube::Result<std::string> finish();

 private:
  void add_entry(const std::string& path, std::string_view content, std::int64_t mtime, unsigned mode, char type);
  std::string tar_;
  std::set<std::string> dirs_;
  std::set<std::string> names_;
};

// The header's name and prefix for `path`, or the shortened path when it does not fit.
std::string ustar_safe_path(std::string_view path);

}  // namespace sot::plugin
