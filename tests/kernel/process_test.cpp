// Attribution to processes: threads, a socket shared across fork(), 200
// short-lived processes, 300 short connections, a process exiting mid-window,
// and the --pid filter. Ground truth: see support/fixture.hpp.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/fixture.hpp"

namespace kt {
namespace {

class ProcessAttribution : public KernelTest {};

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
  const NetacctRun run = na.stop();
  EXPECT_EQ(s.rx, c.tx);
  expectAccounted(run, server.child, s);
  expectAccounted(run, client, c);
  expectRemote(run, client.pid(), server.ep.str());
  std::set<std::string> locals;
  for (const auto& conn : viewOf(run, client.pid()).conns) locals.insert(conn.value("local", ""));
  EXPECT_EQ(locals.size(), static_cast<size_t>(kThreads)) << "one connection per thread's socket";
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
  constexpr int kProcs = 200, kBatch = 25;
  NetacctOptions opts;
  opts.interval = 60;
  Netacct na(opts);
  auto server = udpServer(nsA(), hostA(AF_INET), "na-short-srv",
                          [](int fd, ChildCtx& ctx) { ctx.counts += udpEcho(fd, kProcs); });
  const Endpoint to = server.ep;
  std::vector<std::pair<pid_t, Counts>> truth;
  for (int base = 0; base < kProcs; base += kBatch) {
    std::vector<Child> batch;  // bounded: each child holds two pipes
    for (int i = base; i < base + kBatch; ++i)
      batch.emplace_back(nsB(), "na-short", [to, i](ChildCtx& ctx) {
        int fd = udpSocket(AF_INET);
        ctx.counts += udpPingPong(fd, &to, 1, i);
        close(fd);
      });
    for (auto& c : batch) truth.emplace_back(c.pid(), c.finish());
  }
  const Counts s = server.child.finish();
  const NetacctRun run = na.stop();
  expectAccounted(run, server.child, s);

  std::vector<std::string> wrong;  // one summary line per bad pid, not 200 failures
  for (const auto& [pid, counts] : truth) {
    const PidView v = viewOf(run, pid);
    if (v.processes.tx != counts.tx || v.processes.rx != counts.rx ||
        v.connections.tx != counts.tx || v.connections.rx != counts.rx || !v.any_exited ||
        v.comms != std::set<std::string>{"na-short"})
      wrong.push_back("expected tx " + std::to_string(counts.tx) + " rx " +
                      std::to_string(counts.rx) + " exited comm na-short; " +
                      describePid(run, pid));
  }
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " of " << kProcs
                             << " short-lived processes misreported; first: "
                             << (wrong.empty() ? "" : wrong.front());
}

TEST_F(ProcessAttribution, ManyShortTcpConnectionsFromOneProcess) {
  constexpr int kConns = 300;
  Netacct na;
  auto server = tcpServerA(
      AF_INET, "na-many-srv",
      [](int fd, ChildCtx& ctx) {
        const uint64_t got = recvToEof(fd);
        ctx.counts.rx += got;
        ctx.counts.tx += sendBytes(fd, got + 7);
      },
      kConns);
  const Endpoint to = server.ep;
  Child client(nsB(), "na-many-cli", [to](ChildCtx& ctx) {
    for (int i = 0; i < kConns; ++i) {
      int fd = tcpConnect(to);
      ctx.counts.tx += sendBytes(fd, 100 + i);
      shutdown(fd, SHUT_WR);
      ctx.counts.rx += recvToEof(fd);
      close(fd);
    }
  });
  const Counts s = server.child.finish(), c = client.finish();
  const NetacctRun run = na.stop();
  EXPECT_EQ(s.rx, c.tx);
  EXPECT_EQ(c.rx, s.tx);
  expectAccounted(run, server.child, s);
  expectAccounted(run, client, c);
  expectRemote(run, client.pid(), server.ep.str());
}

// The child moves its bytes right after a report and exits: the next regular
// report (not only the SIGINT one) must list it as exited, with its comm.
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
  na.waitReportLines(1, scaled(10));  // a window has just begun
  client.go();
  const Counts c = client.finish();
  server.child.finish();
  na.waitReportLines(na.reportLines() + 1, scaled(10));  // the window it exited in
  const NetacctRun run = na.stop();
  expectAccounted(run, client, c);
  const PidView v = viewOf(run, client.pid());
  EXPECT_TRUE(v.last_exited) << describePid(run, client.pid());
  bool in_regular_report = false;
  for (size_t i = 0; i + 1 < run.reports.size(); ++i)
    for (const auto& p : run.reports[i].value("processes", nlohmann::json::array()))
      if (p.value("pid", -1) == client.pid() && p.value("exited", false)) in_regular_report = true;
  EXPECT_TRUE(in_regular_report) << "exited entry expected in an interval report, not only the "
                                    "final one\n"
                                 << describePid(run, client.pid());
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
