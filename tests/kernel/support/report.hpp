// Reading netacct reports back: per-pid sums over every report, and the
// gtest assertions the scenarios share.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "child.hpp"
#include "netacct.hpp"

namespace kt {

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

}  // namespace kt
