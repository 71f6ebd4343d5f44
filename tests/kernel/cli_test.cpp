// The report command's process contract: SIGINT and SIGTERM print the partial
// window and exit 0 promptly; backend selection; the JSON schema of every
// report (netns, rates and the loss object included), interval_s measured,
// totals exact.
// Ground truth: see support/fixture.hpp.
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>

#include "support/fixture.hpp"

namespace kt {
namespace {

class CliTest : public KernelTest {
 protected:
  // A small TCP exchange B -> A; fills the children's ground truth.
  void exchange(const std::string& tag, uint64_t bytes) {
    server_.emplace(tcpServerA(AF_INET, "na-" + tag + "-srv", [](int fd, ChildCtx& ctx) {
      ctx.counts.rx += recvToEof(fd);
      ctx.counts.tx += sendBytes(fd, 1234);
    }));
    client_.emplace(tcpClientB(server_->ep, "na-" + tag + "-cli", [bytes](int fd, ChildCtx& ctx) {
      ctx.counts.tx += sendBytes(fd, bytes);
      shutdown(fd, SHUT_WR);
      ctx.counts.rx += recvToEof(fd);
    }));
    s_ = server_->child.finish();
    c_ = client_->finish();
  }
  void expectExchangeAccounted(const NetacctRun& run) {
    expectAccounted(run, server_->child, s_);
    expectAccounted(run, *client_, c_);
    expectRemote(run, client_->pid(), server_->ep.str());
  }

  std::optional<Server> server_;
  std::optional<Child> client_;
  Counts s_, c_;
};

// SIGINT and SIGTERM each print the report of the partial window, promptly,
// and exit 0. The window is what was measured, from the first snapshot to
// the signal: its interval_s is far below the nominal 60 s.
class CliStopTest : public CliTest, public ::testing::WithParamInterface<int> {};

TEST_P(CliStopTest, StopSignalPrintsOnePartialReportAndExitsZero) {
  const int sig = GetParam();
  NetacctOptions opts;
  opts.interval = 60;  // the signal arrives long before the first regular report
  const auto spawned = std::chrono::steady_clock::now();
  Netacct na(opts);
  const auto ready = std::chrono::steady_clock::now();
  exchange(sig == SIGINT ? "sigint" : "sigterm", 1 * MiB + 3);
  const auto signalled = std::chrono::steady_clock::now();
  const NetacctRun run = na.stop(sig);
  const auto exited = std::chrono::steady_clock::now();
  EXPECT_TRUE(run.exitedZero()) << run.describe();
  EXPECT_LT(run.stop_seconds, scaledSeconds(3)) << "exit after the signal took too long";
  ASSERT_EQ(run.lines.size(), 1u) << "exactly one (partial) report line expected\n"
                                  << run.describe();
  expectExchangeAccounted(run);
  const double secs = numField(run.reports[0], "interval_s");
  auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
  EXPECT_GE(secs, seconds(signalled - ready) - 0.01) << "the window covers ready .. signal";
  EXPECT_LE(secs, seconds(exited - spawned) + 0.01) << "the window lies within netacct's life";
}

INSTANTIATE_TEST_SUITE_P(Signal, CliStopTest, ::testing::Values(SIGINT, SIGTERM),
                         [](const auto& info) {
                           return std::string(info.param == SIGINT ? "SIGINT" : "SIGTERM");
                         });

// The backend this run is about: NETACCT_TEST_BACKEND, or when that is auto,
// the one netacct doctor says auto picks on this kernel.
std::string forcedBackend() {
  if (testBackend() != "auto") return testBackend();
  Process doctor({"doctor", "--format", "json"});
  doctor.waitExit(scaled(20));
  return nlohmann::json::parse(doctor.out()).value("selected", "");
}

// --backend NAME loads exactly that backend, names it in every report, and
// counts exactly with it. (Unavailable backends: bad_input_test.cpp.)
TEST_F(CliTest, ForcedBackendIsUsedAndNamed) {
  NetacctOptions opts;
  opts.backend = forcedBackend();
  ASSERT_FALSE(opts.backend.empty());
  Netacct na(opts);
  exchange("forced", 200 * KiB);
  const NetacctRun run = na.stop();
  ASSERT_FALSE(run.reports.empty()) << run.describe();
  for (const auto& r : run.reports) EXPECT_EQ(r.value("backend", ""), opts.backend);
  expectExchangeAccounted(run);
}

// An unknown --backend and every other bad command line: bad_input_test.cpp.

// ---- schema ----

bool isStrOrNull(const nlohmann::json& j) { return j.is_null() || j.is_string(); }

void expectEndpointText(const nlohmann::json& conn, const char* key) {
  ASSERT_TRUE(conn.contains(key) && conn[key].is_string()) << conn.dump();
  const std::string s = conn[key];
  if (conn.value("family", "") == "ipv6")
    EXPECT_TRUE(s.size() > 2 && s[0] == '[' && s.find("]:") != std::string::npos) << s;
  else
    EXPECT_NE(s.rfind(':'), std::string::npos) << s;
}

void expectRateMatches(const nlohmann::json& e, const char* bytes, const char* rate, double secs) {
  ASSERT_TRUE(e.contains(rate) && e[rate].is_number()) << e.dump();
  const double want = e[bytes].get<double>() / secs;
  EXPECT_NEAR(e[rate].get<double>(), want, std::max(1.0, want * 1e-3)) << e.dump();
}

void expectProcessShape(const nlohmann::json& p, double secs) {
  ASSERT_TRUE(p.is_object());
  EXPECT_TRUE(p["pid"].is_number_integer()) << p.dump();
  EXPECT_TRUE(p["comm"].is_string()) << p.dump();
  EXPECT_TRUE(isStrOrNull(p["exe"])) << p.dump();
  EXPECT_TRUE(p["uid"].is_number_integer()) << p.dump();
  EXPECT_TRUE(isStrOrNull(p["user"])) << p.dump();
  EXPECT_TRUE(isStrOrNull(p["cgroup"])) << p.dump();
  EXPECT_TRUE(isStrOrNull(p["container"])) << p.dump();
  EXPECT_TRUE(p["tx_bytes"].is_number_unsigned()) << p.dump();
  EXPECT_TRUE(p["rx_bytes"].is_number_unsigned()) << p.dump();
  EXPECT_TRUE(p["exited"].is_boolean()) << p.dump();
  EXPECT_GT(p.value("tx_bytes", 0ull) + p.value("rx_bytes", 0ull), 0ull)
      << "only processes that moved bytes are listed: " << p.dump();
  if (secs > 0) {
    expectRateMatches(p, "tx_bytes", "tx_rate", secs);
    expectRateMatches(p, "rx_bytes", "rx_rate", secs);
  }
}

void expectConnectionShape(const nlohmann::json& c, double secs) {
  ASSERT_TRUE(c.is_object());
  EXPECT_TRUE(c["pid"].is_number_integer()) << c.dump();
  EXPECT_TRUE(c["comm"].is_string()) << c.dump();
  EXPECT_TRUE(c["proto"].is_string()) << c.dump();
  EXPECT_TRUE(c["family"] == "ipv4" || c["family"] == "ipv6") << c.dump();
  expectEndpointText(c, "local");
  expectEndpointText(c, "remote");
  EXPECT_TRUE(c["tx_bytes"].is_number_unsigned()) << c.dump();
  EXPECT_TRUE(c["rx_bytes"].is_number_unsigned()) << c.dump();
  EXPECT_TRUE(c.contains("netns") && c["netns"].is_number_unsigned() && c["netns"] != 0)
      << "netns: the namespace's inode number\n"
      << c.dump();
  if (secs > 0) {
    expectRateMatches(c, "tx_bytes", "tx_rate", secs);
    expectRateMatches(c, "rx_bytes", "rx_rate", secs);
  }
}

void expectLossShape(const nlohmann::json& r) {
  ASSERT_TRUE(r.contains("loss") && r["loss"].is_object()) << r.dump().substr(0, 400);
  for (const char* key :
       {"evicted_connections", "failed_inserts", "unattributed_tx_bytes", "unattributed_rx_bytes"})
    EXPECT_TRUE(r["loss"].contains(key) && r["loss"][key].is_number_unsigned())
        << key << ": " << r["loss"].dump();
}

void expectReportShape(const nlohmann::json& r) {
  ASSERT_TRUE(r.is_object()) << r.dump();
  EXPECT_EQ(r.value("schema", ""), "netacct.report/1");
  EXPECT_TRUE(r["start"].is_string() && r["end"].is_string()) << r.dump();
  EXPECT_TRUE(r["interval_s"].is_number()) << r.dump();
  EXPECT_TRUE(r["host"].is_string()) << r.dump();
  const std::string backend = r.value("backend", "");
  EXPECT_TRUE(backend == "tracepoint" || backend == "fentry" || backend == "kprobe") << backend;
  ASSERT_TRUE(r["totals"].is_object()) << r.dump();
  EXPECT_TRUE(r["totals"]["tx_bytes"].is_number_unsigned()) << r.dump();
  EXPECT_TRUE(r["totals"]["rx_bytes"].is_number_unsigned()) << r.dump();
  ASSERT_TRUE(r["processes"].is_array() && r["connections"].is_array()) << r.dump();
  const double secs = r.value("interval_s", 0.0);
  EXPECT_GT(secs, 0.0);
  // Measured: the window's own length, as its timestamps show (ms precision).
  const auto start = parseRfc3339(r.value("start", "")), end = parseRfc3339(r.value("end", ""));
  ASSERT_TRUE(start && end) << "start/end not RFC 3339 UTC with milliseconds: " << r.dump();
  EXPECT_NEAR(secs, *end - *start, 0.02) << r.dump().substr(0, 300);
  for (const auto& p : r["processes"]) expectProcessShape(p, secs);
  for (const auto& c : r["connections"]) expectConnectionShape(c, secs);
  expectLossShape(r);
}

TEST_F(CliTest, EveryReportFollowsTheSchema) {
  Netacct na;  // 1 s windows: several regular reports plus the final one
  exchange("schema", 512 * KiB);
  usleep(1500 * 1000);
  const NetacctRun run = na.stop();
  ASSERT_GE(run.reports.size(), 2u) << run.describe();
  for (const auto& r : run.reports) {
    SCOPED_TRACE(r.dump().substr(0, 400));
    expectReportShape(r);
  }
  std::istringstream err(run.err);
  int ready_lines = 0;
  for (std::string line; std::getline(err, line);)
    ready_lines += line.rfind("netacct: ready", 0) == 0;
  EXPECT_EQ(ready_lines, 1) << "stderr:\n" << run.err;
  expectExchangeAccounted(run);
  expectConnKind(run, client_->pid(), "tcp", "ipv4");

  // totals are exactly the sum of processes[] (every process on the
  // machine: no --pid), and the loss object accounts for what processes[]
  // holds beyond connections[].
  expectTotalsExact(run);
  expectLossAccountsForConnections(run);

  // netns names each side's namespace (its inode number).
  for (const auto& [tuple, sum] : connectionsOf(run, client_->pid()))
    EXPECT_EQ(tuple.netns, netnsInode(nsB())) << "client connection " << tuple.local;
  for (const auto& [tuple, sum] : connectionsOf(run, server_->child.pid()))
    EXPECT_EQ(tuple.netns, netnsInode(nsA())) << "server connection " << tuple.local;

  std::optional<std::string> want = expectedBackend();
  if (!want && testBackend() != "auto") want = testBackend();
  if (want)
    for (const auto& r : run.reports) EXPECT_EQ(r.value("backend", ""), *want);
  else
    std::cout << "[   NOTE   ] NETACCT_EXPECT_BACKEND unset: backend name not checked (got "
              << run.reports.front().value("backend", "?") << ")\n";
}

}  // namespace
}  // namespace kt
