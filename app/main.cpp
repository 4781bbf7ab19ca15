// stillontime-server: the StillOnTime backend. Configuration comes only from the environment
// (see docs/server.md); everything is wired in sot::run_server.
#include "service/server_main.h"

int main() {
  return sot::run_server(sot::process_env());
}
