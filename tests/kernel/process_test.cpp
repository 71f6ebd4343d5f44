// Attribution to processes: threads, a socket shared across fork(), 200
// short-lived processes, 300 short connections (each with its own bytes and
// port), a process exiting mid-window, and the --pid filter. Ground truth:
// see support/fixture.hpp.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/fixture.hpp"

namespace kt {
namespace {

class ProcessAttribution : public KernelTest {};

// One connection's ground truth, posted by the child that owns it: the
// port that tells it apart (its local port, or its peer's) and its counts.
void postConn(const ChildCtx& ctx, uint16_t port, Counts c) {
  if (c.tx >> 32 || c.rx >> 32) throw std::runtime_error("postConn: counts above 4 GiB");
  ctx.post(port, c.tx << 32 | c.rx);
}
// The next n posted connections, summed per port.
std::map<std::string, Counts> takeConns(Child& child, int n) {
  std::map<std::string, Counts> out;
  for (int i = 0; i < n; ++i) {
    const auto [port, packed] = child.nextPost();
    out[std::to_string(port)] += Counts{packed >> 32, packed & 0xffffffffu};
  }
  return out;
}

// Every connection of `pid` in the run, summed per port of `which` end
// ("local" or "remote"), must equal `truth`: each connection with its own
// bytes, not only their sum. One summary line per wrong port.
void expectEachConnection(const NetacctRun& run, pid_t pid, const std::string& which,
                          const std::map<std::string, Counts>& truth) {
  std::map<std::string, Counts> got;
  for (const auto& [tuple, sum] : connectionsOf(run, pid))
    got[portOf(which == "local" ? tuple.local : tuple.remote)] += sum.bytes;
  std::vector<std::string> wrong;
  for (const auto& [port, want] : truth) {
    auto it = got.find(port);
    if (it == got.end())
      wrong.push_back(which + " port " + port + ": no connection");
    else if (it->second.tx != want.tx || it->second.rx != want.rx)
      wrong.push_back(which + " port " + port + ": tx " + std::to_string(it->second.tx) + " rx " +
                      std::to_string(it->second.rx) + ", expected tx " + std::to_string(want.tx) +
                      " rx " + std::to_string(want.rx));
  }
  for (const auto& [port, bytes] : got)
    if (!truth.count(port)) wrong.push_back(which + " port " + port + ": not a connection of ours");
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " of " << truth.size() << " connections of pid "
                             << pid << " misreported; first: " << (wrong.empty() ? "" : wrong[0]);
}

TEST_F(ProcessAttribution, ThreadsOfOneProcessSumToTheirPid) {
  constexpr int kThreads = 4;
  Netacct na;
  auto server = tcpServerA(
      AF_INET, "na-thr-srv",
      [](int fd, ChildCtx& ctx) {
        ctx.counts.rx += recvToEof(fd);
        ctx.counts.tx += sendBytes(fd, 1000);
      },
      kThreads);
  const Endpoint to = server.ep;
  Child client(nsB(), "na-thr-cli", [to](ChildCtx& ctx) {
    std::vector<Counts> per(kThreads);
    std::vector<std::string> errors(kThreads);
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i)
      threads.emplace_back([&, i] {
        try {
          int fd = tcpConnect(to);  // one socket per thread
          per[i].tx = sendBytes(fd, (i + 1) * 512 * KiB + i);
          shutdown(fd, SHUT_WR);
          per[i].rx = recvToEof(fd);
          postConn(ctx, localEndpoint(fd).port, per[i]);  // atomic on the pipe
          close(fd);
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    for (auto& t : threads) t.join();
    for (int i = 0; i < kThreads; ++i) {
      if (!errors[i].empty())
        throw std::runtime_error("thread " + std::to_string(i) + ": " + errors[i]);
      ctx.counts += per[i];
    }
  });
  const Counts s = server.child.finish(), c = client.finish();
  const auto per_thread = takeConns(client, kThreads);
  const NetacctRun run = na.stop();
  EXPECT_EQ(s.rx, c.tx);
  expectAccounted(run, server.child, s);
  expectAccounted(run, client, c);
  expectRemote(run, client.pid(), server.ep.str());
  ASSERT_EQ(per_thread.size(), static_cast<size_t>(kThreads)) << "one local port per thread";
  expectEachConnection(run, client.pid(), "local", per_thread);
}

// The parent writes N bytes, forks, the child writes M bytes on the same fd:
// the bytes belong to whoever made the syscall.
TEST_F(ProcessAttribution, SocketSharedAcrossForkCountsForTheWriter) {
  constexpr uint64_t kN = 700 * KiB + 1, kM = 300 * KiB + 2;
  Netacct na;
  auto server = tcpServerA(AF_INET, "na-fork-srv",
                           [](int fd, ChildCtx& ctx) { ctx.counts.rx += recvToEof(fd); });
  const Endpoint to = server.ep;
  Child parent(nsB(), "na-fork-par", [to](ChildCtx& ctx) {
    int fd = tcpConnect(to);
    ctx.counts.tx += sendBytes(fd, kN);
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_t kid = fork();
    if (kid == 0) {
      prctl(PR_SET_NAME, "na-fork-kid");
      uint64_t m = 0;
      try {
        m = sendBytes(fd, kM);
      } catch (...) {
        _exit(3);
      }
      _exit(write(p[1], &m, sizeof m) == sizeof m ? 0 : 4);
    }
    close(p[1]);
    uint64_t m = 0;
    int status = 0;
    if (read(p[0], &m, sizeof m) != sizeof m || waitpid(kid, &status, 0) != kid || status != 0)
      throw std::runtime_error("forked writer failed");
    ctx.post(static_cast<uint64_t>(kid), m);
  });
  const auto [kid, m] = parent.nextPost();
  const Counts s = server.child.finish(), p = parent.finish();
  const NetacctRun run = na.stop();
  EXPECT_EQ(s.rx, p.tx + m);
  expectAccounted(run, parent, p);
  expectAccounted(run, static_cast<pid_t>(kid), "na-fork-kid", Counts{m, 0});
  expectAccounted(run, server.child, s);
  expectRemote(run, parent.pid(), server.ep.str());
  expectRemote(run, static_cast<pid_t>(kid), server.ep.str());
}

// 200 processes each exchange one datagram of a distinct size and exit. One
// long window, so every exit falls in the window of its bytes.
TEST_F(ProcessAttribution, ShortLivedProcessesCountedAndMarkedExited) {
  NetacctOptions opts;
  opts.interval = 60;
  Netacct na(opts);
  const std::vector<Finished> truth =
      shortLivedUdpProcesses(nsA(), hostA(AF_INET), nsB(), "na-short", 200, 25, true);
  const NetacctRun run = na.stop();
  expectEachExact(run, truth, true);
}

// 300 connections, each with its own byte count and port: every one must be
// a row with exactly its bytes, on both sides (the client's rows by local
// port, the server's by the client's port).
TEST_F(ProcessAttribution, ManyShortTcpConnectionsFromOneProcess) {
  constexpr int kConns = 300;
  Netacct na;
  auto server = tcpServerA(
      AF_INET, "na-many-srv",
      [](int fd, ChildCtx& ctx) {
        Counts c;
        c.rx = recvToEof(fd);
        c.tx = sendBytes(fd, c.rx + 7);
        ctx.counts += c;
        postConn(ctx, peerEndpoint(fd).port, c);
      },
      kConns);
  const Endpoint to = server.ep;
  Child client(nsB(), "na-many-cli", [to](ChildCtx& ctx) {
    for (int i = 0; i < kConns; ++i) {
      int fd = tcpConnect(to);
      Counts c;
      c.tx = sendBytes(fd, 100 + i);
      shutdown(fd, SHUT_WR);
      c.rx = recvToEof(fd);
      ctx.counts += c;
      postConn(ctx, localEndpoint(fd).port, c);
      close(fd);
    }
  });
  const Counts s = server.child.finish(), c = client.finish();
  const auto server_conns = takeConns(server.child, kConns);
  const auto client_conns = takeConns(client, kConns);
  const NetacctRun run = na.stop();
  EXPECT_EQ(s.rx, c.tx);
  EXPECT_EQ(c.rx, s.tx);
  expectAccounted(run, server.child, s);
  expectAccounted(run, client, c);
  expectRemote(run, client.pid(), server.ep.str());
  expectEachConnection(run, client.pid(), "local", client_conns);
  expectEachConnection(run, server.child.pid(), "remote", server_conns);
  expectLocal(run, server.child.pid(), server.ep.str());
}

// A process that moves bytes and exits in the middle of a window: the
// window's regular report (not only the final SIGINT one) lists it as
// exited, with its bytes. The window boundary must not fall between its
// last datagram and its exit (then no report would have both), so netacct
// is frozen (SIGSTOP) right after a report, the child moves its bytes and
// exits, and netacct resumes: the next report covers both. That window is
// longer than the interval, which interval_s must show (measured, not
// nominal); the window after it is a normal one (no catch-up burst).
TEST_F(ProcessAttribution, ProcessExitingMidWindowReportedExited) {
  Netacct na;  // 1 s windows
  auto server = udpServer(nsA(), hostA(AF_INET), "na-mid-srv",
                          [](int fd, ChildCtx& ctx) { ctx.counts += udpEcho(fd, 50); });
  const Endpoint to = server.ep;
  Child client(nsB(), "na-midexit", [to](ChildCtx& ctx) {
    int fd = udpSocket(AF_INET);
    ctx.waitGo();
    ctx.counts += udpPingPong(fd, &to, 50);
  });
  na.waitReportLines(1, scaled(10));  // a poll has just ended: the next is ~1 s away
  ASSERT_EQ(kill(na.pid(), SIGSTOP), 0);
  const auto stopped = std::chrono::steady_clock::now();
  client.go();
  const Counts c = client.finish();
  server.child.finish();
  std::this_thread::sleep_until(stopped + std::chrono::milliseconds(2500));
  const size_t before = na.reportLines();
  ASSERT_EQ(kill(na.pid(), SIGCONT), 0);
  const double stalled =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stopped).count();
  na.waitReportLines(before + 2, scaled(10));  // the stalled window, then a normal one
  const NetacctRun run = na.stop();
  expectAccounted(run, client, c);
  ASSERT_GE(run.reports.size(), before + 2) << run.describe();

  const auto& stalled_report = run.reports[before];
  bool listed = false;
  for (const auto& p : arrayField(stalled_report, "processes")) {
    if (p.value("pid", -1) != client.pid()) continue;
    listed = true;
    EXPECT_TRUE(boolField(p, "exited")) << p.dump();
    EXPECT_EQ(u64Field(p, "tx_bytes"), c.tx) << p.dump();
    EXPECT_EQ(u64Field(p, "rx_bytes"), c.rx) << p.dump();
  }
  EXPECT_TRUE(listed) << "the window in which the child moved its bytes and exited must list it\n"
                      << describePid(run, client.pid());
  const double secs = numField(stalled_report, "interval_s");
  EXPECT_GE(secs, stalled - 0.05) << "interval_s of the window netacct was stopped in";
  const auto start = parseRfc3339(strField(stalled_report, "start"));
  const auto end = parseRfc3339(strField(stalled_report, "end"));
  ASSERT_TRUE(start && end) << stalled_report.dump().substr(0, 300);
  EXPECT_NEAR(secs, *end - *start, 0.05) << "interval_s is the window's measured length";
  const double next = numField(run.reports[before + 1], "interval_s");
  EXPECT_GE(next, 0.5) << "after a stall, one longer window and then normal ones, no catch-up";
  EXPECT_LE(next, 1.0 + scaledMs(500).count() / 1000.0);
}

TEST_F(ProcessAttribution, PidFilterReportsOnlyThatPid) {
  auto server = tcpServerA(AF_INET, "na-pid-srv", [](int fd, ChildCtx& ctx) {
    ctx.counts.rx += recvToEof(fd);
    ctx.counts.tx += sendBytes(fd, 64 * KiB);
  });
  auto client = tcpClientB(server.ep, "na-pid-cli", [](int fd, ChildCtx& ctx) {
    ctx.waitGo();  // the pid must exist before netacct starts with --pid
    ctx.counts.tx += sendBytes(fd, 256 * KiB);
    shutdown(fd, SHUT_WR);
    ctx.counts.rx += recvToEof(fd);
  });
  NetacctOptions opts;
  opts.pids = {client.pid()};
  Netacct na(opts);
  client.go();
  const Counts c = client.finish();
  server.child.finish();
  const NetacctRun run = na.stop();
  expectAccounted(run, client, c);
  for (const auto& r : run.reports)
    for (const char* array : {"processes", "connections"})
      for (const auto& e : r.value(array, nlohmann::json::array()))
        EXPECT_EQ(e.value("pid", -1), client.pid())
            << array << " entry of another pid: " << e.dump();
}

}  // namespace
}  // namespace kt
