#include "report.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstdio>
#include <ctime>

namespace kt {
namespace {

bool isPid(const nlohmann::json& entry, pid_t pid) {
  return entry.is_object() && entry.contains("pid") && entry["pid"].is_number_integer() &&
         entry["pid"].get<long long>() == pid;
}

uint64_t bytes(const nlohmann::json& entry, const char* key) { return u64Field(entry, key); }

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

std::string str(const nlohmann::json& e, const char* key) { return strField(e, key); }

}  // namespace

uint64_t u64Field(const nlohmann::json& e, const char* key) {
  if (e.is_object() && e.contains(key) && e[key].is_number_unsigned())
    return e[key].get<uint64_t>();
  ADD_FAILURE() << "field \"" << key << "\" missing or not an unsigned integer in "
                << e.dump().substr(0, 600);
  return 0;
}

std::string strField(const nlohmann::json& e, const char* key) {
  if (e.is_object() && e.contains(key) && e[key].is_string()) return e[key].get<std::string>();
  ADD_FAILURE() << "field \"" << key << "\" missing or not a string in " << e.dump().substr(0, 600);
  return "<missing " + std::string(key) + ">";
}

bool boolField(const nlohmann::json& e, const char* key) {
  if (e.is_object() && e.contains(key) && e[key].is_boolean()) return e[key].get<bool>();
  ADD_FAILURE() << "field \"" << key << "\" missing or not a boolean in "
                << e.dump().substr(0, 600);
  return false;
}

double numField(const nlohmann::json& e, const char* key) {
  if (e.is_object() && e.contains(key) && e[key].is_number()) return e[key].get<double>();
  ADD_FAILURE() << "field \"" << key << "\" missing or not a number in " << e.dump().substr(0, 600);
  return -1;
}

const nlohmann::json& arrayField(const nlohmann::json& report, const char* key) {
  static const nlohmann::json empty = nlohmann::json::array();
  if (report.is_object() && report.contains(key) && report[key].is_array()) return report[key];
  ADD_FAILURE() << "report without a \"" << key << "\" array: " << report.dump().substr(0, 400);
  return empty;
}

std::map<ConnTuple, ConnSum> connectionsOf(const NetacctRun& run, pid_t pid) {
  std::map<ConnTuple, ConnSum> out;
  forEach(run, "connections", pid, [&](size_t, const nlohmann::json& e) {
    ConnSum& c =
        out[ConnTuple{str(e, "proto"), str(e, "local"), str(e, "remote"), u64Field(e, "netns")}];
    c.bytes += Counts{bytes(e, "tx_bytes"), bytes(e, "rx_bytes")};
    ++c.entries;
  });
  return out;
}

::testing::AssertionResult noRawControls(const std::string& out) {
  for (size_t i = 0; i < out.size(); ++i) {
    const unsigned char c = out[i];
    if ((c < 0x20 && c != '\n') || c == 0x7f)
      return ::testing::AssertionFailure() << "raw byte " << int(c) << " at " << i << " in\n"
                                           << out;
  }
  return ::testing::AssertionSuccess();
}

std::string portOf(const std::string& endpoint) {
  const auto colon = endpoint.rfind(':');
  return colon == std::string::npos ? "" : endpoint.substr(colon + 1);
}

void expectTotalsExact(const NetacctRun& run) {
  for (size_t i = 0; i < run.reports.size(); ++i) {
    const auto& r = run.reports[i];
    SCOPED_TRACE("report " + std::to_string(i));
    Counts procs;
    for (const auto& p : arrayField(r, "processes"))
      procs += Counts{bytes(p, "tx_bytes"), bytes(p, "rx_bytes")};
    ASSERT_TRUE(r.contains("totals") && r["totals"].is_object()) << r.dump().substr(0, 400);
    EXPECT_EQ(u64Field(r["totals"], "tx_bytes"), procs.tx)
        << "totals.tx_bytes must be the sum of processes[]: " << r.dump().substr(0, 2000);
    EXPECT_EQ(u64Field(r["totals"], "rx_bytes"), procs.rx)
        << "totals.rx_bytes must be the sum of processes[]: " << r.dump().substr(0, 2000);
  }
}

void expectLossAccountsForConnections(const NetacctRun& run) {
  uint64_t last_evicted = 0;
  for (size_t i = 0; i < run.reports.size(); ++i) {
    const auto& r = run.reports[i];
    SCOPED_TRACE("report " + std::to_string(i));
    ASSERT_TRUE(r.contains("loss") && r["loss"].is_object()) << r.dump().substr(0, 400);
    const auto& loss = r["loss"];
    for (const char* key : {"evicted_connections", "failed_inserts", "unattributed_tx_bytes",
                            "unattributed_rx_bytes"})
      u64Field(loss, key);  // present and an integer
    EXPECT_EQ(u64Field(loss, "failed_inserts"), 0u) << loss.dump();
    const uint64_t evicted = u64Field(loss, "evicted_connections");
    EXPECT_GE(evicted, last_evicted) << "evicted_connections counts since start: it never drops";
    last_evicted = evicted;
    // Per process, bytes without a connection row are "unattributed": the
    // sum over processes of max(0, process - its connections).
    std::map<long long, Counts> proc, conn;
    for (const auto& p : arrayField(r, "processes"))
      proc[p.value("pid", -1LL)] += Counts{bytes(p, "tx_bytes"), bytes(p, "rx_bytes")};
    for (const auto& c : arrayField(r, "connections"))
      conn[c.value("pid", -1LL)] += Counts{bytes(c, "tx_bytes"), bytes(c, "rx_bytes")};
    Counts unattributed;
    for (const auto& [pid, p] : proc) {
      const Counts c = conn.count(pid) ? conn[pid] : Counts{};
      unattributed += Counts{p.tx > c.tx ? p.tx - c.tx : 0, p.rx > c.rx ? p.rx - c.rx : 0};
    }
    EXPECT_EQ(u64Field(loss, "unattributed_tx_bytes"), unattributed.tx) << loss.dump();
    EXPECT_EQ(u64Field(loss, "unattributed_rx_bytes"), unattributed.rx) << loss.dump();
  }
}

std::optional<double> parseRfc3339(const std::string& s) {
  std::tm tm{};
  int ms = 0;
  char z = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &z) != 8 ||
      z != 'Z' || s.size() != 24)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return double(timegm(&tm)) + ms / 1000.0;
}

PidView viewOf(const NetacctRun& run, pid_t pid) {
  PidView v;
  forEach(run, "processes", pid, [&](size_t, const nlohmann::json& e) {
    v.processes += Counts{bytes(e, "tx_bytes"), bytes(e, "rx_bytes")};
    ++v.process_entries;
    const bool exited = boolField(e, "exited");
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

namespace {

std::string orNull(const nlohmann::json& e, const char* key) {
  if (!e.is_object() || !e.contains(key)) {
    ADD_FAILURE() << "field \"" << key << "\" missing in " << e.dump().substr(0, 600);
    return "<missing>";
  }
  if (e[key].is_null()) return "null";
  if (e[key].is_string()) return e[key].get<std::string>();
  ADD_FAILURE() << "field \"" << key << "\" neither a string nor null in " << e.dump();
  return "<mistyped>";
}

}  // namespace

std::set<NameSeen> namesSeen(const NetacctRun& run, pid_t pid, const std::string& local,
                             const std::string& remote, Counts* bytes) {
  std::set<NameSeen> seen;
  for (const auto& r : run.reports)
    for (const auto& e : r.value("connections", nlohmann::json::array())) {
      if (e.value("pid", -1) != pid || e.value("remote", "") != remote) continue;
      if (!local.empty() && e.value("local", "") != local) continue;
      seen.emplace(orNull(e, "remote_name"), orNull(e, "remote_name_source"));
      if (bytes != nullptr) *bytes += Counts{u64Field(e, "tx_bytes"), u64Field(e, "rx_bytes")};
    }
  return seen;
}

std::set<NameSeen> remoteNamesSeen(const NetacctRun& run, const std::string& address) {
  std::set<NameSeen> seen;
  for (const auto& r : run.reports)
    for (const auto& e : r.value("remotes", nlohmann::json::array()))
      if (e.value("remote", "") == address)
        seen.emplace(orNull(e, "remote_name"), orNull(e, "remote_name_source"));
  return seen;
}

}  // namespace kt
