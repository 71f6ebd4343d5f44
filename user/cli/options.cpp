#include "cli/options.hpp"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

#include "cli/error_line.hpp"
#include "cli/privilege.hpp"
#include "cli/version.hpp"

namespace netacct {
namespace {

// Numbers are decimal and whole: CLI11 alone would read "010" as octal,
// "0x10" as hex, skip blanks and wrap an overflowing count.
template <typename T>
std::optional<T> parse_number(const std::string& v) {
  T out{};
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return out;
}

CLI::Validator seconds_check() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        auto d = parse_number<double>(v);
        if (d && *d > 0 && *d <= 86400) return "";
        return "must be a number of seconds above 0 and at most 86400, got '" + v + "'";
      },
      "");
}

void add_seconds(CLI::App* sub, const std::string& flags, double& target, const std::string& desc) {
  sub->add_option_function<std::string>(
         flags, [&target](const std::string& v) { target = *parse_number<double>(v); }, desc)
      ->check(seconds_check())
      ->type_name("SECONDS")
      ->default_str(CLI::detail::to_string(target));
}

// Accepts a whole number in [lo, hi]; else "must be WHAT, got 'V'".
CLI::Validator whole_number_check(uint64_t lo, uint64_t hi, const std::string& what) {
  return CLI::Validator(
      [lo, hi, what](std::string& v) -> std::string {
        auto n = parse_number<uint64_t>(v);
        if (n && *n >= lo && *n <= hi) return "";
        return "must be " + what + ", got '" + v + "'";
      },
      "");
}

// An option taking a whole number in [lo, hi] (checked by whole_number_check).
void add_whole(CLI::App* sub, const std::string& flags, uint64_t& target, uint64_t lo, uint64_t hi,
               const std::string& what, const std::string& desc) {
  sub->add_option_function<std::string>(
         flags, [&target](const std::string& v) { target = *parse_number<uint64_t>(v); }, desc)
      ->check(whole_number_check(lo, hi, what))
      ->type_name("N")
      ->default_str(std::to_string(target));
}

void add_count(CLI::App* sub, const std::string& flags, uint64_t& target, const std::string& noun,
               const std::string& desc) {
  add_whole(sub, flags, target, 0, UINT64_MAX,
            "a whole number of " + noun + " (0 = until interrupted)", desc);
}

void add_pids(CLI::App* sub, std::set<uint32_t>& target) {
  sub->add_option_function<std::vector<std::string>>(
         "-p,--pid",
         [&target](const std::vector<std::string>& vs) {
           for (const auto& v : vs) target.insert(*parse_number<uint32_t>(v));
         },
         "Only this process (repeatable)")
      ->check(whole_number_check(1, 4194304, "a process ID from 1 to 4194304"))
      ->type_name("PID");
}

// An option whose value is one word from a fixed list.
template <typename E>
void add_choice(CLI::App* sub, const std::string& flags, E& target,
                const std::vector<std::pair<std::string, E>>& choices, const std::string& desc) {
  std::string names, current;
  for (const auto& [name, value] : choices) {
    names += (names.empty() ? "" : ", ") + name;
    if (value == target) current = name;
  }
  sub->add_option_function<std::string>(
         flags,
         [&target, choices](const std::string& v) {
           for (const auto& [name, value] : choices)
             if (name == v) target = value;
         },
         desc + " (" + names + ")")
      ->check(CLI::Validator(
          [choices, names](std::string& v) -> std::string {
            for (const auto& c : choices)
              if (c.first == v) return "";
            return "must be one of " + names + ", got '" + v + "'";
          },
          ""))
      ->type_name("WORD")
      ->default_str(current);
}

// What every command shows: the same flags, into the one Selection.
void add_selection(CLI::App* sub, Selection& sel) {
  add_pids(sub, sel.pids);
  sub->add_option_function<std::vector<std::string>>(
         "--cgroup",
         [&sel](const std::vector<std::string>& paths) {
           for (std::string p : paths) {
             while (p.size() > 1 && p.back() == '/') p.pop_back();
             sel.cgroups.push_back(p);
           }
         },
         "Only processes in this cgroup v2 path or below it, as /proc/PID/cgroup shows it "
         "(repeatable)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            bool ok = v.starts_with("/") && v.find("/../") == std::string::npos &&
                      !v.ends_with("/..") && v.find('\0') == std::string::npos;
            if (ok) return "";
            return "must be a cgroup path from the cgroup v2 root, like "
                   "/system.slice/nginx.service, "
                   "got '" +
                   v + "'";
          },
          ""))
      ->type_name("PATH");
  sub->add_flag("--loopback", sel.loopback, "Include loopback traffic (excluded by default)");
}

// The wire layer's interfaces. Names are checked here for form only (what
// the kernel accepts: 1-15 bytes, no '/', ':' or white space); whether they
// exist is known when netacct starts.
void add_wire(CLI::App* sub, WireConfig& wire) {
  sub->add_option("--interface", wire.interfaces,
                  "Count wire bytes on this interface (repeatable; default: every interface "
                  "that is up, loopback only with --loopback)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            bool ok = !v.empty() && v.size() < 16 && v != "." && v != ".." &&
                      v.find_first_of("/: \t\n") == std::string::npos;
            if (ok) return "";
            return "must be an interface name (1-15 characters, no '/', ':' or spaces), got '" + v +
                   "'";
          },
          ""))
      ->type_name("NAME");
  auto* off = sub->add_flag_function(
      "--no-wire", [&wire](int64_t) { wire.enabled = false; },
      "Count payload only: attach no TC classifier");
  sub->get_option("--interface")->excludes(off);
  add_choice(sub, "--tc-attach", wire.attach,
             {{"auto", TcAttach::automatic}, {"tcx", TcAttach::tcx}, {"legacy", TcAttach::legacy}},
             "How the TC classifier attaches: TCX links (Linux >= 6.6) or clsact filters");
}

// Remote names: on unless --no-dns-names, which the other two contradict.
void add_dns_names(CLI::App* sub, DnsNameOptions& dns) {
  auto* off = sub->add_flag_function(
      "--no-dns-names", [&dns](int64_t) { dns.enabled = false; },
      "Capture no DNS answers: attach nothing for remote names");
  sub->add_option_function<std::string>(
         "--dns-grace",
         [&dns](const std::string& v) {
           dns.cache.grace_ns = int64_t(*parse_number<uint64_t>(v)) * 1'000'000'000;
         },
         "Seconds a remote name is kept past its DNS TTL")
      ->check(whole_number_check(0, 86400, "a whole number of seconds from 0 to 86400"))
      ->type_name("SECONDS")
      ->default_str(std::to_string(dns.cache.grace_ns / 1'000'000'000))
      ->excludes(off);
  sub->add_option_function<std::string>(
         "--dns-cache",
         [&dns](const std::string& v) { dns.cache.capacity = *parse_number<uint64_t>(v); },
         "Remote names kept at most (least recently seen go first)")
      ->check(whole_number_check(1, 10000000, "a whole number of entries from 1 to 10000000"))
      ->type_name("ENTRIES")
      ->default_str(std::to_string(dns.cache.capacity))
      ->excludes(off);
}

// --by and --view choices come from the groupings table, in its order.
// (--view: top's views only.)
std::vector<std::pair<std::string, GroupKind>> grouping_names(std::string Grouping::*name,
                                                              bool top_views = false) {
  std::vector<std::pair<std::string, GroupKind>> out;
  for (const auto& g : groupings())
    if (g.top_view || !top_views) out.emplace_back(g.*name, g.kind);
  return out;
}

void add_common(CLI::App* app, Command& cmd) {
  add_choice(app, "--backend", cmd.backend, backend_names(), "Kernel hooks");
  app->add_flag("-v,--verbose", cmd.verbose, "Show libbpf and verifier messages");
}

void add_report(CLI::App* sub, Command& cmd) {
  auto& o = cmd.report;
  add_seconds(sub, "-i,--interval", o.interval_s, "Seconds per report");
  add_count(sub, "-c,--count", o.count, "reports", "Number of reports, 0 = until interrupted");
  add_choice(sub, "-f,--format", o.format,
             {{"text", Format::text}, {"json", Format::json}, {"csv", Format::csv}},
             "Output format");
  add_choice(sub, "--by", o.by, grouping_names(&Grouping::name),
             "Rows per grouping (text and csv; JSON has every one)");
  sub->add_flag_callback(
         "--containers", [&o] { o.by = GroupKind::container; },
         "Rows per container or cgroup (the same as --by container)")
      ->excludes("--by");
  sub->add_flag("--resolve", o.resolve,
                "Reverse DNS for remotes no DNS answer named (each report waits at most 1 s "
                "for the lookups)");
  add_selection(sub, cmd.selection);
  add_wire(sub, cmd.wire);
  add_dns_names(sub, cmd.dns);
  add_common(sub, cmd);
}

void add_top(CLI::App* sub, Command& cmd) {
  auto& o = cmd.top;
  add_seconds(sub, "-d,--delay", o.delay_s, "Seconds between refreshes");
  add_selection(sub, cmd.selection);
  add_choice(sub, "--sort", o.sort,
             {{"sent", SortBy::sent}, {"recv", SortBy::received}, {"total", SortBy::total}},
             "Sort by");
  add_choice(sub, "--view", o.view, grouping_names(&Grouping::plural, true), "First view");
  sub->add_flag_callback(
         "--containers", [&o] { o.view = GroupKind::container; },
         "Start in the containers view (the same as --view containers)")
      ->excludes("--view");
  sub->add_flag("--resolve", o.resolve, "Reverse DNS for remote addresses (background lookups)");
  sub->add_flag("-b,--batch", o.batch,
                "Plain-text frames, one per delay (default when stdout is not a terminal)");
  add_count(sub, "-n,--count", o.count, "frames", "Frames in batch mode, 0 = until interrupted");
  add_choice(sub, "--bytes", o.layer, {{"payload", Layer::payload}, {"wire", Layer::wire}},
             "What rows count at start: payload (what programs moved) or wire (their packets "
             "with headers and retransmits); w toggles");
  add_wire(sub, cmd.wire);
  sub->get_option("--bytes")->excludes("--no-wire");
  add_dns_names(sub, cmd.dns);
  add_common(sub, cmd);
}

// "127.0.0.1:9877" or "[::1]:9877": a numeric address (no name lookup
// while parsing) and a port from 1 to 65535.
std::optional<ListenAddress> parse_listen(const std::string& v) {
  auto colon = v.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = v.substr(0, colon);
  bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  unsigned char buf[16];
  int family = bracketed ? AF_INET6 : AF_INET;
  if (inet_pton(family, host.c_str(), buf) != 1) return std::nullopt;
  auto port = parse_number<uint16_t>(v.substr(colon + 1));
  if (!port || *port == 0) return std::nullopt;
  return ListenAddress{.host = host, .port = *port};
}

// 127/8, ::1 and ::ffff:127/104: only this host can connect.
bool is_loopback(const ListenAddress& a) {
  unsigned char b[16];
  if (!a.ipv6()) return inet_pton(AF_INET, a.host.c_str(), b) == 1 && b[0] == 127;
  if (inet_pton(AF_INET6, a.host.c_str(), b) != 1) return false;
  static const unsigned char one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return memcmp(b, one, 16) == 0 || (memcmp(b, mapped, 12) == 0 && b[12] == 127);
}

void add_listen(CLI::App* sub, ServeOptions& o) {
  sub->add_option_function<std::string>(
         "--listen", [&o](const std::string& v) { o.listen = *parse_listen(v); },
         "Address and port to serve /metrics on (a non-loopback address needs --listen-any)")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            if (parse_listen(v)) return "";
            return "must be ADDRESS:PORT with a numeric IPv4 address or an IPv6 address in "
                   "brackets and a port from 1 to 65535, like 127.0.0.1:9877 or [::1]:9877, got '" +
                   v + "'";
          },
          ""))
      ->type_name("ADDR:PORT")
      ->default_str(o.listen.text());
  sub->add_flag("--listen-any", o.listen_any,
                "Allow a --listen address other hosts can reach (no authentication, no TLS)");
}

void add_serve(CLI::App* sub, Command& cmd) {
  auto& o = cmd.serve;
  add_listen(sub, o);
  add_seconds(sub, "-i,--interval", o.interval_s, "Seconds between refreshes of the counters");
  add_whole(sub, "--max-series", o.max_series, 1, 1000000,
            "a whole number of series from 1 to 1000000",
            "Label sets per metric before the least active fold into its 'other' series");
  sub->add_flag("--pid-labels", o.pid_labels,
                "Add a pid label to program series (one series per process: many more series)");
  sub->add_flag("--containers", o.containers, "Export payload bytes per container or cgroup");
  sub->add_flag("--bpf-stats", o.bpf_stats,
                "Export netacct's BPF run time (turns on kernel BPF statistics while serving: "
                "every BPF program on the host then costs two clock reads more a run)");
  sub->add_option("--user", o.user,
                  "After loading, attaching and binding, run as this user (its uid and group, "
                  "no supplementary groups), keeping only the capabilities still needed")
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            std::string error;
            if (find_user(v, &error)) return "";
            return "must be a user of this system (a name or uid 'getent passwd' lists), got '" +
                   v + "'";
          },
          ""))
      ->type_name("USER");
  add_selection(sub, cmd.selection);
  add_wire(sub, cmd.wire);
  add_dns_names(sub, cmd.dns);
  add_common(sub, cmd);
}

void add_doctor(CLI::App* sub, Command& cmd) {
  add_choice(sub, "-f,--format", cmd.doctor.json, {{"text", false}, {"json", true}},
             "Output format");
  add_common(sub, cmd);
}

std::string version_line() { return "netacct " + std::string(kVersion); }

// Answered while parsing, like --help: the version needs no kernel probe.
void add_version(CLI::App* sub, Command&) {
  sub->callback([] { throw CLI::CallForVersion(version_line(), 0); });
}

struct Subcommand {
  const char* name;
  const char* description;
  std::optional<Command::Kind> kind;  // what main runs; none: answered while parsing
  void (*add_options)(CLI::App* sub, Command& cmd);
};

// Every subcommand, in the order help lists them: a new subcommand is a row
// here, plus its run function in main's dispatch on Command::Kind (kept out
// of this table so that parsing links no kernel code).
const Subcommand kSubcommands[] = {
    {.name = "report",
     .description = "Print per-process and per-connection bytes per interval",
     .kind = Command::Kind::report,
     .add_options = add_report},
    {.name = "top",
     .description = "Live view of processes, connections and remote hosts by rate",
     .kind = Command::Kind::top,
     .add_options = add_top},
    {.name = "serve",
     .description = "Serve per-program and per-container traffic as Prometheus metrics",
     .kind = Command::Kind::serve,
     .add_options = add_serve},
    {.name = "doctor",
     .description = "Show what this kernel supports and which hooks netacct would use",
     .kind = Command::Kind::doctor,
     .add_options = add_doctor},
    {.name = "version",
     .description = "Print netacct's version",
     .kind = std::nullopt,
     .add_options = add_version},
};

void add_subcommands(CLI::App& app, Command& cmd) {
  for (const Subcommand& row : kSubcommands) {
    CLI::App* sub = app.add_subcommand(row.name, row.description);
    row.add_options(sub, cmd);
    if (auto kind = row.kind) sub->callback([&cmd, kind] { cmd.kind = *kind; });
  }
}

std::string command_names() {
  std::string names;
  for (const Subcommand& row : kSubcommands)
    names += (names.empty() ? "" : ", ") + std::string(row.name);
  return names;
}

// CLI11 answers a missing and an unknown command alike ("A subcommand is
// required"): name what is wrong and list the commands instead. Only the
// first argument can be a command, the top level having no options of its
// own besides --help and --version.
std::optional<std::string> command_error(int argc, const char* const* argv) {
  if (argc < 2) return "a command is required";
  std::string_view first = argv[1];
  if (first == "-h" || first == "--help" || first == "--version") return std::nullopt;
  if (first.starts_with('-')) return "unknown option '" + std::string(first) + "'";
  for (const Subcommand& row : kSubcommands)
    if (first == row.name) return std::nullopt;
  return "unknown command '" + std::string(first) + "'";
}

// CLI11 prints two lines by default; one line says what is wrong and where
// to look.
std::string one_line(const CLI::App* app, const CLI::Error& e) {
  std::string what = e.what();
  std::string name = "netacct";
  for (const auto* sub : app->get_subcommands()) name = "netacct " + sub->get_name();
  return error_line(what + " (see '" + name + " --help')");
}

// A usage error that needs more than one option to see.
std::optional<std::string> command_conflict(const Command& cmd) {
  const auto& l = cmd.serve.listen;
  if (cmd.kind == Command::Kind::serve && !cmd.serve.listen_any && !is_loopback(l))
    return "--listen: " + l.text() +
           " is not a loopback address; add --listen-any to serve /metrics to other hosts "
           "(see 'netacct serve --help')";
  return std::nullopt;
}

}  // namespace

std::string ListenAddress::text() const {
  return (ipv6() ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

ParseResult parse_command_line(int argc, const char* const* argv) {
  if (auto error = command_error(argc, argv))
    return {
        .command = std::nullopt,
        .exit_code = 2,
        .out = "",
        .err = error_line(*error + "; commands: " + command_names() + " (see 'netacct --help')")};
  Command cmd;
  CLI::App app{"netacct: per-process network traffic accounting from the kernel", "netacct"};
  app.require_subcommand(1);
  app.failure_message(one_line);
  app.set_version_flag("--version", version_line());
  add_subcommands(app, cmd);
  ParseResult result;
  try {
    app.parse(argc, argv);
    if (auto conflict = command_conflict(cmd))
      return {.command = std::nullopt,
              .exit_code = 2,
              .out = "",
              .err = "netacct: " + *conflict + "\n"};
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
