// Connections as netacct must see them, beyond a fresh connection in one
// namespace: TCP connections opened (and used) before netacct started, whose
// receive baseline is settled by their first read; and identical 5-tuples in
// two network namespaces, told apart by `netns`. Ground truth: see
// support/fixture.hpp.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "support/fixture.hpp"

namespace kt {
namespace {

class PreexistingTest : public KernelTest, public ::testing::WithParamInterface<int> {};

// Before netacct starts, client and server connect and exchange bytes both
// ways; the client also sends bytes the server has not read yet. Only the
// syscalls after netacct is ready count (the ground truth starts after
// go()): the server's first read returns those pending bytes too, and
// they count, because its return value says they were read then.
TEST_P(PreexistingTest, ConnectionOpenedBeforeNetacctCountsExactlyFromItsFirstRead) {
  const int family = GetParam();
  constexpr uint64_t kBefore = 100 * KiB + 3, kPending = 50 * KiB + 1;
  auto server = tcpServerA(family, "na-pre-srv", [](int fd, ChildCtx& ctx) {
    uint64_t got = 0;
    char buf[64 * 1024];
    while (got < kBefore) {
      const ssize_t n = read(fd, buf, std::min<uint64_t>(sizeof buf, kBefore - got));
      if (n <= 0) throw std::runtime_error("read before netacct");
      got += uint64_t(n);
    }
    sendBytes(fd, kBefore);
    ctx.post(1);
    ctx.waitGo();
    ctx.counts.rx += recvToEof(fd);  // the pending bytes, then the rest
    ctx.counts.tx += sendBytes(fd, 300 * KiB + 7);
  });
  auto client = tcpClientB(server.ep, "na-pre-cli", [](int fd, ChildCtx& ctx) {
    sendBytes(fd, kBefore);
    uint64_t got = 0;
    char buf[64 * 1024];
    while (got < kBefore) {
      const ssize_t n = read(fd, buf, std::min<uint64_t>(sizeof buf, kBefore - got));
      if (n <= 0) throw std::runtime_error("read before netacct");
      got += uint64_t(n);
    }
    sendBytes(fd, kPending);  // sits in the server's receive queue
    ctx.post(1);
    ctx.waitGo();
    ctx.counts.tx += sendBytes(fd, 1 * MiB + 5);
    shutdown(fd, SHUT_WR);
    ctx.counts.rx += recvToEof(fd);
  });
  server.child.nextPost();
  client.nextPost();
  usleep(100 * 1000);  // the pending bytes have arrived in A's receive queue
  Netacct na;
  client.go();
  server.child.go();
  const Counts s = server.child.finish(), c = client.finish();
  const NetacctRun run = na.stop();
  EXPECT_EQ(s.rx, c.tx + kPending);
  EXPECT_EQ(c.rx, s.tx);
  expectAccounted(run, server.child, s);
  expectAccounted(run, client, c);
  expectRemote(run, client.pid(), server.ep.str());
  expectLocal(run, server.child.pid(), server.ep.str());
}

// The commonest pre-existing connection: idle, its reader blocked in
// read() when netacct starts. The bytes are sent after netacct is ready, and
// that read returns them after it is ready: they count (a hook that only
// sees the return of calls entered after attaching would miss them).
TEST_P(PreexistingTest, ReaderBlockedInReadWhenNetacctStartsIsCounted) {
  const int family = GetParam();
  auto server = tcpServerA(family, "na-blk-srv", [](int fd, ChildCtx& ctx) {
    ctx.post(1);                     // accepted: from here on blocked in read()
    ctx.counts.rx += recvToEof(fd);  // its first read entered before netacct started
    ctx.counts.tx += sendBytes(fd, 200 * KiB + 9);
  });
  auto client = tcpClientB(server.ep, "na-blk-cli", [](int fd, ChildCtx& ctx) {
    ctx.waitGo();
    ctx.counts.tx += sendBytes(fd, 700 * KiB + 1);
    shutdown(fd, SHUT_WR);
    ctx.counts.rx += recvToEof(fd);
  });
  server.child.nextPost();
  usleep(100 * 1000);  // the server is inside read() now
  Netacct na;
  client.go();
  const Counts s = server.child.finish(), c = client.finish();
  const NetacctRun run = na.stop();
  EXPECT_EQ(s.rx, c.tx);
  EXPECT_EQ(c.rx, s.tx);
  expectAccounted(run, server.child, s);
  expectAccounted(run, client, c);
}

INSTANTIATE_TEST_SUITE_P(Family, PreexistingTest, ::testing::Values(AF_INET, AF_INET6),
                         [](const auto& info) { return info.param == AF_INET ? "IPv4" : "IPv6"; });

// A second pair of namespaces, C and D, is a copy of A and B (same interface
// names, same addresses). Server in A and server in C listen on the same
// address and port; the client in B and the client in D connect from the
// same address and port: two connections with one 5-tuple, different bytes.
// Each must be its own row, with its own bytes, and `netns` (the
// namespace's inode number) tells them apart.
class NetnsTest : public KernelTest {};

TEST_F(NetnsTest, IdenticalFiveTuplesInTwoNamespacesAreToldApartByNetns) {
  NetnsPair second("cd");
  const std::string nsC = second.a(), nsD = second.b();
  Netacct na;
  auto serve = [](uint64_t answer) {
    return [answer](int fd, ChildCtx& ctx) {
      ctx.counts.rx += recvToEof(fd);
      ctx.counts.tx += sendBytes(fd, answer);
    };
  };
  auto s1 = tcpServer(nsA(), hostA(AF_INET), "na-5t-srv1", serve(100 * KiB + 1));
  const Endpoint server_ep = s1.ep;  // 10.213.1.1:P in A, and the same in C
  Child s2(nsC, "na-5t-srv2", [server_ep, serve](ChildCtx& ctx) {
    int lfd = tcpListenOn(server_ep);
    ctx.post(1);
    int fd = tcpAccept(lfd);
    serve(50 * KiB + 2)(fd, ctx);
    close(fd);
    close(lfd);
  });
  s2.nextPost();
  Child c1(nsB(), "na-5t-cli1", [server_ep](ChildCtx& ctx) {
    int fd = tcpConnectFrom(Endpoint{hostB(AF_INET), 0}, server_ep);
    ctx.post(localEndpoint(fd).port);
    ctx.counts.tx += sendBytes(fd, 300 * KiB + 3);
    shutdown(fd, SHUT_WR);
    ctx.counts.rx += recvToEof(fd);
    close(fd);
  });
  const Endpoint client_ep{hostB(AF_INET), static_cast<uint16_t>(c1.nextPost().first)};
  Child c2(nsD, "na-5t-cli2", [server_ep, client_ep](ChildCtx& ctx) {
    int fd = tcpConnectFrom(client_ep, server_ep);
    ctx.counts.tx += sendBytes(fd, 200 * KiB + 4);
    shutdown(fd, SHUT_WR);
    ctx.counts.rx += recvToEof(fd);
    close(fd);
  });
  const Counts a = s1.child.finish(), c = s2.finish(), b = c1.finish(), d = c2.finish();
  const NetacctRun run = na.stop();
  ASSERT_NE(a.tx, c.tx);
  expectAccounted(run, s1.child, a);
  expectAccounted(run, s2, c);
  expectAccounted(run, c1, b);
  expectAccounted(run, c2, d);

  struct Side {
    const Child& child;
    std::string ns;
    Endpoint local, remote;
    Counts truth;
  };
  const Side sides[] = {{s1.child, nsA(), server_ep, client_ep, a},
                        {s2, nsC, server_ep, client_ep, c},
                        {c1, nsB(), client_ep, server_ep, b},
                        {c2, nsD, client_ep, server_ep, d}};
  for (const auto& side : sides) {
    SCOPED_TRACE(side.child.comm() + " in " + side.ns);
    const auto conns = connectionsOf(run, side.child.pid());
    ASSERT_EQ(conns.size(), 1u) << describePid(run, side.child.pid());
    const auto& [tuple, sum] = *conns.begin();
    EXPECT_EQ(tuple.proto, "tcp");
    EXPECT_EQ(tuple.local, side.local.str());
    EXPECT_EQ(tuple.remote, side.remote.str());
    EXPECT_EQ(tuple.netns, netnsInode(side.ns));
    EXPECT_EQ(sum.bytes.tx, side.truth.tx);
    EXPECT_EQ(sum.bytes.rx, side.truth.rx);
  }
  EXPECT_NE(netnsInode(nsA()), netnsInode(nsC));
  EXPECT_NE(netnsInode(nsB()), netnsInode(nsD));
}

}  // namespace
}  // namespace kt
