#include "cli/options.hpp"

#include <CLI/CLI.hpp>
#include <map>
#include <sstream>

namespace netacct {
namespace {

const std::map<std::string, Backend> kBackends = {{"auto", Backend::automatic},
                                                  {"tracepoint", Backend::tracepoint},
                                                  {"fentry", Backend::fentry},
                                                  {"kprobe", Backend::kprobe}};

// CLI11's range check prints the whole double range; say it plainly.
const CLI::Validator kPositiveSeconds(
    [](std::string& v) -> std::string {
      try {
        size_t used = 0;
        double d = std::stod(v, &used);
        if (used == v.size() && d > 0 && d <= 86400) return "";
      } catch (const std::exception&) {
      }
      return "must be a number of seconds above 0 and at most 86400, got '" + v + "'";
    },
    "SECONDS");

const CLI::Validator kCount(
    [](std::string& v) -> std::string {
      bool digits = !v.empty() && v.find_first_not_of("0123456789") == std::string::npos;
      return digits ? "" : "must be a whole number of reports (0 = until interrupted), got '" + v + "'";
    },
    "N");

void add_common(CLI::App* app, Command& cmd) {
  app->add_option("--backend", cmd.backend, "Kernel hooks: auto, tracepoint, fentry or kprobe")
      ->transform(CLI::CheckedTransformer(kBackends, CLI::ignore_case))
      ->default_str("auto");
  app->add_flag("-v,--verbose", cmd.verbose, "Show libbpf and verifier messages");
}

void add_report(CLI::App& app, Command& cmd) {
  auto* sub = app.add_subcommand("report", "Print per-process and per-connection bytes per interval");
  auto& o = cmd.report;
  sub->add_option("-i,--interval", o.interval_s, "Seconds per report")->check(kPositiveSeconds)->capture_default_str();
  sub->add_option("-c,--count", o.count, "Number of reports, 0 = until interrupted")
      ->check(kCount)
      ->capture_default_str();
  sub->add_option("-f,--format", o.format, "text, json or csv")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, Format>{{"text", Format::text}, {"json", Format::json}, {"csv", Format::csv}}))
      ->default_str("text");
  sub->add_option("--by", o.by, "Rows per process or per connection (text and csv)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, GroupBy>{{"process", GroupBy::process}, {"connection", GroupBy::connection}}))
      ->default_str("process");
  sub->add_option("-p,--pid", o.pids, "Only this process (repeatable)")->check(CLI::Range(1u, 4194304u, "PID"));
  sub->add_flag("--loopback", o.loopback, "Include loopback traffic (excluded by default)");
  add_common(sub, cmd);
  sub->callback([&cmd] { cmd.kind = Command::Kind::report; });
}

void add_top(CLI::App& app, Command& cmd) {
  auto* sub = app.add_subcommand("top", "Live view of processes, connections and remote hosts by rate");
  auto& o = cmd.top;
  sub->add_option("-d,--delay", o.delay_s, "Seconds between refreshes")->check(kPositiveSeconds)->capture_default_str();
  sub->add_option("-p,--pid", o.pids, "Only this process (repeatable)")->check(CLI::Range(1u, 4194304u, "PID"));
  sub->add_flag("--loopback", o.loopback, "Include loopback traffic (excluded by default)");
  sub->add_option("--sort", o.sort, "sent, recv or total")
      ->check(CLI::IsMember({"sent", "recv", "total"}))
      ->capture_default_str();
  sub->add_option("--view", o.view, "processes, connections or remotes")
      ->check(CLI::IsMember({"processes", "connections", "remotes"}))
      ->capture_default_str();
  sub->add_flag("--resolve", o.resolve, "Reverse DNS for remote addresses (background lookups)");
  sub->add_flag("-b,--batch", o.batch, "Plain-text frames, one per delay (default when stdout is not a terminal)");
  sub->add_option("-n,--count", o.count, "Frames in batch mode, 0 = until interrupted")->check(kCount);
  add_common(sub, cmd);
  sub->callback([&cmd] { cmd.kind = Command::Kind::top; });
}

void add_doctor(CLI::App& app, Command& cmd) {
  auto* sub = app.add_subcommand("doctor", "Show what this kernel supports and which hooks netacct would use");
  sub->add_option("-f,--format", cmd.doctor.json, "text or json")
      ->transform(CLI::CheckedTransformer(std::map<std::string, bool>{{"text", false}, {"json", true}}))
      ->default_str("text");
  add_common(sub, cmd);
  sub->callback([&cmd] { cmd.kind = Command::Kind::doctor; });
}

// CLI11 prints two lines by default; one line says what is wrong and where
// to look.
std::string one_line(const CLI::App* app, const CLI::Error& e) {
  std::string what = e.what();
  std::string name = app->get_parent() ? "netacct " + app->get_name() : "netacct";
  return "netacct: " + what + " (see '" + name + " --help')\n";
}

}  // namespace

std::string backend_name(Backend b) {
  for (const auto& [name, value] : kBackends)
    if (value == b) return name;
  return "?";
}

ParseResult parse_command_line(int argc, const char* const* argv) {
  Command cmd;
  CLI::App app{"netacct: per-process network traffic accounting from the kernel", "netacct"};
  app.require_subcommand(1);
  app.failure_message(one_line);
  add_report(app, cmd);
  add_top(app, cmd);
  add_doctor(app, cmd);
  ParseResult result;
  try {
    app.parse(argc, argv);
    result.command = cmd;
  } catch (const CLI::ParseError& e) {
    std::ostringstream out, err;
    int code = app.exit(e, out, err);
    result.exit_code = code == 0 ? 0 : 2;
    result.out = out.str();
    result.err = err.str();
  }
  return result;
}

}  // namespace netacct
