// The report command's process contract: SIGINT prints the partial window and
// exits 0 promptly; backend selection; the JSON schema of every report.
// Ground truth: see support/fixture.hpp.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

TEST_F(CliTest, SigintPrintsOnePartialReportAndExitsZero) {
  NetacctOptions opts;
  opts.interval = 60;  // SIGINT arrives long before the first regular report
  Netacct na(opts);
  exchange("sigint", 1 * MiB + 3);
  const NetacctRun run = na.stop();
  EXPECT_TRUE(run.exitedZero()) << run.describe();
  EXPECT_LT(run.stop_seconds, 3.0) << "exit after SIGINT took too long";
  EXPECT_EQ(run.lines.size(), 1u) << "exactly one (partial) report line expected\n"
                                  << run.describe();
  expectExchangeAccounted(run);
}

// The backend this run is about: NETACCT_TEST_BACKEND, or when that is auto,
// the one netacct doctor says auto picks on this kernel.
std::string forcedBackend() {
  if (testBackend() != "auto") return testBackend();
  Process doctor({"doctor", "--format", "json"});
  doctor.waitExit(scaled(20));
  return nlohmann::json::parse(doctor.out()).value("selected", "");
}

// --backend NAME loads exactly that backend, names it in every report, and
// counts exactly with it. (Unavailable backends: doctor_test.cpp.)
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

// Needs no privileges: argument parsing fails before anything is loaded.
TEST(NetacctBackend, UnknownBackendExitsTwo) {
  NetacctOptions opts;
  opts.backend = "no-such-backend";
  Process p(reportArgs(opts));
  const auto status = p.waitExit(scaled(20));
  ASSERT_TRUE(status) << "netacct did not exit";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2)
      << "wait status " << *status << ", stderr: " << p.err();
}

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

void expectConnectionShape(const nlohmann::json& c) {
  ASSERT_TRUE(c.is_object());
  EXPECT_TRUE(c["pid"].is_number_integer()) << c.dump();
  EXPECT_TRUE(c["comm"].is_string()) << c.dump();
  EXPECT_TRUE(c["proto"].is_string()) << c.dump();
  EXPECT_TRUE(c["family"] == "ipv4" || c["family"] == "ipv6") << c.dump();
  expectEndpointText(c, "local");
  expectEndpointText(c, "remote");
  EXPECT_TRUE(c["tx_bytes"].is_number_unsigned()) << c.dump();
  EXPECT_TRUE(c["rx_bytes"].is_number_unsigned()) << c.dump();
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
  for (const auto& p : r["processes"]) expectProcessShape(p, secs);
  for (const auto& c : r["connections"]) expectConnectionShape(c);
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

  // totals cover at least what our two processes moved.
  Counts totals;
  for (const auto& r : run.reports)
    totals += Counts{r["totals"].value("tx_bytes", 0ull), r["totals"].value("rx_bytes", 0ull)};
  EXPECT_GE(totals.tx, s_.tx + c_.tx);
  EXPECT_GE(totals.rx, s_.rx + c_.rx);

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
