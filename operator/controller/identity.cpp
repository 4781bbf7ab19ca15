// The operator's identity for the generic layers (see identity.h).
#include "controller/identity.h"

#include "runtime/compact.h"
#include "stillontime/builders/common.h"
#include "stillontime/spec.h"

namespace sot::stillontime {

std::string operator_user_agent() {
  return std::string(kManagedBy) + "/" STILLONTIME_VERSION;
}

std::string cache_vocabulary() {
  std::string words;
  for (const char* w : {kApiVersion, kKind, kChecksumAnnotation, kGeneratedAnnotation, kLabelOwner, kAppName, kBackend,
                        kFrontend, kPostgres, kRedis, kManagedBy}) {
    words += w;
  }
  return words;
}

void configure_runtime(runtime::ManagerOptions& options) {
  options.name = kManagedBy;
  options.user_agent = operator_user_agent();
  runtime::set_compression_vocabulary(cache_vocabulary());
}

}  // namespace sot::stillontime
