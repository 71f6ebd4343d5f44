#include <iostream>

#include "cli/commands.hpp"
#include "cli/options.hpp"

int main(int argc, char** argv) {
  auto parsed = netacct::parse_command_line(argc, argv);
  std::cout << parsed.out;
  std::cerr << parsed.err;
  if (!parsed.command) return parsed.exit_code;
  try {
    switch (parsed.command->kind) {
      case netacct::Command::Kind::report:
        return netacct::run_report(*parsed.command);
      case netacct::Command::Kind::top:
        return netacct::run_top(*parsed.command);
      case netacct::Command::Kind::doctor:
        return netacct::run_doctor(*parsed.command);
    }
  } catch (const std::exception& e) {
    std::cerr << "netacct: " << e.what() << "\n";
  }
  return 1;
}
