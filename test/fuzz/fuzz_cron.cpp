// The operator's cron parser (operator/stillontime/cron): spec.backup.schedule is
// user text, and BackupHealthy asks it for previous and next fire times on
// every reconcile. Whatever the text, parse_cron() and check_cron() must agree,
// and a parsed schedule must have fire times that bracket the instant asked about.
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
  if (schedule.ok() != accepted) std::abort();
  if (!schedule) return 0;
  // A schedule that parses fires within every 400-year cycle, so both exist.
  const auto prev = previous_fire(*schedule, t);
  const auto next = next_fire(*schedule, t);
  if (!prev || !next) std::abort();
  if (*prev > t || *next <= t) std::abort();
  if (next_fire(*schedule, *prev) != next) std::abort();
  return 0;
}
