// netacct top's options, from the real binary in batch mode (stdout a pipe):
// --sort, --view, --pid, --loopback, --delay, batch frames without --batch
// when stdout is not a terminal, and the width from $COLUMNS (100 without).
// Interactive top in a real terminal: top_tmux_test.cpp. --resolve:
// dns_test.cpp.
//
// Four processes with known, distinct byte counts, all named with --pid:
//   U  in B: 600 datagrams of 1000 B to 10.213.1.3 (A's second address)
//   C  in B: TCP to S, sends 400 KiB, receives 350 KiB
//   S  in A: receives 400 KiB, sends 350 KiB
//   L  in A: TCP to itself over 127.0.0.1 (loopback only)
// so that the orders differ: by sent U > C > S, by received S > C > U, by
// total C = S > U. Three `netacct top` run at once over the same traffic:
//   1. processes,   --sort sent,  no --batch,  $COLUMNS unset  (width 100)
//   2. connections, --sort recv,  --loopback,  $COLUMNS=160    (EXECUTABLE column)
//   3. remotes,     --sort total,              $COLUMNS=60, a hosts file naming
//      10.213.1.1 (without --resolve it stays an address)
// Each run's first frame that shows every byte (TOTAL column) must list
// exactly the expected rows in the expected order.
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/fixture.hpp"
#include "support/screen.hpp"
#include "support/tempdir.hpp"

namespace kt {
namespace {

using Clock = std::chrono::steady_clock;

// Both ends of a TCP connection over 127.0.0.1 in this process.
Counts talkToSelf() {
  int lfd = tcpListen("127.0.0.1");
  int a = tcpConnect(localEndpoint(lfd));
  int b = tcpAccept(lfd);
  Counts ca, cb;
  std::thread other([&] { cb = duplexExchange(b, 10 * KiB); });
  ca = duplexExchange(a, 10 * KiB + 1);
  other.join();
  close(a);
  close(b);
  close(lfd);
  return Counts{ca.tx + cb.tx, ca.rx + cb.rx};
}

// TOTAL of a row's sent ("=>") or received ("<=") line: the fifth number
// (2s, 10s, 40s, PEAK, TOTAL); NaN if absent.
double totalOf(const Screen& s, int row, bool sent) {
  if (row < 0 || size_t(row) + 1 >= s.size()) return NAN;
  const auto nums = numbersAfter(s[size_t(row) + (sent ? 0 : 1)], sent ? "=>" : "<=");
  return nums.size() >= 5 ? parseCompact(nums[4]) : NAN;
}

bool near(double shown, uint64_t want) {
  return !std::isnan(shown) && std::fabs(shown - double(want)) <= 0.01 * double(want) + 1;
}

// The first word of each row (a PID, or a remote host's address), in order.
std::vector<std::string> rowKeys(const Screen& s) {
  std::vector<std::string> keys;
  for (int i : rowLines(s)) keys.push_back(words(s[size_t(i)].substr(1)).at(0));
  return keys;
}

// Waits for a frame that satisfies `pred`; returns it (empty if none came).
Screen waitFrame(Process& p, const std::function<bool(const Screen&)>& pred,
                 std::chrono::milliseconds timeout) {
  Screen found;
  p.waitOutput(
      [&](const std::string& out, auto&) {
        for (const auto& f : batchFrames(out))
          if (pred(f)) {
            found = f;
            return true;
          }
        return false;
      },
      timeout);
  return found;
}

// When each frame's first byte arrived (netacct writes a frame at once).
std::vector<Clock::time_point> frameTimes(Process& p) {
  const std::string out = p.out();
  const auto arrivals = p.outArrivals();
  std::vector<Clock::time_point> times;
  for (size_t at = 0; (at = out.find("netacct top ", at)) != std::string::npos; ++at) {
    if (at != 0 && out[at - 1] != '\n') continue;
    for (const auto& [t, size] : arrivals)
      if (size > at) {
        times.push_back(t);
        break;
      }
  }
  return times;
}

class TopBatchOptions : public KernelTest {};

TEST_F(TopBatchOptions, SortViewPidLoopbackDelayAndColumns) {
  auto sink = udpServer(nsA(), hostA2(AF_INET), "na-tb-sink", [](int, ChildCtx& ctx) {
    ctx.waitGo();  // never reads: the datagrams are dropped when its buffer is full
  });
  const Endpoint sink_ep = sink.ep;
  Child u(nsB(), "na-tb-udp", [sink_ep](ChildCtx& ctx) {
    int fd = udpSocket(AF_INET);
    sockaddr_storage ss;
    const socklen_t len = sink_ep.fill(ss);
    if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
      throw std::runtime_error("connect udp");
    ctx.waitGo();
    char buf[1000] = {};
    for (int i = 0; i < 600; ++i) {
      const ssize_t n = send(fd, buf, sizeof buf, 0);
      if (n <= 0) throw std::runtime_error("send udp");
      ctx.counts.tx += uint64_t(n);
    }
    close(fd);
  });
  auto s = tcpServerA(AF_INET, "na-tb-srv", [](int fd, ChildCtx& ctx) {
    ctx.counts.rx += recvToEof(fd);
    ctx.counts.tx += sendBytes(fd, 350 * KiB);
  });
  const Endpoint s_ep = s.ep;
  Child c(nsB(), "na-tb-cli", [s_ep](ChildCtx& ctx) {
    ctx.waitGo();  // connects after netacct started (pre-existing ones: connections_test)
    int fd = tcpConnect(s_ep);
    ctx.counts.tx += sendBytes(fd, 400 * KiB);
    shutdown(fd, SHUT_WR);
    ctx.counts.rx += recvToEof(fd);
    close(fd);
  });
  Child l(nsA(), "na-tb-lo", [](ChildCtx& ctx) {
    ctx.waitGo();
    ctx.counts = talkToSelf();
  });

  TempDir dir;
  const std::string hosts = dir.write(
      "hosts", "127.0.0.1 localhost\n" + std::string(NetnsPair::kA4) + " na-kt-named-a\n");
  const std::string backend = testBackend();
  std::vector<std::string> pids;
  for (pid_t p : {u.pid(), c.pid(), s.child.pid(), l.pid()}) {
    pids.push_back("--pid");
    pids.push_back(std::to_string(p));
  }
  auto args = [&](std::vector<std::string> a) {
    a.insert(a.begin(), {"top", "--count", "0", "--delay", "0.5", "--backend", backend});
    a.insert(a.end(), pids.begin(), pids.end());
    return a;
  };
  Spawn unset_columns;
  unset_columns.env = {"COLUMNS"};
  Spawn wide;
  wide.env = {"COLUMNS=160"};
  Spawn narrow;
  narrow.env = {"COLUMNS=60"};
  narrow.binds = {{hosts, "/etc/hosts"}};
  auto readyOf = [](Process& p) {
    return p.waitOutput(
        [](auto&, const std::string& err) {
          return err.find("netacct: ready") != std::string::npos;
        },
        scaled(20));
  };
  Process byProcess(args({"--sort", "sent"}), unset_columns);  // not --batch: stdout is a pipe
  Process byConnection(args({"--batch", "--sort", "recv", "--view", "connections", "--loopback"}),
                       wide);
  Process byRemote(args({"--batch", "--sort", "total", "--view", "remotes"}), narrow);
  for (Process* p : {&byProcess, &byConnection, &byRemote})
    ASSERT_TRUE(readyOf(*p)) << "netacct top did not start: " << p->err();

  for (Child* child : {&u, &c, &l}) child->go();
  const Counts tu = u.finish(), tc = c.finish(), ts = s.child.finish(), tl = l.finish();
  sink.child.go();
  sink.child.finish();
  ASSERT_EQ(ts.rx, tc.tx);
  ASSERT_EQ(tc.rx, ts.tx);
  const std::string U = std::to_string(u.pid()), C = std::to_string(c.pid()),
                    S = std::to_string(s.child.pid()), L = std::to_string(l.pid());

  // 1. processes, sorted by sent: U, C, S; L moved only loopback bytes.
  {
    SCOPED_TRACE("processes view, --sort sent, no --batch, $COLUMNS unset");
    const Screen f = waitFrame(
        byProcess,
        [&](const Screen& sc) {
          return near(totalOf(sc, rowOf(sc, u.pid()), true), tu.tx) &&
                 near(totalOf(sc, rowOf(sc, c.pid()), true), tc.tx) &&
                 near(totalOf(sc, rowOf(sc, s.child.pid()), false), ts.rx);
        },
        scaled(10));
    ASSERT_FALSE(f.empty()) << "no frame with every byte\n" << byProcess.out();
    EXPECT_NE(f[0].find("  processes  bytes/s  "), std::string::npos) << f[0];
    EXPECT_EQ(rowKeys(f), (std::vector<std::string>{U, C, S})) << show(f);
    for (const auto& line : f) EXPECT_LE(displayWidth(line), 100u) << line;
    EXPECT_EQ(f[4].find("EXECUTABLE"), std::string::npos) << "no room for it at 100 columns";
  }
  // 2. connections with loopback, sorted by received: S's, C's, L's two, U's.
  {
    SCOPED_TRACE("connections view, --sort recv, --loopback, COLUMNS=160");
    const Screen f = waitFrame(
        byConnection,
        [&](const Screen& sc) {
          double loop_rx = 0;  // L's two sockets
          for (int i : rowLines(sc))
            if (words(sc[size_t(i)].substr(1)).at(0) == L) loop_rx += totalOf(sc, i, false);
          return near(totalOf(sc, rowOf(sc, s.child.pid()), false), ts.rx) &&
                 near(totalOf(sc, rowOf(sc, c.pid()), false), tc.rx) &&
                 near(totalOf(sc, rowOf(sc, u.pid()), true), tu.tx) && near(loop_rx, tl.rx);
        },
        scaled(10));
    ASSERT_FALSE(f.empty()) << "no frame with every byte\n" << byConnection.out();
    EXPECT_NE(f[0].find("  connections  bytes/s  "), std::string::npos) << f[0];
    EXPECT_EQ(rowKeys(f), (std::vector<std::string>{S, C, L, L, U})) << show(f);
    const int lrow = rowOf(f, l.pid());
    EXPECT_NE(f[size_t(lrow) + 1].find("to 127.0.0.1:"), std::string::npos) << show(f);
    size_t widest = 0;
    for (const auto& line : f) widest = std::max(widest, displayWidth(line));
    EXPECT_LE(widest, 160u);
    EXPECT_GT(widest, 100u) << "$COLUMNS=160 must widen the frame\n" << show(f);
    EXPECT_NE(f[4].find("EXECUTABLE"), std::string::npos) << f[4];
  }
  // 3. remote hosts by total: 10.213.1.1 and .2 (750 KiB each), then .3.
  {
    SCOPED_TRACE("remote hosts view, --sort total, COLUMNS=60");
    const std::string a1 = NetnsPair::kA4, b1 = NetnsPair::kB4, a2 = NetnsPair::kA4second;
    const Screen f = waitFrame(
        byRemote,
        [&](const Screen& sc) {
          return near(totalOf(sc, rowStartingWith(sc, a1), true), tc.tx) &&
                 near(totalOf(sc, rowStartingWith(sc, b1), true), ts.tx) &&
                 near(totalOf(sc, rowStartingWith(sc, a2), true), tu.tx);
        },
        scaled(10));
    ASSERT_FALSE(f.empty()) << "no frame with every byte\n" << byRemote.out();
    EXPECT_NE(f[0].find("  remote hosts  "), std::string::npos) << f[0];
    const auto keys = rowKeys(f);
    ASSERT_EQ(keys.size(), 3u) << "no 127.0.0.1 without --loopback\n" << show(f);
    EXPECT_EQ(keys[2], a2) << show(f);
    EXPECT_EQ(std::set<std::string>(keys.begin(), keys.begin() + 2),
              (std::set<std::string>{a1, b1}))
        << "addresses, not names from the hosts file, without --resolve\n"
        << show(f);
    for (const auto& line : f) EXPECT_LE(displayWidth(line), 60u) << line;
  }

  // --delay 0.5: frames half a second apart (a slow machine may stretch
  // them, never bunch them up).
  {
    byProcess.waitOutput([](const std::string& out, auto&) { return batchFrames(out).size() >= 6; },
                         std::chrono::milliseconds(3000) + scaledMs(2000));
    const auto times = frameTimes(byProcess);
    ASSERT_GE(times.size(), 6u) << byProcess.out();
    std::vector<double> gaps;
    for (size_t i = 1; i < times.size(); ++i)
      gaps.push_back(std::chrono::duration<double>(times[i] - times[i - 1]).count());
    std::vector<double> sorted = gaps;
    std::sort(sorted.begin(), sorted.end());
    const double median = sorted[sorted.size() / 2];
    EXPECT_GE(median, 0.4) << "--delay 0.5";
    EXPECT_LE(median, 0.5 + 0.1 * timeoutScale()) << "--delay 0.5";
    for (double g : gaps) EXPECT_GE(g, 0.25) << "frames bunched up";
  }

  // A stop signal prints one last frame and exits 0; no escape codes.
  for (Process* p : {&byProcess, &byConnection, &byRemote}) {
    kill(p->pid(), SIGTERM);
    const auto status = p->waitExit(scaled(5));
    ASSERT_TRUE(status) << "netacct top did not exit on SIGTERM";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << p->err();
    const std::string out = p->out();
    EXPECT_EQ(out.find('\x1b'), std::string::npos) << "escape code in batch output";
    EXPECT_EQ(out.rfind("netacct top ", 0), 0u) << out.substr(0, 200);
    EXPECT_TRUE(out.size() >= 2 && out.substr(out.size() - 2) == "\n\n")
        << "the last frame is complete";
  }
}

// --bytes wire: the same rows in wire bytes. An unconnected UDP server in B
// echoes 60 datagrams of a client in A; two `netacct top` in B on na1, --pid
// the server, one in payload bytes (the default), one with --bytes wire. The
// server's row sends its payload in the first, and that plus 42 bytes of
// Ethernet, IPv4 and UDP headers per datagram in the second, whose first
// line says "wire bytes/s".
TEST_F(TopBatchOptions, BytesWireShowsTheSameRowsInWireBytes) {
  constexpr int kDatagrams = 60;
  constexpr uint64_t kHeaders = 14 + 20 + 8;
  Server server = udpServer(nsB(), hostB(AF_INET), "na-tb-usrv",
                            [](int fd, ChildCtx& ctx) { ctx.counts += udpEcho(fd, kDatagrams); });
  const Endpoint to = server.ep;
  Child client(nsA(), "na-tb-ucli", [to](ChildCtx& ctx) {
    int fd = udpBound(hostA(AF_INET));
    ctx.waitGo();
    ctx.counts += udpPingPong(fd, &to, kDatagrams);
    close(fd);
  });
  Spawn inB;
  inB.netns = nsB();
  auto top = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = {
        "top",       "--batch",     "--count",     "0",
        "--delay",   "0.5",         "--pid",       std::to_string(server.child.pid()),
        "--backend", testBackend(), "--interface", "na1"};
    a.insert(a.end(), extra.begin(), extra.end());
    return std::make_unique<Process>(a, inB);
  };
  auto payload = top({}), wire = top({"--bytes", "wire"});
  for (Process* p : {payload.get(), wire.get()})
    ASSERT_TRUE(p->waitOutput(
        [](auto&, const std::string& err) {
          return err.find("netacct: ready") != std::string::npos;
        },
        scaled(20)))
        << "netacct top did not start: " << p->err();
  client.go();
  client.finish();
  const Counts moved = server.child.finish();
  ASSERT_EQ(moved.tx, moved.rx) << "sanity: the server echoed every datagram";
  const uint64_t on_wire = moved.tx + kHeaders * kDatagrams;
  const pid_t pid = server.child.pid();
  for (auto [p, expected] : {std::pair{payload.get(), moved.tx}, std::pair{wire.get(), on_wire}}) {
    const uint64_t want = expected;  // clang 14 (tests/fuzz) captures no structured binding
    const bool in_wire = p == wire.get();
    SCOPED_TRACE(in_wire ? "--bytes wire" : "payload");
    const Screen f = waitFrame(
        *p,
        [&](const Screen& sc) {
          return near(totalOf(sc, rowOf(sc, pid), true), want) &&
                 near(totalOf(sc, rowOf(sc, pid), false), want);
        },
        scaled(10));
    ASSERT_FALSE(f.empty()) << "no frame with " << want << " bytes each way\n" << p->out();
    EXPECT_NE(f[0].find(in_wire ? "  processes  wire bytes/s  " : "  processes  bytes/s  "),
              std::string::npos)
        << f[0];
    kill(p->pid(), SIGTERM);
    const auto status = p->waitExit(scaled(5));
    ASSERT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << p->err();
  }
}

}  // namespace
}  // namespace kt
