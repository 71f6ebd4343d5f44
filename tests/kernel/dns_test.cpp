// `netacct top --resolve`: remote hosts named by reverse DNS, looked up in
// the background so that a resolver that never answers never stops the
// screen, and never delays exit.
//
// No real DNS server is ever asked. netacct runs in namespace B with its own
// /etc/hosts, /etc/resolv.conf and /etc/nsswitch.conf (bind-mounted in a
// private mount namespace, seen by netacct alone):
//   hosts        10.213.1.1 na-kt-named-a      (A's first address has a name)
//   resolv.conf  nameserver 10.213.1.3, 30 s timeout, 3 attempts
//   nsswitch     hosts: files dns
// and 10.213.1.3:53 in namespace A is a black hole: a test child that reads
// every query and answers none. A client in B talks to 10.213.1.1, then to
// 10.213.1.3; the remote hosts view must show the name of the first, and
// keep printing frames at its pace with the second as an address while the
// lookup hangs (a blocking lookup would stop it for 90 s).
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "support/etc_files.hpp"
#include "support/fixture.hpp"
#include "support/screen.hpp"
#include "support/tempdir.hpp"

namespace kt {
namespace {

// The question name of a DNS query ("3.1.213.10.in-addr.arpa"), or "".
std::string queryName(const unsigned char* p, size_t n) {
  std::string name;
  for (size_t i = 12; i < n;) {
    const size_t len = p[i++];
    if (len == 0) return name;
    if (len > 63 || i + len > n) return "";
    if (!name.empty()) name += '.';
    name.append(reinterpret_cast<const char*>(p + i), len);
    i += len;
  }
  return "";
}

class ReverseDnsTest : public KernelTest {
 protected:
  static constexpr const char* kHoleQuery = "3.1.213.10.in-addr.arpa";  // PTR of 10.213.1.3

  // The black hole on 10.213.1.3:53 in A: posts once bound, then once the
  // PTR query for 10.213.1.3 arrived; reads (never answering) until go().
  Child blackhole() {
    Child hole(nsA(), "na-dns-hole", [](ChildCtx& ctx) {
      int fd = udpSocket(AF_INET);
      sockaddr_storage ss;
      const socklen_t len = Endpoint{NetnsPair::kA4second, 53}.fill(ss);
      if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
        throw std::runtime_error("bind 10.213.1.3:53");
      ctx.post(1);
      std::atomic<bool> done{false};
      std::thread waiter([&] {
        ctx.waitGo();
        done = true;
      });
      bool posted = false;
      uint64_t queries = 0;
      unsigned char buf[1500];
      while (!done) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) continue;
        ++queries;
        if (!posted && queryName(buf, size_t(n)) == kHoleQuery) {
          ctx.post(2, queries);
          posted = true;
        }
      }
      waiter.join();
      close(fd);
    });
    hole.nextPost();
    return hole;
  }

  // Servers on A's two addresses and a client in B that, at each go(),
  // sends 5000 bytes to the next one and reads its answer (2000 bytes from
  // the first, 3000 from the second), posting when done.
  struct Traffic {
    Server s1, s2;
    Child client;
  };
  Traffic traffic() {
    auto s1 = tcpServer(nsA(), hostA(AF_INET), "na-dns-s1", [](int fd, ChildCtx& ctx) {
      ctx.counts.rx += recvToEof(fd);
      ctx.counts.tx += sendBytes(fd, 2000);
    });
    auto s2 = tcpServer(nsA(), hostA2(AF_INET), "na-dns-s2", [](int fd, ChildCtx& ctx) {
      ctx.counts.rx += recvToEof(fd);
      ctx.counts.tx += sendBytes(fd, 3000);
    });
    const Endpoint r1 = s1.ep, r2 = s2.ep;
    Child client(nsB(), "na-dns-cli", [r1, r2](ChildCtx& ctx) {
      for (const Endpoint& to : {r1, r2}) {
        ctx.waitGo();
        int fd = tcpConnect(to);
        ctx.counts.tx += sendBytes(fd, 5000);
        shutdown(fd, SHUT_WR);
        ctx.counts.rx += recvToEof(fd);
        close(fd);
        ctx.post(1);
      }
    });
    return {std::move(s1), std::move(s2), std::move(client)};
  }

  // netacct in B with the hosts file, resolv.conf and nsswitch.conf of the
  // top of this file, written in `dir`.
  Spawn withResolver(TempDir& dir) {
    Spawn how;
    how.netns = nsB();
    how.binds = {{dir.write("hosts", "127.0.0.1 localhost\n" + std::string(NetnsPair::kA4) +
                                         " na-kt-named-a\n"),
                  hosts_.path()},
                 {dir.write("resolv.conf", "nameserver " + std::string(NetnsPair::kA4second) +
                                               "\noptions timeout:30 attempts:3\n"),
                  resolv_.path()},
                 {dir.write("nsswitch.conf", "hosts: files dns\n"), nss_.path()}};
    return how;
  }

 private:
  MountTarget hosts_{"/etc/hosts"}, resolv_{"/etc/resolv.conf"}, nss_{"/etc/nsswitch.conf"};
};

TEST_F(ReverseDnsTest, ResolveNamesRemoteHostsAndAnUnansweredLookupNeverBlocks) {
  Child hole = blackhole();
  auto [s1, s2, client] = traffic();
  TempDir dir;
  Process top({"top", "--batch", "--view", "remotes", "--resolve", "--delay", "0.5", "--count", "0",
               "--backend", testBackend(), "--pid", std::to_string(client.pid())},
              withResolver(dir));
  ASSERT_TRUE(top.waitOutput(
      [](auto&, const std::string& err) { return err.find("netacct: ready") != std::string::npos; },
      scaled(20)))
      << top.err();

  auto lastFrame = [&] {
    const auto frames = batchFrames(top.out());
    return frames.empty() ? Screen{} : frames.back();
  };
  auto frameCount = [&] { return batchFrames(top.out()).size(); };

  // 1. 10.213.1.1 is named from the hosts file.
  client.go();
  client.nextPost();
  ASSERT_TRUE(top.waitOutput(
      [&](const std::string& out, auto&) {
        const auto frames = batchFrames(out);
        return !frames.empty() && rowStartingWith(frames.back(), "na-kt-named-a") >= 0;
      },
      scaled(10)))
      << "10.213.1.1 never shown as na-kt-named-a\n"
      << show(lastFrame()) << "\nstderr: " << top.err();
  EXPECT_LT(rowStartingWith(lastFrame(), NetnsPair::kA4), 0) << show(lastFrame());

  // 2. 10.213.1.3's lookup goes to the black hole; frames keep coming.
  client.go();
  client.nextPost();
  hole.nextPost();  // the PTR query reached the black hole (bounded wait)
  const auto asked = std::chrono::steady_clock::now();
  const size_t frames_then = frameCount();
  ASSERT_TRUE(top.waitOutput(
      [&](const std::string& out, auto&) { return batchFrames(out).size() >= frames_then + 4; },
      std::chrono::milliseconds(2000) + scaledMs(1000)))
      << "netacct top stopped printing frames while a lookup hangs (" << frameCount() - frames_then
      << " frames in "
      << std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count() << " s)\n"
      << show(lastFrame());
  const Screen f = lastFrame();
  EXPECT_GE(rowStartingWith(f, NetnsPair::kA4second), 0)
      << "an address without an answer is shown as the address\n"
      << show(f);
  EXPECT_GE(rowStartingWith(f, "na-kt-named-a"), 0) << show(f);

  // 3. Exit is prompt with the lookup still in flight.
  const auto t0 = std::chrono::steady_clock::now();
  kill(top.pid(), SIGTERM);
  const auto status = top.waitExit(scaled(3));
  ASSERT_TRUE(status) << "netacct top did not exit within 3 s with a lookup in flight";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << top.err();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
            double(scaledSeconds(3)));

  hole.go();
  hole.finish();
  client.finish();
  s1.child.finish();
  s2.child.finish();
}

// `netacct report --resolve`: a connection no DNS answer named carries its
// remote's PTR name with source ptr in the very report that first shows it
// (the report waits for the lookup), in connections[] and remotes[]; an
// address whose lookup the resolver never answers stays numeric and costs
// each report at most 1 s, not the resolver's 90 s; bytes stay exact.
TEST_F(ReverseDnsTest, ReportResolveNamesByPtrAndWaitsForAHungLookupAtMostASecond) {
  Child hole = blackhole();
  auto [s1, s2, client] = traffic();
  TempDir dir;
  NetacctOptions o;
  o.pids = {client.pid()};
  o.extra = {"--resolve"};
  Netacct na(o, withResolver(dir));

  client.go();
  client.nextPost();
  client.go();
  client.nextPost();
  hole.nextPost();  // the PTR query of 10.213.1.3 is in the black hole
  // Windows of 1 s, each report late by at most the 1 s wait: 4 reports
  // come within 8 s (a report that waited for the lookup would take 90 s).
  na.waitReportLines(na.reportLines() + 4, std::chrono::milliseconds(8000) + scaledMs(2000));
  const Counts c = client.finish();
  const NetacctRun run = na.stop();
  EXPECT_LT(run.stop_seconds, double(scaledSeconds(3))) << "exit waited for the hung lookup";
  hole.go();
  hole.finish();
  s1.child.finish();
  s2.child.finish();

  Counts named, numeric;
  EXPECT_EQ(namesSeen(run, client.pid(), "", s1.ep.str(), &named),
            (std::set<NameSeen>{{"na-kt-named-a", "ptr"}}))
      << "every row of the connection to " << s1.ep.str() << " named, the first one too";
  EXPECT_EQ(namesSeen(run, client.pid(), "", s2.ep.str(), &numeric),
            (std::set<NameSeen>{{"null", "null"}}));
  EXPECT_EQ(remoteNamesSeen(run, NetnsPair::kA4), (std::set<NameSeen>{{"na-kt-named-a", "ptr"}}));
  EXPECT_EQ(remoteNamesSeen(run, NetnsPair::kA4second), (std::set<NameSeen>{{"null", "null"}}));
  EXPECT_EQ(named.tx, 5000u);
  EXPECT_EQ(named.rx, 2000u);
  EXPECT_EQ(numeric.tx, 5000u);
  EXPECT_EQ(numeric.rx, 3000u);
  expectAccounted(run, client, c);
}

}  // namespace
}  // namespace kt
