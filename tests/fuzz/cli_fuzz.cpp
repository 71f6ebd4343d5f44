// The whole command line through the real option parser: arguments are the
// input split at NUL bytes, after "netacct". Whatever the arguments, the
// parser returns a command, or text and exit code 0 (--help, --version), or
// a usage error (exit 2) of one "netacct: ..." message; it never throws.
#include <string>
#include <vector>

#include "check.hpp"
#include "cli/options.hpp"

namespace {

using netacct::fuzz::check;

std::vector<std::string> split_args(std::string_view in) {
  std::vector<std::string> args{"netacct"};
  while (!in.empty() && args.size() < 64) {
    auto nul = in.find('\0');
    args.emplace_back(in.substr(0, nul));
    in.remove_prefix(nul == std::string_view::npos ? in.size() : nul + 1);
  }
  return args;
}

// A selected cgroup matches itself and what is below it, never a sibling
// that merely shares its prefix.
void check_selection(const netacct::Selection& sel) {
  for (const auto& c : sel.cgroups) {
    check(c.starts_with('/'), "a --cgroup path that does not start at the root");
    check(sel.wants_cgroup(&c), "a --cgroup path that does not select itself");
    std::string below = (c == "/" ? "" : c) + "/x";
    check(sel.wants_cgroup(&below), "a --cgroup path that does not select its subtree");
  }
  for (uint32_t pid : sel.pids) check(pid >= 1 && pid <= 4194304, "a --pid out of range");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto args = split_args(netacct::fuzz::text(data, size));
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  netacct::ParseResult r = netacct::parse_command_line(int(argv.size()), argv.data());
  if (r.command) {
    check(r.exit_code == 0 && r.err.empty(), "a command with an error");
    check(r.command->report.interval_s > 0 && r.command->top.delay_s > 0, "an interval of no time");
    check_selection(r.command->selection);
  } else if (r.exit_code == 0) {
    check(!r.out.empty() && r.err.empty(), "help or version without text");
  } else {
    check(r.exit_code == 2, "a usage error whose exit code is not 2");
    check(r.err.starts_with("netacct: ") && r.err.ends_with("\n"),
          "a usage error that is not one netacct: line");
  }
  return 0;
}
