#include <iostream>

#include "cli/commands.hpp"
#include "cli/error_line.hpp"
#include "cli/heap.hpp"
#include "cli/options.hpp"

namespace {

// One case per Command::Kind; -Wswitch names a kind left out.
int run(const netacct::Command& cmd) {
  using Kind = netacct::Command::Kind;
  switch (cmd.kind) {
    case Kind::report:
      return netacct::run_report(cmd);
    case Kind::top:
      return netacct::run_top(cmd);
    case Kind::serve:
      return netacct::run_serve(cmd);
    case Kind::doctor:
      return netacct::run_doctor(cmd);
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  netacct::keep_freed_memory();  // only a cost if refused: no message
  auto parsed = netacct::parse_command_line(argc, argv);
  std::cout << parsed.out;
  std::cerr << parsed.err;
  if (!parsed.command) return parsed.exit_code;
  try {
    return run(*parsed.command);
  } catch (const std::exception& e) {
    std::cerr << netacct::error_line(e.what());
  }
  return 1;
}
