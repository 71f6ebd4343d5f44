#include "report.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

namespace kt {
namespace {

bool isPid(const nlohmann::json& entry, pid_t pid) {
  return entry.is_object() && entry.contains("pid") && entry["pid"].is_number_integer() &&
         entry["pid"].get<long long>() == pid;
}

uint64_t bytes(const nlohmann::json& entry, const char* key) {
  return entry.contains(key) && entry[key].is_number_unsigned() ? entry[key].get<uint64_t>() : 0;
}

// Calls f(report_index, entry) for every entry of `array` belonging to pid.
template <typename F>
void forEach(const NetacctRun& run, const char* array, pid_t pid, F f) {
  for (size_t i = 0; i < run.reports.size(); ++i) {
    const auto& r = run.reports[i];
    if (!r.contains(array) || !r[array].is_array()) continue;
    for (const auto& e : r[array])
      if (isPid(e, pid)) f(i, e);
  }
}

std::string str(const nlohmann::json& e, const char* key) {
  return e.contains(key) && e[key].is_string() ? e[key].get<std::string>() : "<missing>";
}

}  // namespace

PidView viewOf(const NetacctRun& run, pid_t pid) {
  PidView v;
  forEach(run, "processes", pid, [&](size_t, const nlohmann::json& e) {
    v.processes += Counts{bytes(e, "tx_bytes"), bytes(e, "rx_bytes")};
    ++v.process_entries;
    const bool exited = e.contains("exited") && e["exited"] == true;
    v.any_exited |= exited;
    v.last_exited = exited;
    v.comms.insert(str(e, "comm"));
  });
  forEach(run, "connections", pid, [&](size_t, const nlohmann::json& e) {
    v.connections += Counts{bytes(e, "tx_bytes"), bytes(e, "rx_bytes")};
    v.comms.insert(str(e, "comm"));
    v.conns.push_back(e);
  });
  return v;
}

std::string describePid(const NetacctRun& run, pid_t pid) {
  std::string s = "entries of pid " + std::to_string(pid) + " in " +
                  std::to_string(run.reports.size()) + " report(s):\n";
  for (const char* array : {"processes", "connections"}) {
    forEach(run, array, pid, [&](size_t i, const nlohmann::json& e) {
      s += "  report " + std::to_string(i) + " " + array + ": " + e.dump() + "\n";
    });
  }
  return s;
}

void expectAccounted(const NetacctRun& run, pid_t pid, const std::string& comm, Counts expected) {
  SCOPED_TRACE("pid " + std::to_string(pid) + " comm " + comm);
  const PidView v = viewOf(run, pid);
  const std::string detail = describePid(run, pid);
  EXPECT_EQ(v.processes.tx, expected.tx) << "processes[] tx_bytes summed over reports\n" << detail;
  EXPECT_EQ(v.processes.rx, expected.rx) << "processes[] rx_bytes summed over reports\n" << detail;
  EXPECT_EQ(v.connections.tx, expected.tx) << "connections[] tx_bytes summed\n" << detail;
  EXPECT_EQ(v.connections.rx, expected.rx) << "connections[] rx_bytes summed\n" << detail;
  if (!comm.empty() && v.process_entries > 0) {
    EXPECT_EQ(v.comms, std::set<std::string>{comm}) << "comm of every entry\n" << detail;
  }
}

void expectRemote(const NetacctRun& run, pid_t pid, const std::string& remote) {
  const PidView v = viewOf(run, pid);
  EXPECT_FALSE(v.conns.empty()) << "pid " << pid << " has no connections[] entries";
  for (const auto& c : v.conns) EXPECT_EQ(str(c, "remote"), remote) << c.dump();
}

void expectLocal(const NetacctRun& run, pid_t pid, const std::string& local) {
  const PidView v = viewOf(run, pid);
  EXPECT_FALSE(v.conns.empty()) << "pid " << pid << " has no connections[] entries";
  for (const auto& c : v.conns) EXPECT_EQ(str(c, "local"), local) << c.dump();
}

void expectRemoteHost(const NetacctRun& run, pid_t pid, const std::string& host) {
  const PidView v = viewOf(run, pid);
  const bool v6 = host.find(':') != std::string::npos;
  const std::string prefix = v6 ? "[" + host + "]:" : host + ":";
  for (const auto& c : v.conns)
    EXPECT_EQ(str(c, "remote").rfind(prefix, 0), 0u)
        << "remote should start with " << prefix << ": " << c.dump();
}

void expectConnKind(const NetacctRun& run, pid_t pid, const std::string& proto,
                    const std::string& family) {
  for (const auto& c : viewOf(run, pid).conns) {
    EXPECT_EQ(str(c, "proto"), proto) << c.dump();
    EXPECT_EQ(str(c, "family"), family) << c.dump();
  }
}

std::string familyName(int af) { return af == AF_INET6 ? "ipv6" : "ipv4"; }

}  // namespace kt
