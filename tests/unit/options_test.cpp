#include "cli/options.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "cli/error_line.hpp"
#include "cli/version.hpp"

using namespace netacct;

namespace {

ParseResult parse(std::vector<const char*> args) {
  args.insert(args.begin(), "netacct");
  return parse_command_line(int(args.size()), args.data());
}

Command ok(std::vector<const char*> args) {
  ParseResult r = parse(std::move(args));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(r.command.has_value());
  return r.command.value_or(Command{});
}

// A usage error: exit 2, no command, nothing on stdout, one line on stderr
// of the form "<message> (see '<help command>')". Returns the message.
struct UsageError {
  std::string message, hint;
};

UsageError usage_error(std::vector<const char*> args) {
  ParseResult r = parse(std::move(args));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(r.command.has_value());
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(r.err.ends_with("\n")) << r.err;
  auto see = r.err.rfind(" (see '");
  if (see == std::string::npos) return {r.err, ""};
  return {r.err.substr(0, see), r.err.substr(see + 1, r.err.size() - see - 2)};
}

const std::string kIntervalError =
    "netacct: --interval: must be a number of seconds above 0 and at most 86400, got ";
const std::string kCountError =
    "netacct: --count: must be a whole number of reports (0 = until interrupted), got ";

}  // namespace

TEST(Options, ReportDefaults) {
  Command c = ok({"report"});
  EXPECT_EQ(c.kind, Command::Kind::report);
  EXPECT_EQ(c.backend, Backend::automatic);
  EXPECT_FALSE(c.verbose);
  EXPECT_EQ(c.report.interval_s, 5.0);
  EXPECT_EQ(c.report.count, 1u);
  EXPECT_EQ(c.report.format, Format::text);
  EXPECT_EQ(c.report.by, GroupKind::process);
  EXPECT_TRUE(c.selection.pids.empty());
  EXPECT_FALSE(c.selection.loopback);
  EXPECT_FALSE(c.report.resolve);
}

TEST(Options, ReportEveryLongFlag) {
  Command c =
      ok({"report", "--interval", "2.5", "--count", "0", "--format", "json", "--by", "connection",
          "--pid", "10", "--pid", "20", "--loopback", "--backend", "kprobe", "--verbose",
          "--resolve"});
  EXPECT_EQ(c.kind, Command::Kind::report);
  EXPECT_TRUE(c.report.resolve);
  EXPECT_EQ(c.report.interval_s, 2.5);
  EXPECT_EQ(c.report.count, 0u);
  EXPECT_EQ(c.report.format, Format::json);
  EXPECT_EQ(c.report.by, GroupKind::connection);
  EXPECT_EQ(c.selection.pids, (std::set<uint32_t>{10, 20}));
  EXPECT_TRUE(c.selection.loopback);
  EXPECT_EQ(c.backend, Backend::kprobe);
  EXPECT_TRUE(c.verbose);
}

TEST(Options, ReportShortFlags) {
  Command c =
      ok({"report", "-i", "86400", "-c", "3", "-f", "csv", "-p", "1", "-p", "4194304", "-v"});
  EXPECT_EQ(c.report.interval_s, 86400.0);
  EXPECT_EQ(c.report.count, 3u);
  EXPECT_EQ(c.report.format, Format::csv);
  EXPECT_EQ(c.selection.pids, (std::set<uint32_t>{1, 4194304}));
  EXPECT_TRUE(c.verbose);
}

TEST(Options, Doctor) {
  Command c = ok({"doctor"});
  EXPECT_EQ(c.kind, Command::Kind::doctor);
  EXPECT_FALSE(c.doctor.json);
  EXPECT_EQ(c.backend, Backend::automatic);

  c = ok({"doctor", "--format", "json", "--backend", "tracepoint", "-v"});
  EXPECT_EQ(c.kind, Command::Kind::doctor);
  EXPECT_TRUE(c.doctor.json);
  EXPECT_EQ(c.backend, Backend::tracepoint);
  EXPECT_TRUE(c.verbose);
}

TEST(Options, BackendNamesRoundTrip) {
  for (Backend b : {Backend::automatic, Backend::tracepoint, Backend::fentry, Backend::kprobe}) {
    std::string name = backend_name(b);
    EXPECT_EQ(ok({"report", "--backend", name.c_str()}).backend, b) << name;
  }
  EXPECT_EQ(backend_name(Backend::automatic), "auto");
  EXPECT_EQ(backend_name(Backend::tracepoint), "tracepoint");
  EXPECT_EQ(backend_name(Backend::fentry), "fentry");
  EXPECT_EQ(backend_name(Backend::kprobe), "kprobe");
  EXPECT_EQ(ok({"report", "--backend", "fentry"}).backend, Backend::fentry);
  EXPECT_EQ(usage_error({"report", "--backend", "FEntry"}).message,
            "netacct: --backend: must be one of auto, tracepoint, fentry, kprobe, got 'FEntry'");
}

TEST(Options, IntervalZero) {
  EXPECT_EQ(usage_error({"report", "--interval", "0"}).message, kIntervalError + "'0'");
}

TEST(Options, IntervalNegative) {
  EXPECT_EQ(usage_error({"report", "--interval", "-1"}).message, kIntervalError + "'-1'");
}

TEST(Options, IntervalNotANumber) {
  EXPECT_EQ(usage_error({"report", "--interval", "abc"}).message, kIntervalError + "'abc'");
  EXPECT_EQ(usage_error({"report", "-i", "5s"}).message, kIntervalError + "'5s'");
}

TEST(Options, IntervalAboveOneDay) {
  EXPECT_EQ(usage_error({"report", "-i", "86401"}).message, kIntervalError + "'86401'");
}

TEST(Options, CountNegative) {
  EXPECT_EQ(usage_error({"report", "--count", "-1"}).message, kCountError + "'-1'");
}

TEST(Options, CountNotWhole) {
  EXPECT_EQ(usage_error({"report", "-c", "1.5"}).message, kCountError + "'1.5'");
}

TEST(Options, PidOutOfRange) {
  EXPECT_EQ(usage_error({"report", "--pid", "0"}).message,
            "netacct: --pid: must be a process ID from 1 to 4194304, got '0'");
}

TEST(Options, UnknownFlag) {
  EXPECT_EQ(usage_error({"report", "--bogus"}).message,
            "netacct: The following argument was not expected: --bogus");
}

TEST(Options, MissingCommandListsTheCommands) {
  UsageError e = usage_error({});
  EXPECT_EQ(e.message,
            "netacct: a command is required; commands: report, top, serve, doctor, version");
  EXPECT_EQ(e.hint, "(see 'netacct --help')");
}

TEST(Options, UnknownCommandIsNamedWithTheRealOnes) {
  ParseResult r = parse({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(r.command.has_value());
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err,
            "netacct: unknown command 'frobnicate'; commands: report, top, serve, doctor, version "
            "(see 'netacct --help')\n");
  // Options after it do not change the answer.
  EXPECT_EQ(parse({"frobnicate", "--interval", "1"}).err, r.err);
  EXPECT_EQ(usage_error({"Report"}).message,
            "netacct: unknown command 'Report'; commands: report, top, serve, doctor, version");
}

// --version and `version` answer without probing the kernel: parsing alone
// prints the version, and no command reaches main.
TEST(Options, VersionFlagAndCommand) {
  for (auto args : {std::vector<const char*>{"--version"}, std::vector<const char*>{"version"}}) {
    ParseResult r = parse(args);
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_FALSE(r.command.has_value()) << args[0];
    EXPECT_EQ(r.out, "netacct 0.1.0\n") << args[0];
    EXPECT_EQ(r.err, "") << args[0];
  }
  EXPECT_EQ(std::string(kVersion), "0.1.0");
}

TEST(Options, VersionTakesNoArguments) {
  EXPECT_EQ(usage_error({"version", "--bogus"}).message,
            "netacct: The following argument was not expected: --bogus");
  EXPECT_EQ(usage_error({"version", "extra"}).hint, "(see 'netacct version --help')");
  EXPECT_EQ(usage_error({"report", "--version"}).message,
            "netacct: The following argument was not expected: --version");
}

TEST(Options, VersionHelp) {
  ParseResult r = parse({"version", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.command.has_value());
  EXPECT_NE(r.out.find("Print netacct's version"), std::string::npos) << r.out;
}

TEST(Options, EnumErrorsAreOneLineNamingTheOption) {
  EXPECT_TRUE(
      usage_error({"report", "--format", "xml"}).message.starts_with("netacct: --format: "));
  EXPECT_TRUE(usage_error({"report", "--by", "pid"}).message.starts_with("netacct: --by: "));
  EXPECT_TRUE(
      usage_error({"report", "--backend", "bogus"}).message.starts_with("netacct: --backend: "));
  EXPECT_TRUE(
      usage_error({"doctor", "--format", "csv"}).message.starts_with("netacct: --format: "));
}

// Regression (fixed): CLI11's CheckedTransformer message leaks the enum's integer
// values: "netacct: --format: Check xml value in {csv->2,json->1,text->0} OR
// {2,1,0} FAILED". It should say plainly what was given and what is allowed,
// like the --interval and --count messages do.
TEST(Options, EnumErrorsNameTheChoicesPlainly) {
  struct Case {
    std::vector<const char*> args;
    std::vector<std::string> mentions;
  };
  for (const auto& [args, mentions] : std::vector<Case>{
           {{"report", "--format", "xml"}, {"xml", "text", "json", "csv"}},
           {{"report", "--by", "pid"}, {"pid", "process", "connection"}},
           {{"report", "--backend", "bogus"}, {"bogus", "auto", "tracepoint", "fentry", "kprobe"}},
       }) {
    std::string msg = usage_error(args).message;
    for (const auto& word : mentions) EXPECT_NE(msg.find(word), std::string::npos) << msg;
    EXPECT_EQ(msg.find("->"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("FAILED"), std::string::npos) << msg;
  }
}

// Regression (fixed): the same transformer also accepts the enum's integer values,
// so undocumented spellings such as "--format 2" (csv) or "--backend 3"
// (kprobe) are taken instead of rejected.
TEST(Options, EnumIntegerValuesAreRejected) {
  EXPECT_FALSE(parse({"report", "--format", "2"}).command.has_value());
  EXPECT_FALSE(parse({"report", "--by", "1"}).command.has_value());
  EXPECT_FALSE(parse({"report", "--backend", "3"}).command.has_value());
}

// Regression (fixed): CLI11 converts integers with strtoull(..., base 0), so a
// leading zero means octal and 0x hex: "--pid 010" watches PID 8 and
// "--count 010" prints 8 reports. The digits-only check on --count does not
// help, and --interval (std::stod) takes "0x10" as 16 seconds.
TEST(Options, NumbersAreDecimal) {
  EXPECT_EQ(ok({"report", "--pid", "010"}).selection.pids,
            (std::set<uint32_t>{10}));                              // actual: {8}
  EXPECT_EQ(ok({"report", "--count", "010"}).report.count, 10u);    // actual: 8
  EXPECT_EQ(parse({"report", "--pid", "0x1f"}).exit_code, 2);       // actual: PID 31
  EXPECT_EQ(parse({"report", "--interval", "0x10"}).exit_code, 2);  // actual: 16 s
}

// Regression (fixed): a --count beyond 64 bits passes the digits-only check and
// strtoull saturates it to 18446744073709551615 instead of a usage error.
TEST(Options, CountOverflowIsAUsageError) {
  EXPECT_EQ(usage_error({"report", "--count", "99999999999999999999"}).message,
            kCountError + "'99999999999999999999'");
}

// Regression (fixed): one_line() wants to point at the subcommand's help, but
// CLI11 calls failure_message with the top-level app, so every error says
// "(see 'netacct --help')", whose page does not list --interval & co.
TEST(Options, SubcommandErrorsPointAtSubcommandHelp) {
  EXPECT_EQ(usage_error({"report", "--interval", "0"}).hint, "(see 'netacct report --help')");
  EXPECT_EQ(usage_error({"doctor", "--bogus"}).hint, "(see 'netacct doctor --help')");
}

TEST(Options, Help) {
  ParseResult r = parse({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.command.has_value());
  EXPECT_EQ(r.err, "");
  for (const char* word : {"report", "top", "doctor", "version", "--version"})
    EXPECT_NE(r.out.find(word), std::string::npos) << word << "\n" << r.out;

  r = parse({"report", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(r.command.has_value());
  EXPECT_EQ(r.err, "");
  for (const char* flag :
       {"--interval", "--count", "--format", "--by", "--pid", "--loopback", "--backend"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
}

// --by and --view come from the groupings table: every grouping is a
// choice of --by, every one top shows a choice of --view.
TEST(Options, GroupingChoicesFollowTheTable) {
  for (const auto& g : groupings()) {
    EXPECT_EQ(ok({"report", "--by", g.name.c_str()}).report.by, g.kind) << g.name;
    if (g.top_view)
      EXPECT_EQ(ok({"top", "--view", g.plural.c_str()}).top.view, g.kind) << g.plural;
    else
      EXPECT_EQ(usage_error({"top", "--view", g.plural.c_str()}).message,
                "netacct: --view: must be one of processes, connections, remotes, interfaces, "
                "containers, got '" +
                    g.plural + "'");
  }
  EXPECT_EQ(ok({"report", "--by", "remote"}).report.by, GroupKind::remote);
  UsageError e = usage_error({"report", "--by", "host"});
  EXPECT_EQ(e.message,
            "netacct: --by: must be one of process, connection, remote, interface, flow, "
            "container, got 'host'");
  EXPECT_EQ(e.hint, "(see 'netacct report --help')");
}

TEST(Options, TopSharesTheSelectionFlags) {
  Command c = ok({"top", "--pid", "5", "--loopback"});
  EXPECT_EQ(c.selection.pids, (std::set<uint32_t>{5}));
  EXPECT_TRUE(c.selection.loopback);
}

// top --bytes: which bytes rows count at start; wire bytes need the wire layer.
TEST(Options, TopBytesLayer) {
  EXPECT_EQ(ok({"top"}).top.layer, Layer::payload);
  EXPECT_EQ(ok({"top", "--bytes", "wire"}).top.layer, Layer::wire);
  EXPECT_EQ(ok({"top", "--bytes", "payload"}).top.layer, Layer::payload);
  EXPECT_EQ(usage_error({"top", "--bytes", "wire", "--no-wire"}).message,
            "netacct: --bytes excludes --no-wire");
  EXPECT_EQ(usage_error({"top", "--bytes", "headers"}).message,
            "netacct: --bytes: must be one of payload, wire, got 'headers'");
  EXPECT_EQ(usage_error({"report", "--bytes", "wire"}).message,
            "netacct: The following arguments were not expected: wire --bytes");
}

// --containers: the container grouping, in report (--by) and top (--view).
TEST(Options, Containers) {
  EXPECT_EQ(ok({"report", "--containers"}).report.by, GroupKind::container);
  EXPECT_EQ(ok({"report", "--by", "container"}).report.by, GroupKind::container);
  EXPECT_EQ(ok({"top", "--containers"}).top.view, GroupKind::container);
  EXPECT_EQ(ok({"top", "--view", "containers"}).top.view, GroupKind::container);
  EXPECT_EQ(usage_error({"report", "--containers", "--by", "process"}).message,
            "netacct: --by excludes --containers");
  EXPECT_EQ(usage_error({"top", "--view", "processes", "--containers"}).message,
            "netacct: --view excludes --containers");
}

// --cgroup: repeatable cgroup v2 paths (a trailing '/' dropped), on every
// command that selects.
TEST(Options, CgroupPaths) {
  for (const char* cmd : {"report", "top"}) {
    Command c = ok({cmd, "--cgroup", "/system.slice/", "--cgroup", "/kubepods.slice/x.scope"});
    EXPECT_EQ(c.selection.cgroups,
              (std::vector<std::string>{"/system.slice", "/kubepods.slice/x.scope"}));
  }
  EXPECT_EQ(ok({"report", "--cgroup", "/"}).selection.cgroups, std::vector<std::string>{"/"});
  for (const char* bad : {"system.slice", "", "/a/../b", "/.."})
    EXPECT_EQ(usage_error({"report", "--cgroup", bad}).message,
              std::string("netacct: --cgroup: must be a cgroup path from the cgroup v2 root, like "
                          "/system.slice/nginx.service, got '") +
                  bad + "'");
}

TEST(Options, ServeDefaults) {
  Command c = ok({"serve"});
  EXPECT_EQ(c.kind, Command::Kind::serve);
  EXPECT_EQ(c.serve.listen.host, "127.0.0.1");
  EXPECT_EQ(c.serve.listen.port, 9877);
  EXPECT_EQ(c.serve.listen.text(), "127.0.0.1:9877");
  EXPECT_FALSE(c.serve.listen_any);
  EXPECT_EQ(c.serve.interval_s, 1.0);
  EXPECT_EQ(c.serve.max_series, 2000u);
  EXPECT_FALSE(c.serve.pid_labels);
  EXPECT_FALSE(c.serve.bpf_stats) << "the kernel's BPF statistics cost every program: opt-in";
  EXPECT_FALSE(c.serve.containers);
  EXPECT_TRUE(c.wire.enabled);
}

TEST(Options, ServeFlags) {
  Command c = ok({"serve", "--listen", "[::1]:9100", "--max-series", "100", "--pid-labels",
                  "--containers", "--bpf-stats", "--interval", "0.5", "--no-wire", "--pid", "7",
                  "--loopback", "--cgroup", "/system.slice/", "--backend", "tracepoint"});
  EXPECT_EQ(c.serve.listen.host, "::1");
  EXPECT_EQ(c.serve.listen.port, 9100);
  EXPECT_EQ(c.serve.listen.text(), "[::1]:9100");
  EXPECT_EQ(c.serve.max_series, 100u);
  EXPECT_TRUE(c.serve.pid_labels);
  EXPECT_TRUE(c.serve.containers);
  EXPECT_TRUE(c.serve.bpf_stats);
  EXPECT_EQ(c.serve.interval_s, 0.5);
  EXPECT_FALSE(c.wire.enabled);
  EXPECT_EQ(c.selection.pids, (std::set<uint32_t>{7}));
  EXPECT_TRUE(c.selection.loopback);
  EXPECT_EQ(c.selection.cgroups, (std::vector<std::string>{"/system.slice"}));
  EXPECT_EQ(c.backend, Backend::tracepoint);
  EXPECT_EQ(ok({"serve", "--listen", "127.3.4.5:80"}).serve.listen.text(), "127.3.4.5:80");
  EXPECT_EQ(ok({"serve", "--listen", "[::ffff:127.0.0.1]:80"}).serve.listen.host,
            "::ffff:127.0.0.1");
}

// Only this host can reach a loopback address; anything else must be asked
// for explicitly, or it is refused in one line (exit 2).
TEST(Options, ServeRefusesANonLoopbackAddressWithoutListenAny) {
  for (const char* at : {"0.0.0.0:9877", "10.1.2.3:9877", "[::]:9877", "[fd00::1]:9877"}) {
    UsageError e = usage_error({"serve", "--listen", at});
    std::string shown = at;
    EXPECT_EQ(e.message, "netacct: --listen: " + shown +
                             " is not a loopback address; add --listen-any to serve /metrics to "
                             "other hosts")
        << at;
    EXPECT_EQ(e.hint, "(see 'netacct serve --help')");
    Command c = ok({"serve", "--listen", at, "--listen-any"});
    EXPECT_TRUE(c.serve.listen_any);
    EXPECT_EQ(c.serve.listen.text(), shown);
  }
}

TEST(Options, ServeBadValues) {
  const std::string listen =
      "netacct: --listen: must be ADDRESS:PORT with a numeric IPv4 address or an IPv6 address in "
      "brackets and a port from 1 to 65535, like 127.0.0.1:9877 or [::1]:9877, got ";
  for (const char* v : {"localhost:9877", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "::1:9877",
                        "[::1]", "127.0.0.1:+80", "127.0.0.1: 80", ""})
    EXPECT_EQ(usage_error({"serve", "--listen", v}).message, listen + "'" + v + "'") << v;
  const std::string series =
      "netacct: --max-series: must be a whole number of series from 1 to "
      "1000000, got ";
  for (const char* v : {"0", "-1", "1000001", "1e3", "ten"})
    EXPECT_EQ(usage_error({"serve", "--max-series", v}).message, series + "'" + v + "'") << v;
  EXPECT_EQ(usage_error({"serve", "--interval", "0"}).message, kIntervalError + "'0'");
  EXPECT_EQ(usage_error({"serve", "--interface", "eth0", "--no-wire"}).message,
            "netacct: --interface excludes --no-wire");
}

// Regression (fixed): an option before the command ("netacct --bogus
// report", "netacct --interval 5") was answered "A subcommand is required",
// naming neither the option nor the commands.
TEST(Options, UnknownOptionBeforeTheCommandIsNamed) {
  for (auto args :
       {std::vector<const char*>{"--bogus"}, std::vector<const char*>{"--bogus", "report"}})
    EXPECT_EQ(
        parse(args).err,
        "netacct: unknown option '--bogus'; commands: report, top, serve, doctor, version (see "
        "'netacct --help')\n");
  EXPECT_EQ(usage_error({"-i", "5", "report"}).message,
            "netacct: unknown option '-i'; commands: report, top, serve, doctor, version");
  EXPECT_EQ(parse({"-h"}).exit_code, 0);
}

// Regression (fixed): an error quoted what was typed verbatim, so a value
// with a newline made two lines and an escape sequence reached the
// terminal. Quoted text goes through the sinks' escaping (error_line).
TEST(Options, ErrorsStayOneLineWhateverTheyQuote) {
  EXPECT_EQ(usage_error({"report", "--format", "json\ncsv"}).message,
            "netacct: --format: must be one of text, json, csv, got 'json\\x0acsv'");
  EXPECT_EQ(usage_error({"\x1b[2J"}).message,
            "netacct: unknown command '\\x1b[2J'; commands: report, top, serve, doctor, version");
  EXPECT_EQ(usage_error({"report", "--cgroup", "a\rb"}).message,
            "netacct: --cgroup: must be a cgroup path from the cgroup v2 root, like "
            "/system.slice/nginx.service, got 'a\\x0db'");
  EXPECT_EQ(error_line("no interface named '\x1b[31mx\xc2\x9b' (see 'ip link')"),
            "netacct: no interface named '\\x1b[31mx\\xc2\\x9b' (see 'ip link')\n");
}
