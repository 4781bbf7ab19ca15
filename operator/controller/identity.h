// How the operator names itself to the generic layers. kube/ and runtime/ name
// no product: the field manager of every write, the source of Events, the
// Lease, the User-Agent and the words the informer cache compresses with all
// come from here, through the manager's options and the runtime's set-up calls
// that main() makes.
#pragma once

#include <string>

#include "runtime/manager.h"

namespace sot::stillontime {

// "stillontime-operator/<version>".
std::string operator_user_agent();

// The strings the operator's cached objects repeat beyond Kubernetes' own: the
// API group and kind, the owner label and checksum annotation, the contract
// labels' values and the component names.
std::string cache_vocabulary();

// Gives the manager the operator's name (field manager, Event source, Lease
// name) and User-Agent, and the cache its vocabulary. Call before
// Manager::create and before anything is cached.
void configure_runtime(runtime::ManagerOptions& options);

}  // namespace sot::stillontime
