// The operator's cron parser (operator/stillontime/cron): spec.backup.schedule is
// user text, and BackupHealthy asks it for previous and next fire times on
// every reconcile. Whatever the text, parse_cron() and check_cron() must agree,
// and a parsed schedule's fire times must bracket the instant asked about.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "stillontime/cron.h"
#include "stillontime/validate.h"

using namespace sot::stillontime;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The first 4 bytes pick the instant (within 2000..2100), the rest is the schedule.
  std::uint32_t seed = 0;
  if (size >= 4) {
    std::memcpy(&seed, data, 4);
    data += 4;
    size -= 4;
  }
  const std::int64_t t = 946684800 + static_cast<std::int64_t>(seed % 3155760000u);
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto schedule = parse_cron(text);
  const bool accepted = check_cron(text).empty();
  if (schedule.has_value() != accepted) std::abort();
  if (!schedule) return 0;
  if (auto prev = previous_fire(*schedule, t)) {
    if (*prev > t) std::abort();
    if (auto next = next_fire(*schedule, *prev)) {
      if (*next <= *prev) std::abort();
    }
  }
  if (auto next = next_fire(*schedule, t)) {
    if (*next <= t) std::abort();
  }
  return 0;
}
