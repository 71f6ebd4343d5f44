// The run side of the subcommand table (cli/options.cpp lists the
// subcommands and their options; main runs each Command::Kind).
#pragma once
#include "cli/options.hpp"

namespace netacct {

// Exit codes: 0 done, 1 cannot run here (privileges, kernel), 2 usage.
int run_report(const Command& cmd);
int run_top(const Command& cmd);
int run_serve(const Command& cmd);
int run_doctor(const Command& cmd);

}  // namespace netacct
