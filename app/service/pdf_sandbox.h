// Why: PDF text extraction is the one request whose cost does not follow its size: 36 KB with 200
// pages sharing one stream cost 7 s of CPU, 7 KB with millions of glyphs 436 MB that the allocator
// kept. So it runs in a child process (the stillontime-pdf-text helper) with RLIMIT_CPU, RLIMIT_AS,
// a wall-clock deadline and a cap on the text it may return; a PDF over any limit is a 422 and
// costs the server nothing after the child is gone. At most `concurrency` children run at once, so
// imports can never hold every HTTP worker; beyond that the import is refused with 503 at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"
#include "core/sanitizer.h"

namespace sot {

// Sanitizer runtimes reserve terabytes of address space, so RLIMIT_AS cannot apply to a sanitizer
// build of the helper; there the memory limit is not set (CPU, time and text limits still are).
inline constexpr bool kAddressSpaceLimitApplies = STILLONTIME_SANITIZER_BUILD == 0;

struct PdfSandboxOptions {
  std::string helper_path;  // the stillontime-pdf-text binary
  int cpu_seconds = 5;
  std::size_t memory_bytes = 192u * 1024 * 1024;  // address space of the child
  std::chrono::milliseconds timeout{10000};       // wall clock, covers a child that sleeps or blocks
  std::size_t max_text_bytes = 1024 * 1024;
  int concurrency = 2;
};

class PdfSandbox {
 public:
  explicit PdfSandbox(PdfSandboxOptions options) : options_(std::move(options)) {}

  // The text of the PDF; kUnprocessable (422) when the PDF is unusable or over a limit, the message
  // saying which; kUnavailable (503) when every extraction slot is taken; kInternal when the helper
  // cannot be started.
  [[nodiscard]] Result<std::string> extract(std::string_view pdf);
  int in_progress() const { return busy_.load(); }
  const PdfSandboxOptions& options() const { return options_; }

  // The helper beside the running server binary (same directory), for when no path is configured.
  static std::string default_helper_path();

 private:
  PdfSandboxOptions options_;
  std::atomic<int> busy_{0};
};

}  // namespace sot
