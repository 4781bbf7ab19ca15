// Why: the composition root, kept out of main.cpp so main stays one line and tests can read how
// the pieces are wired. Returns the process exit code.
#pragma once

#include "core/config.h"

namespace sot {

// 0 after a clean SIGTERM/SIGINT drain, 1 on a fatal runtime error, 2 on bad configuration.
int run_server(const EnvLookup& env);

}  // namespace sot
