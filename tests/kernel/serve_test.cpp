// netacct serve against a real Prometheus (Debian's /usr/bin/prometheus,
// started here, scraping every second): each program's series equals the
// bytes its processes moved (raw samples, exact), the series sum equals
// netacct's own totals at one scrape, 3000 programs stay within a budget of
// 100 series with the sum exact, and the HTTP side (a port in use, a
// non-loopback address, 200 concurrent scrapes, clients that stall) never
// disturbs accounting. Ground truth: see support/fixture.hpp. netacct runs
// in the test's namespace with --no-wire; Prometheus scrapes it over
// loopback, which netacct does not count by default.
#include "support/serve.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "support/bpf_objects.hpp"
#include "support/cgroups.hpp"
#include "support/fixture.hpp"
#include "support/http.hpp"
#include "support/prometheus.hpp"
#include "support/tc.hpp"

namespace kt {
namespace {

const std::string kProgramMetric = "netacct_program_payload_bytes_total";

// A PromQL selector of one program's series.
std::string programSeries(const std::string& program, const std::string& direction) {
  return kProgramMetric + "{program=\"" + program + "\",direction=\"" + direction + "\"}";
}

std::function<bool(const nlohmann::json&)> valueIs(double want) {
  return [want](const nlohmann::json& r) {
    return r.size() == 1 && std::stod(r[0]["value"][1].get<std::string>()) == want;
  };
}

void waitUp(PrometheusServer& prom) {
  ASSERT_TRUE(prom.waitQuery("up{job=\"netacct\"}", valueIs(1), scaled(15)))
      << "Prometheus never scraped netacct: " << prom.log();
}

// A program's series in a direct scrape (root runs the test's children).
double programValue(const std::map<std::string, double>& s, const std::string& program,
                    const std::string& direction) {
  auto it = s.find(kProgramMetric + "{program=\"" + program + "\",user=\"root\",direction=\"" +
                   direction + "\"}");
  return it == s.end() ? -1 : it->second;
}

class ServeTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    if (access(kPrometheusBin, X_OK) != 0)
      KT_SKIP(std::string(kPrometheusBin) + " is missing (apt-get install prometheus)");
  }
};

// A client sends in two phases; between them the test waits until
// Prometheus holds a sample equal to the first phase's bytes. The raw
// samples then step from that value to the total: their difference is the
// second phase's bytes exactly (no rate(), no extrapolation).
TEST_F(ServeTest, PrometheusSamplesOfEachProgramAreItsBytesExactly) {
  constexpr uint64_t kFirst = 300000, kSecond = 123457;
  const uint16_t port = freeLoopbackPort();
  auto na = startServe(port);
  PrometheusServer prom(port);
  waitUp(prom);
  auto server = tcpServerA(AF_INET, "na-sv-srv",
                           [](int fd, ChildCtx& ctx) { ctx.counts.rx += recvToEof(fd); });
  Child client(nsB(), "na-sv-cli", [to = server.ep](ChildCtx& ctx) {
    int fd = tcpConnect(to);
    ctx.counts.tx += sendBytes(fd, kFirst);
    ctx.post(1);
    ctx.waitGo();
    ctx.counts.tx += sendBytes(fd, kSecond);
    close(fd);
  });
  client.nextPost();
  const std::string cli = programSeries("na-sv-cli", "tx"), srv = programSeries("na-sv-srv", "rx");
  ASSERT_TRUE(prom.waitQuery(cli, valueIs(kFirst), scaled(15))) << prom.query(cli).dump();
  client.go();
  const Counts c = client.finish(), s = server.child.finish();
  ASSERT_EQ(c.tx, kFirst + kSecond);
  ASSERT_TRUE(prom.waitQuery(cli, valueIs(double(c.tx)), scaled(15))) << prom.query(cli).dump();
  ASSERT_TRUE(prom.waitQuery(srv, valueIs(double(s.rx)), scaled(15))) << prom.query(srv).dump();
  EXPECT_EQ(s.rx, c.tx);

  const std::vector<double> raw = rawSamples(prom.query(cli + "[5m]")["result"]);
  ASSERT_FALSE(raw.empty());
  for (size_t i = 1; i < raw.size(); ++i) EXPECT_GE(raw[i], raw[i - 1]) << "sample " << i;
  auto first = std::find(raw.begin(), raw.end(), double(kFirst));
  ASSERT_NE(first, raw.end()) << "no raw sample equals the first phase's " << kFirst;
  EXPECT_EQ(raw.back() - *first, double(kSecond));
  EXPECT_EQ(raw.back(), double(c.tx));
  // The client received nothing, the server sent nothing: no such series.
  EXPECT_EQ(prom.query(programSeries("na-sv-cli", "rx"))["result"].size(), 0u);
  EXPECT_EQ(prom.query(programSeries("na-sv-srv", "tx"))["result"].size(), 0u);

  // At one scrape, the program series add up to netacct's own totals
  // exactly (both directions), whatever else the host moved meanwhile.
  auto sums =
      byLabel(prom.query("sum by (direction) (" + kProgramMetric + ")")["result"], "direction");
  auto diff = byLabel(prom.query("sum by (direction) (" + kProgramMetric +
                                 ") - on (direction) netacct_payload_bytes_total")["result"],
                      "direction");
  EXPECT_GE(sums["tx"], double(c.tx));
  EXPECT_GE(sums["rx"], double(s.rx));
  EXPECT_EQ(diff, (std::map<std::string, double>{{"rx", 0}, {"tx", 0}}));
}

// 3000 short-lived processes with distinct names (prctl PR_SET_NAME), in a
// cgroup netacct is told to show alone (--cgroup), so the totals are known
// exactly: with --max-series 100, no scrape has more than 100 program
// series besides `other`, and their sum is every byte moved.
TEST_F(ServeTest, ThreeThousandProgramsStayWithinABudgetOfAHundredWithExactSums) {
  constexpr int kProcs = 3000, kBatch = 50;
  auto size = [](int i) { return uint64_t(100 + i % 1000); };
  uint64_t truth = 0;
  for (int i = 0; i < kProcs; ++i) truth += size(i);
  CgroupTree tree;
  const Cgroup group = tree.make("serve");
  const uint16_t port = freeLoopbackPort();
  auto na = startServe(port, {"--max-series", "100", "--cgroup", group.rel});
  PrometheusServer prom(port);
  waitUp(prom);

  Child sink(nsA(), "na-sv-sink", [&group](ChildCtx& ctx) {
    enterCgroup(group);
    int lfd = tcpListen(NetnsPair::kA4);
    ctx.post(localEndpoint(lfd).port);
    for (int i = 0; i < kProcs; ++i) {
      int fd = tcpAccept(lfd);
      ctx.counts.rx += recvToEof(fd);
      close(fd);
    }
  });
  const Endpoint to{NetnsPair::kA4, uint16_t(sink.nextPost().first)};
  // Each grandchild names itself, sends its bytes and exits 0 only if the
  // sends returned exactly that many.
  Child spawner(nsB(), "na-sv-spawn", [&group, to, size](ChildCtx& ctx) {
    enterCgroup(group);
    int failed = 0;
    for (int base = 0; base < kProcs; base += kBatch) {
      for (int i = base; i < base + kBatch; ++i) {
        pid_t pid = fork();
        if (pid < 0) throw std::runtime_error("fork failed");
        if (pid > 0) continue;
        char name[16];
        snprintf(name, sizeof name, "na-b%04d", i);
        prctl(PR_SET_NAME, name);
        try {
          int fd = tcpConnect(to);
          uint64_t sent = sendBytes(fd, size(i));
          close(fd);
          _exit(sent == size(i) ? 0 : 1);
        } catch (...) {
          _exit(2);
        }
      }
      for (int i = 0; i < kBatch; ++i) {
        int status = 0;
        if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
      }
    }
    if (failed) throw std::runtime_error(std::to_string(failed) + " senders failed");
    for (int i = 0; i < kProcs; ++i) ctx.counts.tx += size(i);
  });
  // 3,000 forks of a child of the test process: each copies the page tables
  // of a process that has grown through the suite (20 s was too little late
  // in a full run beside the bystander netacct); what is asserted is the
  // bytes, not the pace.
  const Counts sent = spawner.finish(scaled(120)), got = sink.finish();
  ASSERT_EQ(sent.tx, truth);
  ASSERT_EQ(got.rx, truth);

  const std::string sums = "sum by (direction) (" + kProgramMetric + ")";
  ASSERT_TRUE(prom.waitQuery(
      sums,
      [&](const nlohmann::json& r) {
        return byLabel(r, "direction") ==
               std::map<std::string, double>{{"rx", double(truth)}, {"tx", double(truth)}};
      },
      scaled(20)))
      << prom.query(sums).dump();
  EXPECT_EQ(byLabel(prom.query("netacct_payload_bytes_total")["result"], "direction"),
            (std::map<std::string, double>{{"rx", double(truth)}, {"tx", double(truth)}}));
  const std::string named = kProgramMetric + "{program!=\"other\"}";
  const double live = byLabel(prom.query("count(" + named + ")")["result"], "")[""];
  EXPECT_LE(live, 100);
  EXPECT_GE(live, 1);
  // Every scrape of the run, not only the last one.
  const double most =
      byLabel(prom.query("max_over_time(count(" + named + ")[5m:1s])")["result"], "")[""];
  EXPECT_LE(most, 100);
  // Every label set (3000 senders' tx, the sink's rx) is live or folded.
  EXPECT_EQ(byLabel(prom.query("netacct_series_folded_total{metric=\"" + kProgramMetric +
                               "\"}")["result"],
                    "metric")[kProgramMetric],
            kProcs + 1 - live);
  EXPECT_EQ(byLabel(prom.query(kProgramMetric + "{program=\"other\"}")["result"], "direction")
                .count("tx"),
            1u);
}

// The kernel's BPF statistics cost every BPF program on the host two clock
// reads a run: serve turns them on only with --bpf-stats. Without it no
// run-time or runs series; with it both. Either way the sysctl
// kernel.bpf_stats_enabled is left as it was (serve holds the statistics on
// through BPF_ENABLE_STATS's fd, which goes with the process).
TEST_F(ServeTest, BpfRunTimeOnlyWithBpfStats) {
  auto sysctl = [] {
    std::ifstream in("/proc/sys/kernel/bpf_stats_enabled");
    int v = -1;
    in >> v;
    return v;
  };
  const int before = sysctl();
  ASSERT_NE(before, -1) << "cannot read kernel.bpf_stats_enabled";
  if (before != 0) KT_SKIP("kernel.bpf_stats_enabled is already on here");
  auto has = [](const std::map<std::string, double>& s, const std::string& metric) {
    return std::any_of(s.begin(), s.end(),
                       [&](const auto& kv) { return kv.first.starts_with(metric); });
  };
  for (bool asked : {false, true}) {
    SCOPED_TRACE(asked ? "with --bpf-stats" : "without --bpf-stats");
    const uint16_t port = freeLoopbackPort();
    auto na = startServe(
        port, asked ? std::vector<std::string>{"--bpf-stats"} : std::vector<std::string>{});
    // BPF_ENABLE_STATS holds the statistics on through an fd, never
    // through the sysctl (which shows only its own setting): untouched.
    EXPECT_EQ(sysctl(), 0);
    auto server = tcpServerA(AF_INET, "na-sv-st",
                             [](int fd, ChildCtx& ctx) { ctx.counts.rx += recvToEof(fd); });
    tcpClientB(server.ep, "na-sv-stc", [](int fd, ChildCtx& ctx) {
      ctx.counts.tx += sendBytes(fd, 100000);
    }).finish();
    server.child.finish();
    std::map<std::string, double> s;
    const auto deadline = std::chrono::steady_clock::now() + scaled(10);
    bool seen = false;
    while (!seen && std::chrono::steady_clock::now() < deadline) {
      s = scrape(port);
      seen = has(s, "netacct_program_payload_bytes_total{program=\"na-sv-stc\"");
      if (!seen) usleep(100 * 1000);
    }
    EXPECT_TRUE(seen) << "the client's bytes never reached /metrics";
    EXPECT_EQ(has(s, "netacct_bpf_program_runs_total"), asked);
    EXPECT_EQ(has(s, "netacct_bpf_program_run_time_seconds_total"), asked);
    na.reset();
    EXPECT_EQ(sysctl(), 0) << "serve changed kernel.bpf_stats_enabled";
  }
}

TEST_F(ServeTest, PortInUseFailsInOneLineAndLoadsNothing) {
  int busy = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(bind(busy, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(busy, 1), 0);
  ASSERT_EQ(getsockname(busy, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const uint16_t port = ntohs(a.sin_port);
  const BpfIds before = allLoaded();
  Process na({"serve", "--listen", listenArg(port), "--no-wire", "--backend", testBackend()});
  auto status = na.waitExit(scaled(10));
  na.waitOutput([](const std::string&, const std::string&) { return false; }, scaled(2));
  close(busy);
  ASSERT_TRUE(status) << "netacct serve did not exit: " << na.err();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << *status;
  EXPECT_EQ(na.err(), "netacct: cannot listen on " + listenArg(port) +
                          ": Address already in use (another exporter on this port? choose one "
                          "with --listen)\n");
  EXPECT_EQ(na.out(), "");
  const BpfIds orphans = stillLoaded(allLoaded().minus(before).minus(heldByAnyone()));
  EXPECT_TRUE(waitGone(orphans, scaled(3)).empty()) << "left behind: " << describe(orphans);
}

TEST_F(ServeTest, NonLoopbackListenIsRefusedWithoutListenAny) {
  Process na({"serve", "--listen", "0.0.0.0:9877", "--backend", testBackend()});
  auto status = na.waitExit(scaled(10));
  na.waitOutput([](const std::string&, const std::string&) { return false; }, scaled(2));
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << *status;
  EXPECT_EQ(na.err(),
            "netacct: --listen: 0.0.0.0:9877 is not a loopback address; add --listen-any to serve "
            "/metrics to other hosts (see 'netacct serve --help')\n");
}

// Clients that stall (one connects and says nothing, one asks again and
// again and never reads, with a receive buffer too small to park the
// answers) and 200 concurrent scrapes while traffic moves: every scrape is
// answered, netacct keeps running, and the bytes are exact afterwards.
TEST_F(ServeTest, ConcurrentScrapesAndStalledClientsLeaveAccountingExact) {
  constexpr int kScrapes = 200;
  constexpr uint64_t kBytes = 4 * MiB;
  const uint16_t port = freeLoopbackPort();
  auto na = startServe(port);
  int silent = connectLoopback(port);
  int stalled = connectLoopback(port, 1024);
  std::string asks;
  for (int i = 0; i < 50; ++i) asks += "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_EQ(send(stalled, asks.data(), asks.size(), MSG_NOSIGNAL), ssize_t(asks.size()));

  auto server = tcpServerA(AF_INET, "na-sv-busy",
                           [](int fd, ChildCtx& ctx) { ctx.counts.rx += recvToEof(fd); });
  Child client(nsB(), "na-sv-load", [to = server.ep](ChildCtx& ctx) {
    int fd = tcpConnect(to);
    for (int i = 0; i < 16; ++i) {
      ctx.counts.tx += sendBytes(fd, kBytes / 16);
      usleep(100000);  // spread over refreshes and scrapes
    }
    close(fd);
  });
  std::atomic<int> answered{0};
  std::vector<std::string> errors(kScrapes);
  std::vector<std::thread> scrapers;
  for (int i = 0; i < kScrapes; ++i)
    scrapers.emplace_back([&, i] {
      try {
        HttpResponse r = httpGet(port, "/metrics", scaledMs(20000));
        if (r.status == 200 && r.body.find("netacct_build_info{") != std::string::npos)
          ++answered;
        else
          errors[i] = "HTTP " + std::to_string(r.status);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  for (auto& t : scrapers) t.join();
  const Counts c = client.finish(), s = server.child.finish();
  std::string first_error;
  for (const auto& e : errors)
    if (!e.empty() && first_error.empty()) first_error = e;
  EXPECT_EQ(answered.load(), kScrapes) << "first error: " << first_error;
  EXPECT_FALSE(na->exited()) << na->err();

  const auto deadline = std::chrono::steady_clock::now() + scaled(10);
  std::map<std::string, double> m;
  do {
    m = scrape(port);
    if (programValue(m, "na-sv-load", "tx") == double(c.tx) &&
        programValue(m, "na-sv-busy", "rx") == double(s.rx))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(programValue(m, "na-sv-load", "tx"), double(c.tx));
  EXPECT_EQ(programValue(m, "na-sv-busy", "rx"), double(s.rx));
  EXPECT_EQ(c.tx, kBytes);
  HttpResponse root = httpGet(port, "/", scaledMs(5000));
  EXPECT_EQ(root.status, 200);
  EXPECT_NE(root.headers.find("Content-Type: text/html"), std::string::npos) << root.headers;
  EXPECT_NE(root.body.find("<a href=\"/metrics\">"), std::string::npos) << root.body;
  close(silent);
  close(stalled);
  kill(na->pid(), SIGINT);
  auto status = na->waitExit(scaled(15));
  ASSERT_TRUE(status) << "netacct serve did not stop on SIGINT";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << *status << " " << na->err();
}

// --containers: a systemd service's cgroup (made by the test) gets a series
// of its own, named as its runtime names it, with its processes' bytes
// exactly (the kernel's per-cgroup counters).
TEST_F(ServeTest, ContainerSeriesAreTheirGroupsBytes) {
  constexpr uint64_t kBytes = 654321;
  CgroupTree tree;
  const Cgroup unit = tree.make("system.slice/na-sv-unit.service");
  const uint16_t port = freeLoopbackPort();
  auto na = startServe(port, {"--containers"});
  auto server = tcpServerA(AF_INET, "na-sv-unit", [&unit](int fd, ChildCtx& ctx) {
    enterCgroup(unit);
    ctx.counts.rx += recvToEof(fd);
    ctx.counts.tx += sendBytes(fd, 1000);
  });
  auto client = tcpClientB(server.ep, "na-sv-peer", [](int fd, ChildCtx& ctx) {
    ctx.counts.tx += sendBytes(fd, kBytes);
    shutdown(fd, SHUT_WR);
    ctx.counts.rx += recvToEof(fd);
  });
  const Counts c = client.finish(), s = server.child.finish();
  ASSERT_EQ(s.rx, kBytes);
  const std::string series =
      "netacct_container_payload_bytes_total{container=\"na-sv-unit.service\","
      "runtime=\"systemd\",direction=\"";
  const auto deadline = std::chrono::steady_clock::now() + scaled(10);
  std::map<std::string, double> m;
  do {
    m = scrape(port);
    if (m[series + "rx\"}"] == double(s.rx) && m[series + "tx\"}"] == double(s.tx)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(m[series + "rx\"}"], double(s.rx));
  EXPECT_EQ(m[series + "tx\"}"], double(s.tx));
  EXPECT_EQ(programValue(m, "na-sv-peer", "tx"), double(c.tx));
  EXPECT_EQ(programValue(m, "na-sv-peer", "rx"), double(c.rx));
}

// The wire layer (netacct in namespace A, on na0; scraped from inside A):
// na0's wire series lie between two readings of the device's own counters
// (from ready to after the traffic, and from before the start to after the
// scrape), and each receipt class has its series.
TEST_F(ServeTest, WireSeriesLieBetweenTheInterfacesOwnCounters) {
  const uint16_t port = freeLoopbackPort();
  const DevCounters start = devCounters(nsA(), "na0");
  auto na = startServe(port, {"--interface", "na0"}, Spawn{.netns = nsA()});
  const DevCounters ready = devCounters(nsA(), "na0");
  auto server = tcpServerA(AF_INET, "na-sv-wsrv", [](int fd, ChildCtx& ctx) {
    ctx.counts.rx += recvToEof(fd);
    ctx.counts.tx += sendBytes(fd, 1000);
  });
  auto client = tcpClientB(server.ep, "na-sv-wcli", [](int fd, ChildCtx& ctx) {
    ctx.counts.tx += sendBytes(fd, 2 * MiB);
    shutdown(fd, SHUT_WR);
    ctx.counts.rx += recvToEof(fd);
  });
  client.finish();
  const Counts s = server.child.finish();
  const DevCounters after = devCounters(nsA(), "na0");
  const std::string wire = "netacct_interface_wire_bytes_total{interface=\"na0\",direction=\"";
  auto scrapeA = [&] { return inNetns(nsA(), [&] { return scrape(port); }); };
  const auto deadline = std::chrono::steady_clock::now() + scaled(10);
  std::map<std::string, double> m;
  do {
    m = scrapeA();
    if (m[wire + "rx\"}"] >= double(after.rx_bytes - ready.rx_bytes) &&
        m[wire + "tx\"}"] >= double(after.tx_bytes - ready.tx_bytes))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  const DevCounters end = devCounters(nsA(), "na0");
  EXPECT_GE(m[wire + "rx\"}"], double(after.rx_bytes - ready.rx_bytes));
  EXPECT_LE(m[wire + "rx\"}"], double(end.rx_bytes - start.rx_bytes));
  EXPECT_GE(m[wire + "tx\"}"], double(after.tx_bytes - ready.tx_bytes));
  EXPECT_LE(m[wire + "tx\"}"], double(end.tx_bytes - start.tx_bytes));
  EXPECT_GE(m[wire + "rx\"}"], double(s.rx)) << "sanity: the payload crossed na0";
  EXPECT_GT(m["netacct_interface_wire_packets_total{interface=\"na0\",direction=\"rx\"}"], 0);
  for (const std::string series :
       {"netacct_retransmitted_bytes_total{interface=\"na0\"}",
        "netacct_forwarded_bytes_total{interface=\"na0\"}",
        "netacct_unattributed_wire_bytes_total{interface=\"na0\",reason=\"non_socket\"}",
        "netacct_unattributed_wire_bytes_total{interface=\"na0\",reason=\"no_process\"}",
        "netacct_unexplained_wire_bytes{interface=\"na0\"}"})
    EXPECT_TRUE(m.count(series)) << series;
  EXPECT_EQ(m["netacct_forwarded_bytes_total{interface=\"na0\"}"], 0) << "nothing was routed";
  EXPECT_EQ(programValue(m, "na-sv-wsrv", "rx"), double(s.rx));
}

}  // namespace
}  // namespace kt
