// Command-line parsing into plain config structs. Pure: no kernel access,
// so every validation and error message is unit-tested.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernel/backend.hpp"
#include "kernel/wire.hpp"
#include "model/attribution.hpp"
#include "model/top_model.hpp"
#include "output/report.hpp"

namespace netacct {

struct ReportOptions {
  double interval_s = 5;
  uint64_t count = 1;  // 0: until interrupted
  Format format = Format::text;
  GroupKind by = GroupKind::process;
  bool resolve = false;  // PTR names for remotes no DNS answer named
};

struct TopOptions {
  double delay_s = 1;
  SortBy sort = SortBy::total;
  GroupKind view = GroupKind::process;
  Layer layer = Layer::payload;  // --bytes
  bool resolve = false;
  bool batch = false;
  uint64_t count = 0;  // batch frames; 0 = until interrupted
};

// Where `netacct serve` listens: a numeric address (IPv4, or IPv6 in
// brackets on the command line) and a port.
struct ListenAddress {
  std::string host = "127.0.0.1";  // IPv6 without brackets
  uint16_t port = 9877;
  bool ipv6() const { return host.find(':') != std::string::npos; }
  std::string text() const;  // "127.0.0.1:9877", "[::1]:9877"
};

struct ServeOptions {
  ListenAddress listen;
  bool listen_any = false;  // a non-loopback address was allowed explicitly
  double interval_s = 1;    // refresh
  uint64_t max_series = 2000;
  bool pid_labels = false;
  bool containers = false;
  // Kernel BPF run time statistics while serve runs: they cost every BPF
  // program on the host two clock reads a run, so only when asked.
  bool bpf_stats = false;
  // After loading and binding, run as this user (name or uid).
  std::optional<std::string> user;
};

// Remote names from the DNS answers each process received (report, top,
// serve): --no-dns-names, --dns-grace, --dns-cache.
struct DnsNameOptions {
  bool enabled = true;
  NameCacheConfig cache;
};

struct DoctorOptions {
  bool json = false;
};

// A subcommand to run (main runs each kind; `netacct version` is answered
// while parsing, like --help).
struct Command {
  enum class Kind { report, top, serve, doctor } kind = Kind::report;
  Backend backend = Backend::automatic;
  bool verbose = false;
  Selection selection;  // --pid and --loopback, the same for every command
  WireConfig wire;      // --interface, --no-wire, --tc-attach (report, top, serve)
  DnsNameOptions dns;   // --no-dns-names, --dns-grace, --dns-cache (report, top, serve)
  ReportOptions report;
  TopOptions top;
  ServeOptions serve;
  DoctorOptions doctor;
};

// Either a command to run, or text to print and an exit code (0 for
// --help and --version, 2 for a usage error, whose text is one line).
struct ParseResult {
  std::optional<Command> command;
  int exit_code = 0;
  std::string out, err;
};

ParseResult parse_command_line(int argc, const char* const* argv);

}  // namespace netacct
