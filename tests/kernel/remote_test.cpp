// Remote hosts as a grouping of `netacct report`: remotes[] in JSON and
// `--by remote` in text and CSV. One entry per (family, address): the bytes
// of every connection to that address, and how many distinct processes and
// connections moved them.
//
// Namespace A has two addresses, R1 and R2 (two remote hosts seen from B),
// each served by its own server process. From B, client P exchanges bytes
// with R1 and then with R2, client Q with R1 only. Each client posts its
// own per-connection counts (ground truth, see support/fixture.hpp), so
//   R1: P's first connection + Q's, 2 processes, 2 connections
//   R2: P's second connection,      1 process,   1 connection
//   B (the servers' remote host): both servers' counts, 2 processes, 3 connections.
// Bytes are summed over every report of the run. The JSON scenarios use one
// long window (SIGINT ends it), so the processes/connections counts of a
// window are known exactly; the CSV scenario uses 1 s windows and checks bytes.
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support/fixture.hpp"

namespace kt {
namespace {

using RemoteKey = std::pair<std::string, std::string>;  // family, bare address

struct RemoteSum {
  Counts bytes;
  int entries = 0;  // in how many reports it appeared
  uint64_t max_processes = 0;
  uint64_t max_connections = 0;
};

uint64_t u64(const nlohmann::json& e, const char* key) {
  return e.contains(key) && e[key].is_number_unsigned() ? e[key].get<uint64_t>() : 0;
}

bool isLoopback(const std::string& family, const std::string& address) {
  return family == "ipv4" ? address.rfind("127.", 0) == 0 : address == "::1";
}

// The shape of one remotes[] entry: a bare address of its family (no port,
// no brackets), byte counts, rates that match them, and at least one process
// and one connection behind the bytes.
void expectRemoteShape(const nlohmann::json& e, double secs) {
  ASSERT_TRUE(e.is_object()) << e.dump();
  ASSERT_TRUE(e.contains("remote") && e["remote"].is_string()) << e.dump();
  ASSERT_TRUE(e.contains("family") && e["family"].is_string()) << e.dump();
  const std::string family = e["family"], address = e["remote"];
  ASSERT_TRUE(family == "ipv4" || family == "ipv6") << e.dump();
  unsigned char buf[sizeof(in6_addr)];
  EXPECT_EQ(inet_pton(family == "ipv4" ? AF_INET : AF_INET6, address.c_str(), buf), 1)
      << "remote must be a bare " << family << " address: " << e.dump();
  EXPECT_FALSE(isLoopback(family, address)) << "loopback listed without --loopback: " << e.dump();
  for (const char* key : {"tx_bytes", "rx_bytes", "processes", "connections"})
    EXPECT_TRUE(e.contains(key) && e[key].is_number_unsigned()) << key << ": " << e.dump();
  for (const char* key : {"tx_rate", "rx_rate"})
    EXPECT_TRUE(e.contains(key) && e[key].is_number()) << key << ": " << e.dump();
  EXPECT_GT(u64(e, "tx_bytes") + u64(e, "rx_bytes"), 0u)
      << "only remote hosts that moved bytes are listed: " << e.dump();
  EXPECT_GE(u64(e, "processes"), 1u) << e.dump();
  EXPECT_GE(u64(e, "connections"), 1u) << e.dump();
  if (secs <= 0 || !e.contains("tx_rate") || !e.contains("rx_rate")) return;
  for (auto [bytes, rate] : {std::pair{"tx_bytes", "tx_rate"}, std::pair{"rx_bytes", "rx_rate"}}) {
    const double want = double(u64(e, bytes)) / secs;
    EXPECT_NEAR(e[rate].get<double>(), want, std::max(1.0, want * 1e-3)) << e.dump();
  }
}

// Every report's remotes[], checked for shape and summed per (family, address).
// A report without remotes[] is a failure.
std::map<RemoteKey, RemoteSum> remoteSums(const NetacctRun& run) {
  std::map<RemoteKey, RemoteSum> sums;
  for (const auto& r : run.reports) {
    if (!r.contains("remotes") || !r["remotes"].is_array()) {
      ADD_FAILURE() << "report without a remotes[] array: " << r.dump().substr(0, 300);
      continue;
    }
    const double secs = r.value("interval_s", 0.0);
    for (const auto& e : r["remotes"]) {
      expectRemoteShape(e, secs);
      if (!e.contains("remote") || !e["remote"].is_string() || !e.contains("family") ||
          !e["family"].is_string())
        continue;
      RemoteSum& s = sums[{e["family"], e["remote"]}];
      s.bytes += Counts{u64(e, "tx_bytes"), u64(e, "rx_bytes")};
      ++s.entries;
      s.max_processes = std::max(s.max_processes, u64(e, "processes"));
      s.max_connections = std::max(s.max_connections, u64(e, "connections"));
    }
  }
  return sums;
}

// Every remotes[] entry of one address, for failure messages.
std::string describeRemote(const NetacctRun& run, const std::string& address) {
  std::string s = "remotes[] entries of " + address + " in " + std::to_string(run.reports.size()) +
                  " report(s):\n";
  for (size_t i = 0; i < run.reports.size(); ++i)
    for (const auto& e : run.reports[i].value("remotes", nlohmann::json::array()))
      if (e.value("remote", "") == address)
        s += "  report " + std::to_string(i) + ": " + e.dump() + "\n";
  return s;
}

// In each report, every byte of connections[] belongs to exactly one remote host.
void expectRemotesCoverConnections(const NetacctRun& run) {
  for (const auto& r : run.reports) {
    if (!r.contains("remotes")) continue;  // reported by remoteSums()
    Counts conns, remotes;
    for (const auto& c : r.value("connections", nlohmann::json::array()))
      conns += Counts{u64(c, "tx_bytes"), u64(c, "rx_bytes")};
    for (const auto& e : r.value("remotes", nlohmann::json::array()))
      remotes += Counts{u64(e, "tx_bytes"), u64(e, "rx_bytes")};
    EXPECT_EQ(remotes.tx, conns.tx) << "remotes[] vs connections[] tx_bytes in " << r.dump();
    EXPECT_EQ(remotes.rx, conns.rx) << "remotes[] vs connections[] rx_bytes in " << r.dump();
  }
}

struct Expected {
  Counts bytes;
  uint64_t processes = 0;
  uint64_t connections = 0;
};

void expectHostTotals(const NetacctRun& run, const std::map<RemoteKey, RemoteSum>& sums, int family,
                      const std::string& address, const Expected& want) {
  SCOPED_TRACE("remote host " + address);
  const std::string detail = describeRemote(run, address);
  auto it = sums.find({familyName(family), address});
  ASSERT_TRUE(it != sums.end()) << "no remotes[] entry for " << familyName(family) << " " << address
                                << "\n"
                                << detail;
  const RemoteSum& got = it->second;
  EXPECT_EQ(got.bytes.tx, want.bytes.tx) << "tx_bytes summed over reports\n" << detail;
  EXPECT_EQ(got.bytes.rx, want.bytes.rx) << "rx_bytes summed over reports\n" << detail;
  EXPECT_EQ(got.max_processes, want.processes) << "processes (largest of a window)\n" << detail;
  EXPECT_EQ(got.max_connections, want.connections) << "connections (largest of a window)\n"
                                                   << detail;
}

// One TCP exchange from a client: `bytes` out, then the server's answer.
Counts exchangeWith(const Endpoint& to, uint64_t bytes) {
  int fd = tcpConnect(to);
  Counts c;
  c.tx = sendBytes(fd, bytes);
  shutdown(fd, SHUT_WR);
  c.rx = recvToEof(fd);
  close(fd);
  return c;
}

// Server side: reads to EOF, answers with about a third of it.
void answerThird(int fd, ChildCtx& ctx) {
  const uint64_t got = recvToEof(fd);
  ctx.counts.rx += got;
  ctx.counts.tx += sendBytes(fd, got / 3 + 7);
}

class RemoteTest : public KernelTest {
 protected:
  // Ground truth of one run of the scenario.
  struct Truth {
    Counts p_r1, p_r2, q_r1;  // the clients, per connection
    Counts s1, s2;            // the servers on R1 and R2
    Counts p() const { return Counts{p_r1.tx + p_r2.tx, p_r1.rx + p_r2.rx}; }
  };

  // Forks the servers on R1 and R2 and the clients P and Q, which wait for go().
  void prepare(int family, const std::string& tag) {
    family_ = family;
    s1_.emplace(tcpServer(nsA(), hostA(family), "na-" + tag + "-s1", answerThird, 2));
    s2_.emplace(tcpServer(nsA(), hostA2(family), "na-" + tag + "-s2", answerThird, 1));
    const Endpoint r1 = s1_->ep, r2 = s2_->ep;
    p_.emplace(nsB(), "na-" + tag + "-p", [r1, r2](ChildCtx& ctx) {
      ctx.waitGo();
      const Counts a = exchangeWith(r1, 300 * KiB + 1);
      ctx.post(a.tx, a.rx);
      const Counts b = exchangeWith(r2, 200 * KiB + 2);
      ctx.post(b.tx, b.rx);
      ctx.counts = a;
      ctx.counts += b;
    });
    q_.emplace(nsB(), "na-" + tag + "-q", [r1](ChildCtx& ctx) {
      ctx.waitGo();
      ctx.counts = exchangeWith(r1, 100 * KiB + 3);
    });
  }

  // Releases the clients and collects everyone's counts.
  Truth exchange() {
    p_->go();
    q_->go();
    Truth t;
    const Counts p = p_->finish();
    const auto [a_tx, a_rx] = p_->nextPost();
    const auto [b_tx, b_rx] = p_->nextPost();
    t.p_r1 = Counts{a_tx, a_rx};
    t.p_r2 = Counts{b_tx, b_rx};
    EXPECT_EQ(p.tx, t.p().tx);
    EXPECT_EQ(p.rx, t.p().rx);
    t.q_r1 = q_->finish();
    t.s1 = s1_->child.finish();
    t.s2 = s2_->child.finish();
    EXPECT_EQ(t.s1.rx, t.p_r1.tx + t.q_r1.tx) << "sanity: TCP delivered what R1's clients sent";
    EXPECT_EQ(t.s2.rx, t.p_r2.tx) << "sanity: TCP delivered what R2's client sent";
    return t;
  }

  std::string r1() const { return hostA(family_); }
  std::string r2() const { return hostA2(family_); }
  std::string clientsHost() const { return hostB(family_); }

  Expected atR1(const Truth& t) const {
    return {Counts{t.p_r1.tx + t.q_r1.tx, t.p_r1.rx + t.q_r1.rx}, 2, 2};
  }
  Expected atR2(const Truth& t) const { return {t.p_r2, 1, 1}; }
  Expected atClients(const Truth& t) const {
    return {Counts{t.s1.tx + t.s2.tx, t.s1.rx + t.s2.rx}, 2, 3};
  }

  int family_ = AF_INET;
  std::optional<Server> s1_, s2_;
  std::optional<Child> p_, q_;
};

class RemoteJson : public RemoteTest, public ::testing::WithParamInterface<int> {};

TEST_P(RemoteJson, TwoProcessesTwoRemotesExactBytesAndCounts) {
  const int family = GetParam();
  prepare(family, "rm");
  NetacctOptions opts;
  opts.interval = 60;  // one window holds the whole exchange: counts are exact
  Netacct na(opts);
  const Truth t = exchange();
  const NetacctRun run = na.stop();
  ASSERT_FALSE(run.reports.empty()) << run.describe();

  // The per-process view first: if this fails, the remotes cannot be right.
  expectAccounted(run, *p_, t.p());
  expectAccounted(run, *q_, t.q_r1);

  const auto sums = remoteSums(run);
  expectHostTotals(run, sums, family, r1(), atR1(t));
  expectHostTotals(run, sums, family, r2(), atR2(t));
  expectHostTotals(run, sums, family, clientsHost(), atClients(t));
  expectRemotesCoverConnections(run);
}

// --pid keeps only that process's share of each remote host.
TEST_P(RemoteJson, PidFilterKeepsOnlyThatProcessesShare) {
  const int family = GetParam();
  prepare(family, "rmpid");
  NetacctOptions opts;
  opts.interval = 60;
  opts.pids = {p_->pid()};
  Netacct na(opts);
  const Truth t = exchange();
  const NetacctRun run = na.stop();
  ASSERT_FALSE(run.reports.empty()) << run.describe();

  const auto sums = remoteSums(run);
  expectHostTotals(run, sums, family, r1(), {t.p_r1, 1, 1});
  expectHostTotals(run, sums, family, r2(), {t.p_r2, 1, 1});
  EXPECT_EQ(sums.count({familyName(family), clientsHost()}), 0u)
      << "the servers are filtered out\n"
      << describeRemote(run, clientsHost());
  EXPECT_EQ(sums.size(), 2u) << "only P's two remote hosts";
}

INSTANTIATE_TEST_SUITE_P(Families, RemoteJson, ::testing::Values(AF_INET, AF_INET6),
                         [](const auto& info) { return familyName(info.param); });

// ---- --by remote in CSV and text ----

std::vector<std::string> splitLines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

std::vector<std::string> splitCsv(const std::string& line) {  // no quoting in these rows
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string f; std::getline(in, f, ',');) fields.push_back(f);
  if (!line.empty() && line.back() == ',') fields.push_back("");
  return fields;
}

// A non-negative integer cell; a failure (and 0) if it is not one.
uint64_t csvCount(const std::string& cell, const std::string& row) {
  char* end = nullptr;
  const uint64_t v = std::strtoull(cell.c_str(), &end, 10);
  if (cell.empty() || cell[0] == '-' || *end != '\0') {
    ADD_FAILURE() << "not a count: '" << cell << "' in " << row;
    return 0;
  }
  return v;
}

class RemoteBy : public RemoteTest {
 protected:
  // `netacct report --by remote -i 1 -c N` around one run of the scenario;
  // the exchange takes well under a second here (a few under TCG qemu), so
  // 3 + scale one-second windows hold it without making the guest's suite
  // wait a scaled 4 s per run. netacct's stdout, or nullopt
  // (with the failure recorded) if it did not start or did not exit 0.
  std::optional<std::string> reportByRemote(const std::string& format, Truth& truth) {
    prepare(AF_INET, "rmby");
    const int windows = 3 + scaledSeconds(1);
    Process na({"report", "--by", "remote", "--format", format, "--interval", "1", "--count",
                std::to_string(windows), "--backend", testBackend()});
    if (!na.waitOutput(
            [](auto&, const std::string& err) {
              return err.find("netacct: ready") != std::string::npos;
            },
            scaled(20))) {
      ADD_FAILURE() << "netacct did not start; stderr: " << na.err();
      return std::nullopt;
    }
    truth = exchange();
    const auto status = na.waitExit(scaled(windows + 10));
    if (!status || !WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
      ADD_FAILURE() << "netacct did not exit 0 after " << windows
                    << " windows; stderr: " << na.err();
      return std::nullopt;
    }
    return na.out();
  }
};

TEST_F(RemoteBy, CsvHasTheHeaderAndExactBytesPerRemote) {
  Truth t;
  const auto got = reportByRemote("csv", t);
  ASSERT_TRUE(got);
  const std::string& out = *got;
  const auto lines = splitLines(out);
  ASSERT_FALSE(lines.empty()) << "no output";
  // The rows are read by position: a different header makes them meaningless.
  ASSERT_EQ(lines.front(),
            "start,end,remote,family,tx_bytes,rx_bytes,tx_rate,rx_rate,processes,connections,"
            "remote_name,remote_name_source");
  std::map<std::string, Counts> bytes;
  for (size_t i = 1; i < lines.size(); ++i) {
    const auto f = splitCsv(lines[i]);
    ASSERT_EQ(f.size(), 12u) << "row " << i << ": " << lines[i];
    EXPECT_TRUE(f[3] == "ipv4" || f[3] == "ipv6") << lines[i];
    bytes[f[2]] += Counts{csvCount(f[4], lines[i]), csvCount(f[5], lines[i])};
    EXPECT_GE(csvCount(f[8], lines[i]), 1u) << "processes: " << lines[i];
    EXPECT_GE(csvCount(f[9], lines[i]), 1u) << "connections: " << lines[i];
  }
  const Expected r1 = atR1(t), r2 = atR2(t);
  EXPECT_EQ(bytes[hostA(AF_INET)].tx, r1.bytes.tx) << out;
  EXPECT_EQ(bytes[hostA(AF_INET)].rx, r1.bytes.rx) << out;
  EXPECT_EQ(bytes[hostA2(AF_INET)].tx, r2.bytes.tx) << out;
  EXPECT_EQ(bytes[hostA2(AF_INET)].rx, r2.bytes.rx) << out;
}

// The text table's layout is pinned by unit goldens; here: a row per remote
// host that moved bytes, in the real binary.
TEST_F(RemoteBy, TextHasARowPerRemoteHost) {
  Truth t;
  const auto got = reportByRemote("text", t);
  ASSERT_TRUE(got);
  const std::string& out = *got;
  const auto lines = splitLines(out);
  for (const std::string& host : {hostA(AF_INET), hostA2(AF_INET), hostB(AF_INET)}) {
    EXPECT_TRUE(
        std::any_of(lines.begin(), lines.end(),
                    [&](const std::string& l) { return l.find(host) != std::string::npos; }))
        << "no row for " << host << "\n"
        << out;
  }
}

}  // namespace
}  // namespace kt
