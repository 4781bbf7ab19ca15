// A test-only front end to render_command, so the schema test does not depend
// on how main.cpp wires its subcommands: `stillontime_render_tool -f X --api-versions latest`.
#include <iostream>
#include <string>
#include <vector>

#include "stillontime/render.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return sot::stillontime::render_command(args, std::cout, std::cerr);
}
