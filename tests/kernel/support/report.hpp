// Reading netacct reports back: per-pid sums over every report, and the
// gtest assertions the scenarios share.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "child.hpp"
#include "netacct.hpp"

namespace kt {

// Fields of a report entry. A field that is missing or of the wrong type is
// a test failure (never a silent 0, "" or false: "expect 0 rx" must not pass
// because rx_bytes vanished); the returned value is then a placeholder.
uint64_t u64Field(const nlohmann::json& e, const char* key);
std::string strField(const nlohmann::json& e, const char* key);
bool boolField(const nlohmann::json& e, const char* key);
double numField(const nlohmann::json& e, const char* key);
// report[key] as an array; a failure (and an empty array) when it is not one.
const nlohmann::json& arrayField(const nlohmann::json& report, const char* key);

// One pid as seen across all reports of a run.
struct PidView {
  Counts processes;    // sum of processes[] entries
  Counts connections;  // sum of connections[] entries
  int process_entries = 0;
  bool any_exited = false;
  bool last_exited = false;  // "exited" of the pid's entry in the latest report listing it
  std::set<std::string> comms;
  std::vector<nlohmann::json> conns;  // every connections[] entry of the pid
};

PidView viewOf(const NetacctRun& run, pid_t pid);
std::string describePid(const NetacctRun& run, pid_t pid);  // its entries, for messages

// processes[] and connections[] of `pid` sum exactly to `expected`, and every
// entry carries `comm` (if not empty).
// Remote names as reports carry them: (remote_name, remote_name_source),
// JSON null as "null"; a field missing or mistyped is a failure.
using NameSeen = std::pair<std::string, std::string>;
// Every name the connections[] entries of `pid` with this remote endpoint
// (and local one, unless empty) carried over all reports; their bytes
// summed into `bytes`.
std::set<NameSeen> namesSeen(const NetacctRun& run, pid_t pid, const std::string& local,
                             const std::string& remote, Counts* bytes = nullptr);
// Every name the remotes[] entries of `address` carried.
std::set<NameSeen> remoteNamesSeen(const NetacctRun& run, const std::string& address);

void expectAccounted(const NetacctRun& run, pid_t pid, const std::string& comm, Counts expected);
inline void expectAccounted(const NetacctRun& run, const Child& c, Counts expected) {
  expectAccounted(run, c.pid(), c.comm(), expected);
}

// Every connection entry of `pid` has this remote / local "addr:port".
void expectRemote(const NetacctRun& run, pid_t pid, const std::string& remote);
void expectLocal(const NetacctRun& run, pid_t pid, const std::string& local);
// ... this remote address (any port).
void expectRemoteHost(const NetacctRun& run, pid_t pid, const std::string& host);
// ... this proto ("tcp", "udp") and family ("ipv4", "ipv6").
void expectConnKind(const NetacctRun& run, pid_t pid, const std::string& proto,
                    const std::string& family);

std::string familyName(int af);  // "ipv4" / "ipv6"

// One connection as reported: (proto, local, remote, netns).
struct ConnTuple {
  std::string proto, local, remote;
  uint64_t netns = 0;
  auto operator<=>(const ConnTuple&) const = default;
};
struct ConnSum {
  Counts bytes;     // summed over every report
  int entries = 0;  // how many connections[] entries (reports) it has
};
// Every connection of `pid`, bytes summed over all reports.
std::map<ConnTuple, ConnSum> connectionsOf(const NetacctRun& run, pid_t pid);
std::string portOf(const std::string& endpoint);  // "10.0.0.1:80" -> "80", "[::]:0" -> "0"

// In every report, totals equal the sum of processes[] exactly.
void expectTotalsExact(const NetacctRun& run);
// In every report, the loss object is complete, failed_inserts is 0,
// evicted_connections never drops, and unattributed_*_bytes is exactly what
// processes[] holds beyond their connections[] (per process, summed).
void expectLossAccountsForConnections(const NetacctRun& run);

// Output that only holds printable bytes and newlines (UTF-8 sequences, such
// as top's block characters, included): nothing a monitored process
// controls reached it raw.
::testing::AssertionResult noRawControls(const std::string& out);

// "2026-11-26T16:09:09.628Z" -> seconds since the epoch; nullopt if not that form.
std::optional<double> parseRfc3339(const std::string& s);

}  // namespace kt
