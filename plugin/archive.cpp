#include "plugin/archive.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include <zlib.h>

#include "common/digest.h"

namespace sot::plugin {
namespace {

constexpr std::size_t kBlock = 512;

void put_octal(char* field, std::size_t width, std::uint64_t value) {
  // width-1 octal digits, zero-padded, and a NUL, as ustar wants. Sizes stay
  // under 1 GiB (finish() refuses more) and times under 2^33 s, so they fit.
  field[width - 1] = '\0';
  for (std::size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
}

void put_string(char* field, std::size_t width, std::string_view s) {
  std::memcpy(field, s.data(), std::min(width, s.size()));
}

// Splits `path` into ustar prefix (<= 155) and name (<= 100) at a '/'.
bool split(const std::string& path, std::string& prefix, std::string& name) {
  if (path.size() <= 100) {
    prefix.clear();
    name = path;
    return true;
  }
  for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (slash <= 155 && path.size() - slash - 1 <= 100 && slash > 0) {
      prefix = path.substr(0, slash);
      name = path.substr(slash + 1);
      return true;
    }
  }
  return false;
}

}  // namespace

std::string ustar_safe_path(std::string_view path_in) {
  std::string path(path_in);
  std::string prefix, name;
  if (split(path, prefix, name)) return path;
  // Keep the directory when it fits, and a recognisable start of the name
  // with a hash of the whole path: unique and stable.
  const auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : path.substr(0, slash);
  if (dir.size() > 155) dir = dir.substr(0, 140) + "-" + common::sha256_hex(dir).substr(0, 12);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string hash = common::sha256_hex(path).substr(0, 12);
  const auto dot = base.rfind('.');
  const std::string ext = dot != std::string::npos && base.size() - dot <= 8 ? base.substr(dot) : "";
  std::string shortened = base.substr(0, 100 - 1 - hash.size() - ext.size()) + "-" + hash + ext;
  return dir.empty() ? shortened : dir + "/" + shortened;
}

void TarGzWriter::add_entry(const std::string& path, std::string_view content, std::int64_t mtime, unsigned mode,
                            char type) {
  std::string prefix, name;
  split(path, prefix, name);
  char header[kBlock];
  std::memset(header, 0, sizeof header);
  put_string(header, 100, name);
  put_octal(header + 100, 8, mode);
  put_octal(header + 108, 8, 0);  // uid
  put_octal(header + 116, 8, 0);  // gid
  put_octal(header + 124, 12, content.size());
  put_octal(header + 136, 12, static_cast<std::uint64_t>(std::max<std::int64_t>(mtime, 0)));
  std::memset(header + 148, ' ', 8);  // the checksum counts itself as spaces
  header[156] = type;
  put_string(header + 257, 6, "ustar");  // "ustar\0"
  put_string(header + 263, 2, "00");
  put_string(header + 265, 32, "root");
  put_string(header + 297, 32, "root");
  put_string(header + 345, 155, prefix);
  unsigned sum = 0;
  for (unsigned char c : header) sum += c;
  std::snprintf(header + 148, 8, "%06o", sum);  // six digits, NUL, and the space left from above
  header[155] = ' ';
  tar_.append(header, kBlock);
  tar_.append(content.data(), content.size());
  tar_.append((kBlock - content.size() % kBlock) % kBlock, '\0');
}

void TarGzWriter::add_file(std::string_view path_in, std::string_view content, std::int64_t mtime, unsigned mode) {
  std::string path = ustar_safe_path(path_in);
  // Two inputs that shorten alike (or repeat) still get two entries.
  for (int n = 2; names_.count(path) > 0; ++n) path = ustar_safe_path(std::string(path_in) + "~" + std::to_string(n));
  names_.insert(path);
  for (std::size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    const std::string dir = path.substr(0, slash + 1);
    if (dirs_.insert(dir).second) add_entry(ustar_safe_path(dir), {}, mtime, 0755, '5');
  }
  add_entry(path, content, mtime, mode, '0');
}

kube::Result<std::string> TarGzWriter::finish() {
  std::string tar = tar_;
  tar.append(2 * kBlock, '\0');  // end of archive
  if (tar.size() > (1u << 30))
    return kube::make_error(kube::Code::kInvalid, "report over 1 GiB: use --log-lines to cut it");
  z_stream zs{};
  // 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return kube::make_error(kube::Code::kInternal, "zlib: deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, static_cast<uLong>(tar.size())) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(tar.data());
  zs.avail_in = static_cast<uInt>(tar.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const std::size_t written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return kube::make_error(kube::Code::kInternal, "zlib: deflate did not finish");
  out.resize(written);
  return out;
}

}  // namespace sot::plugin
