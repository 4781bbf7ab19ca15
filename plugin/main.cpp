// kubectl-stillontime: day-2 operations on StillOnTime resources as a kubectl
// plugin (`kubectl stillontime ...`). main() only hands the command line to run().
#include <iostream>
#include <string>
#include <vector>

#include "plugin/commands.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return sot::plugin::run(args, std::cout, std::cerr);
}
