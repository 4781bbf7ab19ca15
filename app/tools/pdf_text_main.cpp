// stillontime-pdf-text: reads one PDF on stdin and writes its text on stdout. The server runs it
// as a child process under CPU, memory and time limits (service/pdf_sandbox.cpp) so a hostile PDF
// costs one child, never the server's workers or memory. Exit codes: 0 text written, 3 the PDF is
// unusable (reason on stderr), 4 out of memory, 2 bad usage. --memory-bytes sets its own RLIMIT_AS
// first thing, after the dynamic loader is done.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <sys/resource.h>

#include "core/sanitizer.h"
#include "domain/pdf_text.h"

#if STILLONTIME_SANITIZER_BUILD
// The exit status carries the verdict; a leak report at exit (poppler's caches) would change it.
extern "C" const char* __asan_default_options() {
  return "detect_leaks=0";
}
#endif

int main(int argc, char** argv) {
  std::size_t max_text = 1024 * 1024;
  std::size_t max_input = 64 * 1024 * 1024;
  std::size_t max_memory = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--max-text-bytes") == 0)
      max_text = std::strtoull(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--max-input-bytes") == 0)
      max_input = std::strtoull(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--memory-bytes") == 0)
      max_memory = std::strtoull(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: stillontime-pdf-text [--max-text-bytes N] [--max-input-bytes N] < file.pdf\n");
      return 2;
    }
  }
  if (max_memory > 0) {
    // Address space for everything from here on, libraries included; poppler's allocations past
    // it fail with std::bad_alloc (exit 4) or abort.
    rlimit limit{max_memory, max_memory};
    if (setrlimit(RLIMIT_AS, &limit) != 0) {
      std::fputs("cannot set the memory limit", stderr);
      return 2;
    }
  }
  try {
    std::string pdf;
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
      pdf.append(buf, n);
      if (pdf.size() > max_input) {
        std::fputs("the PDF is too large", stderr);
        return 3;
      }
    }
    auto text = sot::domain::pdf_to_text(pdf, max_text);
    if (!text) {
      std::fputs(text.error().message.c_str(), stderr);
      return 3;
    }
    std::fwrite(text->data(), 1, text->size(), stdout);
    return std::fflush(stdout) == 0 ? 0 : 3;
  } catch (const std::bad_alloc&) {
    std::fputs("out of memory", stderr);
    return 4;
  }
}
