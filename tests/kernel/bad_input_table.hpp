// Bad command lines and environments, and what netacct answers to each: the
// one table that bad_input_test.cpp runs (as root, each case in a test
// network namespace) and that README's "Exit codes and errors" prints
// (tests/unit/readme_errors_test.cpp keeps the two equal).
//
// Pure data: no kernel, no GoogleTest, so the unit tests can include it.
#pragma once

#include <string>
#include <vector>

namespace kt::bad_input {

// What is done to netacct's process before it starts, beyond its arguments.
enum class Setting {
  none,
  no_capabilities,    // every capability dropped
  no_perfmon,         // CAP_PERFMON and CAP_SYS_ADMIN dropped
  no_btf,             // an empty directory over /sys/kernel/btf
  unreadable_cgroup,  // a mode 000 directory over the cgroup v2 mount, no DAC override
};

struct Case {
  std::string name;               // the test's name
  std::vector<std::string> args;  // after "netacct"
  Setting setting = Setting::none;
  std::vector<std::string> env;  // "NAME=value" set for netacct
  int exit_code = 2;
  // The one line netacct writes to stderr, without its "\n". Placeholders,
  // filled in from this machine when the case runs: {backend} a backend
  // `netacct doctor` calls unavailable here and {reason} its reason;
  // {selected} the backend auto picks; {cgroup2} the cgroup v2 mount.
  std::string err;
  // Not an error: netacct runs, exits 0 after --count, writes `err` (if any)
  // and then its ready line to stderr, and its output to stdout.
  bool runs = false;
  std::string note;  // README's condition column, beyond the setting
};

// What README's table says a setting is.
inline std::string describe(Setting s) {
  switch (s) {
    case Setting::none:
      return "";
    case Setting::no_capabilities:
      return "no capabilities (`setpriv --inh-caps=-all --bounding-set=-all`)";
    case Setting::no_perfmon:
      return "without CAP_PERFMON and CAP_SYS_ADMIN";
    case Setting::no_btf:
      return "no `/sys/kernel/btf/vmlinux` (an empty directory mounted over `/sys/kernel/btf`)";
    case Setting::unreadable_cgroup:
      return "the cgroup v2 mount unreadable (a mode 000 directory mounted over it, without "
             "CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH)";
  }
  return "";
}

inline const std::string kCommands =
    "; commands: report, top, serve, doctor, version (see 'netacct --help')";
inline const std::string kSeeReport = " (see 'netacct report --help')";
inline const std::string kSeeTop = " (see 'netacct top --help')";
inline const std::string kSeeServe = " (see 'netacct serve --help')";
inline const std::string kInterval =
    "netacct: --interval: must be a number of seconds above 0 and at most 86400, got ";
inline const std::string kCount =
    "netacct: --count: must be a whole number of reports (0 = until interrupted), got ";
inline const std::string kPid = "netacct: --pid: must be a process ID from 1 to 4194304, got ";
inline const std::string kCgroup =
    "netacct: --cgroup: must be a cgroup path from the cgroup v2 root, like "
    "/system.slice/nginx.service, got ";
inline const std::string kInterface =
    "netacct: --interface: must be an interface name (1-15 characters, no '/', ':' or spaces), "
    "got ";
inline const std::string kUser =
    "netacct: --user: must be a user of this system (a name or uid 'getent passwd' lists), got ";
inline const std::string kNoCapabilities =
    " (or CAP_SYS_ADMIN) to load BPF programs; run as root, e.g. 'sudo netacct ...'";

inline std::vector<Case> cases() {
  using S = Setting;
  return {
      // ---- usage errors: exit 2, nothing loaded ----
      {.name = "NoCommand", .args = {}, .err = "netacct: a command is required" + kCommands},
      {.name = "UnknownCommand",
       .args = {"frobnicate"},
       .err = "netacct: unknown command 'frobnicate'" + kCommands},
      {.name = "EmptyCommand", .args = {""}, .err = "netacct: unknown command ''" + kCommands},
      {.name = "UnknownOptionBeforeCommand",
       .args = {"--bogus", "report"},
       .err = "netacct: unknown option '--bogus'" + kCommands},
      {.name = "ControlCharactersInCommand",
       .args = {"\x1b[2J"},
       .err = "netacct: unknown command '\\x1b[2J'" + kCommands},
      {.name = "UnknownFlag",
       .args = {"report", "--bogus"},
       .err = "netacct: The following argument was not expected: --bogus" + kSeeReport},
      {.name = "UnexpectedArgument",
       .args = {"report", "extra"},
       .err = "netacct: The following argument was not expected: extra" + kSeeReport},
      {.name = "FlagOfAnotherCommand",
       .args = {"report", "--bytes", "wire"},
       .err = "netacct: The following arguments were not expected: wire --bytes" + kSeeReport},
      {.name = "VersionWithArgument",
       .args = {"version", "extra"},
       .err = "netacct: The following argument was not expected: extra (see 'netacct version "
              "--help')"},
      {.name = "MissingValue",
       .args = {"report", "--interval"},
       .err = "netacct: --interval: 1 required SECONDS missing" + kSeeReport},
      {.name = "IntervalZero",
       .args = {"report", "--interval", "0"},
       .err = kInterval + "'0'" + kSeeReport},
      {.name = "IntervalNegative",
       .args = {"report", "--interval", "-1"},
       .err = kInterval + "'-1'" + kSeeReport},
      {.name = "IntervalWithUnit",
       .args = {"report", "--interval", "5s"},
       .err = kInterval + "'5s'" + kSeeReport},
      {.name = "IntervalEmpty",
       .args = {"report", "--interval", ""},
       .err = kInterval + "''" + kSeeReport},
      {.name = "IntervalAboveOneDay",
       .args = {"report", "--interval", "86401"},
       .err = kInterval + "'86401'" + kSeeReport},
      {.name = "IntervalNotANumber",
       .args = {"report", "--interval", "nan"},
       .err = kInterval + "'nan'" + kSeeReport},
      {.name = "IntervalUnderflow",
       .args = {"report", "--interval", "1e-400"},
       .err = kInterval + "'1e-400'" + kSeeReport},
      {.name = "IntervalHex",
       .args = {"report", "--interval", "0x10"},
       .err = kInterval + "'0x10'" + kSeeReport},
      {.name = "TopDelayZero",
       .args = {"top", "--delay", "0"},
       .err = "netacct: --delay: must be a number of seconds above 0 and at most 86400, got '0'" +
              kSeeTop},
      {.name = "CountNegative",
       .args = {"report", "--count", "-1"},
       .err = kCount + "'-1'" + kSeeReport},
      {.name = "CountFraction",
       .args = {"report", "--count", "1.5"},
       .err = kCount + "'1.5'" + kSeeReport},
      {.name = "CountOverflow",
       .args = {"report", "--count", "18446744073709551616"},
       .err = kCount + "'18446744073709551616'" + kSeeReport},
      {.name = "CountEmpty", .args = {"report", "--count", ""}, .err = kCount + "''" + kSeeReport},
      {.name = "TopCountNotANumber",
       .args = {"top", "--count", "x"},
       .err = "netacct: --count: must be a whole number of frames (0 = until interrupted), got "
              "'x'" +
              kSeeTop},
      {.name = "PidZero", .args = {"report", "--pid", "0"}, .err = kPid + "'0'" + kSeeReport},
      {.name = "PidAboveMax",
       .args = {"report", "--pid", "4194305"},
       .err = kPid + "'4194305'" + kSeeReport},
      {.name = "PidEmpty", .args = {"report", "--pid", ""}, .err = kPid + "''" + kSeeReport},
      {.name = "PidNotANumber",
       .args = {"report", "--pid", "self"},
       .err = kPid + "'self'" + kSeeReport},
      {.name = "FormatUnknown",
       .args = {"report", "--format", "xml"},
       .err = "netacct: --format: must be one of text, json, csv, got 'xml'" + kSeeReport},
      {.name = "FormatEmpty",
       .args = {"report", "--format", ""},
       .err = "netacct: --format: must be one of text, json, csv, got ''" + kSeeReport},
      {.name = "FormatWithNewline",
       .args = {"report", "--format", "json\ncsv"},
       .err = "netacct: --format: must be one of text, json, csv, got 'json\\x0acsv'" + kSeeReport},
      {.name = "DoctorFormatCsv",
       .args = {"doctor", "--format", "csv"},
       .err = "netacct: --format: must be one of text, json, got 'csv' (see 'netacct doctor "
              "--help')"},
      {.name = "ByUnknown",
       .args = {"report", "--by", "pid"},
       .err = "netacct: --by: must be one of process, connection, remote, interface, flow, "
              "container, got 'pid'" +
              kSeeReport},
      {.name = "ViewUnknown",
       .args = {"top", "--view", "hosts"},
       .err = "netacct: --view: must be one of processes, connections, remotes, interfaces, "
              "containers, got 'hosts'" +
              kSeeTop},
      {.name = "BackendUnknown",
       .args = {"report", "--backend", "ebpf"},
       .err = "netacct: --backend: must be one of auto, tracepoint, fentry, kprobe, got 'ebpf'" +
              kSeeReport},
      {.name = "TcAttachUnknown",
       .args = {"report", "--tc-attach", "xdp"},
       .err = "netacct: --tc-attach: must be one of auto, tcx, legacy, got 'xdp'" + kSeeReport},
      {.name = "CgroupRelative",
       .args = {"report", "--cgroup", "system.slice"},
       .err = kCgroup + "'system.slice'" + kSeeReport},
      {.name = "CgroupEmpty",
       .args = {"report", "--cgroup", ""},
       .err = kCgroup + "''" + kSeeReport},
      {.name = "CgroupDotDot",
       .args = {"report", "--cgroup", "/a/../b"},
       .err = kCgroup + "'/a/../b'" + kSeeReport},
      {.name = "InterfaceEmpty",
       .args = {"report", "--interface", ""},
       .err = kInterface + "''" + kSeeReport},
      {.name = "InterfaceTooLong",
       .args = {"report", "--interface", "abcdefghijklmnop"},
       .err = kInterface + "'abcdefghijklmnop'" + kSeeReport},
      {.name = "InterfaceWithSlash",
       .args = {"report", "--interface", "na0/1"},
       .err = kInterface + "'na0/1'" + kSeeReport},
      {.name = "InterfaceWithColon",
       .args = {"report", "--interface", "na:0"},
       .err = kInterface + "'na:0'" + kSeeReport},
      {.name = "InterfaceAndNoWire",
       .args = {"report", "--interface", "na0", "--no-wire"},
       .err = "netacct: --interface excludes --no-wire" + kSeeReport},
      {.name = "WireBytesWithoutWire",
       .args = {"top", "--bytes", "wire", "--no-wire"},
       .err = "netacct: --bytes excludes --no-wire" + kSeeTop},
      {.name = "ServeUnknownUser",
       .args = {"serve", "--user", "na-no-such-user"},
       .err = kUser + "'na-no-such-user'" + kSeeServe},
      {.name = "ServeEmptyUser", .args = {"serve", "--user", ""}, .err = kUser + "''" + kSeeServe},
      {.name = "DnsGraceNegative",
       .args = {"report", "--dns-grace", "-1"},
       .err = "netacct: --dns-grace: must be a whole number of seconds from 0 to 86400, got '-1'" +
              kSeeReport},
      {.name = "DnsGraceWithUnit",
       .args = {"report", "--dns-grace", "5s"},
       .err = "netacct: --dns-grace: must be a whole number of seconds from 0 to 86400, got '5s'" +
              kSeeReport},
      {.name = "DnsCacheZero",
       .args = {"top", "--dns-cache", "0"},
       .err =
           "netacct: --dns-cache: must be a whole number of entries from 1 to 10000000, got '0'" +
           kSeeTop},
      {.name = "DnsCacheAndNoDnsNames",
       .args = {"report", "--dns-cache", "100", "--no-dns-names"},
       .err = "netacct: --no-dns-names excludes --dns-cache" + kSeeReport},
      {.name = "ContainersAndBy",
       .args = {"report", "--containers", "--by", "process"},
       .err = "netacct: --by excludes --containers" + kSeeReport},
      {.name = "ContainersAndView",
       .args = {"top", "--view", "processes", "--containers"},
       .err = "netacct: --view excludes --containers" + kSeeTop},
      // Known only once netacct starts, still usage errors.
      {.name = "UnknownInterface",
       .args = {"report", "--interface", "nosuch0"},
       .err = "netacct: no interface named 'nosuch0' in this network namespace (see 'ip link')"},
      {.name = "UnknownInterfaceBesideAKnownOne",
       .args = {"report", "--interface", "na0", "--interface", "nosuch0"},
       .err = "netacct: no interface named 'nosuch0' in this network namespace (see 'ip link')"},
      {.name = "UnknownInterfaceWithControlCharacters",
       .args = {"report", "--interface", "\x1b[31mna0"},
       .err = "netacct: no interface named '\\x1b[31mna0' in this network namespace (see 'ip "
              "link')"},
      // ---- netacct cannot run here: exit 1, nothing left loaded ----
      {.name = "NoCapabilities",
       .args = {"report"},
       .setting = S::no_capabilities,
       .exit_code = 1,
       .err = "netacct: missing CAP_BPF and CAP_PERFMON" + kNoCapabilities},
      {.name = "TopNoCapabilities",
       .args = {"top", "--batch"},
       .setting = S::no_capabilities,
       .exit_code = 1,
       .err = "netacct: missing CAP_BPF and CAP_PERFMON" + kNoCapabilities},
      {.name = "NoPerfmon",
       .args = {"report"},
       .setting = S::no_perfmon,
       .exit_code = 1,
       .err = "netacct: missing CAP_PERFMON" + kNoCapabilities},
      {.name = "NoBtf",
       .args = {"report"},
       .setting = S::no_btf,
       .exit_code = 1,
       .err = "netacct: this kernel has no BTF (/sys/kernel/btf/vmlinux); netacct needs a kernel "
              "built with CONFIG_DEBUG_INFO_BTF=y"},
      {.name = "UnavailableBackend",
       .args = {"report", "--backend", "{backend}"},
       .exit_code = 1,
       .err = "netacct: the {backend} backend is not available: {reason} (see 'netacct doctor')",
       .note = "{backend}: each backend `netacct doctor` calls unavailable (kprobe and fentry on "
               "Linux 6.18), {reason} as doctor gives it"},
      {.name = "UnreadableCgroupMount",
       .args = {"report"},
       .setting = S::unreadable_cgroup,
       .exit_code = 1,
       .err = "netacct: cannot attach the {selected} backend: cannot open {cgroup2}: Permission "
              "denied (see 'netacct doctor')",
       .note = "{selected}: the backend auto picks; {cgroup2}: the first cgroup2 mount"},
      // ---- not errors ----
      {.name = "PidOfNoProcess",
       .args = {"report", "--pid", "4194303", "--interval", "0.2"},
       .exit_code = 0,
       .err = "netacct: warning: no process with PID 4194303 (yet); watching for it",
       .runs = true},
      {.name = "RuntimeRootsOfGarbage",
       .args = {"report", "--interval", "0.2"},
       .env = {"NETACCT_DOCKER_ROOT=/nonexistent", "NETACCT_CONTAINERD_ROOT=",
               "NETACCT_CRIO_ROOT=/etc/passwd", "NETACCT_PODMAN_ROOT=relative/path"},
       .exit_code = 0,
       .runs = true},
      {.name = "TopWithoutTerminal",
       .args = {"top", "--delay", "0.2", "--count", "1"},
       .exit_code = 0,
       .runs = true},
  };
}

// An argument as a shell would take it back: bare when safe, else quoted;
// control characters in $'...' form.
inline std::string shellWord(const std::string& a) {
  if (!a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789-_./={}:") == std::string::npos)
    return a;
  bool control = false;
  for (unsigned char c : a) control |= c < 0x20 || c == 0x7f;
  if (!control) return "'" + a + "'";
  std::string out = "$'";
  for (unsigned char c : a) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == 0x1b) {
      out += "\\e";
    } else if (c < 0x20 || c == 0x7f) {
      static const char hex[] = "0123456789abcdef";
      out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
    } else {
      if (c == '\'' || c == '\\') out += '\\';
      out += char(c);
    }
  }
  return out + "'";
}

inline std::string commandLine(const Case& c) {
  std::string out = "netacct";
  for (const auto& a : c.args) out += " " + shellWord(a);
  return out;
}

// README's table, one row per case, between the markers.
inline const std::string kBegin =
    "<!-- bad-input table: begin (generated, see tests/kernel/bad_input_table.hpp) -->";
inline const std::string kEnd = "<!-- bad-input table: end -->";

inline std::string readmeTable() {
  std::string out =
      kBegin + "\n\n| command line | condition | exit | stderr (one line) |\n|---|---|---|---|\n";
  for (const Case& c : cases()) {
    std::string condition = describe(c.setting);
    if (!c.note.empty()) condition += (condition.empty() ? "" : "; ") + c.note;
    for (const auto& e : c.env) condition += (condition.empty() ? "`" : ", `") + e + "`";
    std::string err = c.err.empty() ? "" : "`" + c.err + "`";
    if (c.runs) err = (err.empty() ? "" : err + ", then ") + "the ready line; it runs";
    out += "| `" + commandLine(c) + "` | " + condition + " | " + std::to_string(c.exit_code) +
           " | " + err + " |\n";
  }
  return out + "\n" + kEnd + "\n";
}

}  // namespace kt::bad_input
