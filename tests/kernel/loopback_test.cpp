// Loopback traffic is left out unless --loopback, and then counted exactly.
// The rule is the kernel's routing, not an address pattern: traffic is
// loopback when it stays inside its network namespace over the loopback
// device, which is where 127/8, ::1 and every address of the namespace itself
// route. Each test process talks to itself (or to a sibling) inside namespace
// A, and also exchanges a little traffic with a server in B over the veth:
// that part always counts, so "absent" can never pass because netacct saw
// nothing at all. Ground truth: see support/fixture.hpp.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ostream>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/fixture.hpp"

namespace kt {
namespace {

constexpr int kDatagrams = 60;

struct LoopCase {
  std::string label;
  std::string host;  // where the process talks to itself
  bool flag;         // --loopback
};

void PrintTo(const LoopCase& c, std::ostream* os) {
  *os << c.host << (c.flag ? " with --loopback" : " without --loopback");
}

std::string flagName(bool flag) { return flag ? "WithFlag" : "WithoutFlag"; }

// Shared by every scenario: netacct with or without --loopback, a peer in B
// for the veth part, and the one expectation (network part always, loopback
// part only with the flag; without it, no loopback connection is listed).
class LoopbackBase : public KernelTest {
 protected:
  static NetacctOptions options(bool flag) {
    NetacctOptions opts;
    opts.loopback = flag;
    return opts;
  }

  // Serves `connections` veth exchanges: reads to EOF, answers 5000 bytes.
  Server vethPeer(int connections) {
    return tcpServer(
        nsB(), hostB(AF_INET), "na-loop-peer",
        [](int fd, ChildCtx& ctx) {
          ctx.counts.rx += recvToEof(fd);
          ctx.counts.tx += sendBytes(fd, 5000);
        },
        connections);
  }

  // The veth part of a test process: always network traffic.
  static Counts vethPart(const Endpoint& peer) {
    Counts c;
    int fd = tcpConnect(peer);
    c.tx += sendBytes(fd, 10000);
    shutdown(fd, SHUT_WR);
    c.rx += recvToEof(fd);
    close(fd);
    return c;
  }

  // `self` moved `veth` over the veth pair and `loop` over loopback.
  static void expectSplit(const NetacctRun& run, const Child& self, Counts veth, Counts loop,
                          bool flag) {
    Counts expected = veth;
    if (flag) expected += loop;
    expectAccounted(run, self, expected);
  }
};

class LoopbackTest : public LoopbackBase, public ::testing::WithParamInterface<LoopCase> {};

// Both ends of one TCP connection in this process, both directions.
Counts talkToSelf(const std::string& host) {
  int lfd = tcpListen(host);
  int a = tcpConnect(localEndpoint(lfd));
  int b = tcpAccept(lfd);
  Counts ca, cb;
  std::thread other([&] { cb = duplexExchange(b, 300 * KiB + 1); });
  ca = duplexExchange(a, 200 * KiB + 3);
  other.join();
  close(a);
  close(b);
  close(lfd);
  return Counts{ca.tx + cb.tx, ca.rx + cb.rx};
}

TEST_P(LoopbackTest, CountedOnlyWithFlag) {
  const LoopCase lc = GetParam();
  Netacct na(options(lc.flag));
  auto peer = vethPeer(1);
  const Endpoint to = peer.ep;
  const std::string host = lc.host;
  Child self(nsA(), "na-loop", [to, host](ChildCtx& ctx) {
    ctx.counts += vethPart(to);
    const Counts loop = talkToSelf(host);
    ctx.post(loop.tx, loop.rx);
  });
  const auto [loop_tx, loop_rx] = self.nextPost();
  const Counts veth = self.finish();
  peer.child.finish();
  const NetacctRun run = na.stop();

  expectSplit(run, self, veth, Counts{loop_tx, loop_rx}, lc.flag);
  if (!lc.flag) expectRemote(run, self.pid(), to.str());  // no loopback connection listed
}

INSTANTIATE_TEST_SUITE_P(
    Hosts, LoopbackTest,
    ::testing::Values(LoopCase{"IPv4Loopback_Excluded", "127.0.0.1", false},
                      LoopCase{"IPv4Loopback_Counted", "127.0.0.1", true},
                      LoopCase{"IPv6Loopback_Excluded", "::1", false},
                      LoopCase{"IPv6Loopback_Counted", "::1", true},
                      LoopCase{"OwnIPv4Address_Excluded", NetnsPair::kA4, false},
                      LoopCase{"OwnIPv4Address_Counted", NetnsPair::kA4, true},
                      LoopCase{"OwnIPv6Address_Excluded", NetnsPair::kA6, false},
                      LoopCase{"OwnIPv6Address_Counted", NetnsPair::kA6, true}),
    [](const auto& info) { return info.param.label; });

// A TCP connection from one address of namespace A to another (10.213.1.3 ->
// 10.213.1.1, and the same in IPv6): the addresses differ, yet the route is
// the loopback device, so both ends are loopback.
class LoopbackTcpOwnAddresses : public LoopbackBase, public ::testing::WithParamInterface<bool> {};

int tcpConnectFrom(const std::string& source, const Endpoint& to) {
  int fd = socket(to.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket");
  sockaddr_storage ss;
  socklen_t len = Endpoint{source, 0}.fill(ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
    throw std::runtime_error("bind " + source);
  len = to.fill(ss);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
    throw std::runtime_error("connect " + to.str());
  return fd;
}

Counts talkBetween(const std::string& from, const std::string& to) {
  int lfd = tcpListen(to);
  int a = tcpConnectFrom(from, localEndpoint(lfd));
  int b = tcpAccept(lfd);
  if (peerEndpoint(b).host != from)
    throw std::runtime_error("accepted from " + peerEndpoint(b).str());
  Counts ca, cb;
  std::thread other([&] { cb = duplexExchange(b, 100 * KiB + 7); });
  ca = duplexExchange(a, 200 * KiB + 5);
  other.join();
  close(a);
  close(b);
  close(lfd);
  return Counts{ca.tx + cb.tx, ca.rx + cb.rx};
}

TEST_P(LoopbackTcpOwnAddresses, LoopbackOnlyWithFlag) {
  const bool flag = GetParam();
  Netacct na(options(flag));
  auto peer = vethPeer(1);
  const Endpoint to = peer.ep;
  Child self(nsA(), "na-loop-own", [to](ChildCtx& ctx) {
    ctx.counts += vethPart(to);
    Counts loop = talkBetween(NetnsPair::kA4second, NetnsPair::kA4);
    loop += talkBetween(NetnsPair::kA6second, NetnsPair::kA6);
    ctx.post(loop.tx, loop.rx);
  });
  const auto [loop_tx, loop_rx] = self.nextPost();
  const Counts veth = self.finish();
  peer.child.finish();
  const NetacctRun run = na.stop();

  expectSplit(run, self, veth, Counts{loop_tx, loop_rx}, flag);
  if (!flag) expectRemote(run, self.pid(), to.str());
}

INSTANTIATE_TEST_SUITE_P(Flag, LoopbackTcpOwnAddresses, ::testing::Bool(),
                         [](const auto& info) { return flagName(info.param); });

// UDP: a server bound to a loopback address (an agent on 127.0.0.1:8125),
// a client on an unbound, unconnected socket that sendto()s it. Neither
// socket has a route of its own; each datagram went over the loopback device.
struct UdpCase {
  std::string label;
  std::string host;  // the server's address
  bool flag;
};

void PrintTo(const UdpCase& c, std::ostream* os) {
  *os << "udp to " << c.host << (c.flag ? " with --loopback" : " without --loopback");
}

class LoopbackUdp : public LoopbackBase, public ::testing::WithParamInterface<UdpCase> {};

TEST_P(LoopbackUdp, BothEndsLoopbackOnlyWithFlag) {
  const UdpCase uc = GetParam();
  Netacct na(options(uc.flag));
  auto peer = vethPeer(2);
  const Endpoint to_peer = peer.ep;
  Child server(nsA(), "na-loop-usrv", [to_peer, uc](ChildCtx& ctx) {
    ctx.counts += vethPart(to_peer);
    int fd = udpBound(uc.host);
    ctx.post(localEndpoint(fd).port);
    const Counts loop = udpEcho(fd, kDatagrams);
    ctx.post(loop.tx, loop.rx);
    close(fd);
  });
  const Endpoint to{uc.host, static_cast<uint16_t>(server.nextPost().first)};
  Child client(nsA(), "na-loop-ucli", [to_peer, to](ChildCtx& ctx) {
    ctx.counts += vethPart(to_peer);
    int fd = udpSocket(to.family());  // unbound: the first sendto binds it
    const Counts loop = udpPingPong(fd, &to, kDatagrams);
    ctx.post(loop.tx, loop.rx);
    close(fd);
  });
  const auto [cli_tx, cli_rx] = client.nextPost();
  const auto [srv_tx, srv_rx] = server.nextPost();
  const Counts client_veth = client.finish();
  const Counts server_veth = server.finish();
  peer.child.finish();
  const NetacctRun run = na.stop();

  EXPECT_EQ(cli_tx, srv_rx);
  EXPECT_EQ(srv_tx, cli_rx);
  expectSplit(run, client, client_veth, Counts{cli_tx, cli_rx}, uc.flag);
  expectSplit(run, server, server_veth, Counts{srv_tx, srv_rx}, uc.flag);
  if (!uc.flag) {
    expectRemote(run, client.pid(), to_peer.str());
    expectRemote(run, server.pid(), to_peer.str());
  }
}

INSTANTIATE_TEST_SUITE_P(Hosts, LoopbackUdp,
                         ::testing::Values(UdpCase{"IPv4Loopback_Excluded", "127.0.0.1", false},
                                           UdpCase{"IPv4Loopback_Counted", "127.0.0.1", true},
                                           UdpCase{"IPv6Loopback_Excluded", "::1", false},
                                           UdpCase{"IPv6Loopback_Counted", "::1", true}),
                         [](const auto& info) { return info.param.label; });

// A datagram built from several sends (MSG_MORE) crosses the loopback device
// only with its last part; the parts before are appended to the socket's
// cork, whose route is the loopback device: every part is loopback.
class LoopbackCorkedUdp : public LoopbackBase, public ::testing::WithParamInterface<bool> {};

Counts corkedPingPong(int fd, const Endpoint& to, int count) {
  sockaddr_storage ss;
  socklen_t len = to.fill(ss);
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  std::string part(300, 'c');
  char buf[2048];
  Counts c;
  for (int i = 0; i < count; ++i) {
    ssize_t a = sendto(fd, part.data(), 100 + i, MSG_MORE, sa, len);
    ssize_t b = sendto(fd, part.data(), 50 + i, 0, sa, len);
    if (a < 0 || b < 0) throw std::runtime_error("corked sendto " + to.str());
    c.tx += a + b;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n != a + b) throw std::runtime_error("corked reply of " + std::to_string(n));
    c.rx += n;
  }
  return c;
}

TEST_P(LoopbackCorkedUdp, EveryPartLoopbackOnlyWithFlag) {
  const bool flag = GetParam();
  Netacct na(options(flag));
  auto v4 = udpServer(nsA(), "127.0.0.1", "na-cork-srv4",
                      [](int fd, ChildCtx& ctx) { ctx.counts += udpEcho(fd, kDatagrams); });
  auto v6 = udpServer(nsA(), "::1", "na-cork-srv6",
                      [](int fd, ChildCtx& ctx) { ctx.counts += udpEcho(fd, kDatagrams); });
  auto peer = vethPeer(1);
  const Endpoint to4 = v4.ep, to6 = v6.ep, to_peer = peer.ep;
  Child self(nsA(), "na-cork-cli", [to4, to6, to_peer](ChildCtx& ctx) {
    ctx.counts += vethPart(to_peer);
    int fd4 = udpSocket(AF_INET), fd6 = udpSocket(AF_INET6);
    Counts loop = corkedPingPong(fd4, to4, kDatagrams);
    loop += corkedPingPong(fd6, to6, kDatagrams);
    ctx.post(loop.tx, loop.rx);
    close(fd4);
    close(fd6);
  });
  const auto [loop_tx, loop_rx] = self.nextPost();
  const Counts veth = self.finish();
  const Counts s4 = v4.child.finish(), s6 = v6.child.finish();
  peer.child.finish();
  const NetacctRun run = na.stop();

  EXPECT_EQ(s4.rx + s6.rx, loop_tx);
  expectSplit(run, self, veth, Counts{loop_tx, loop_rx}, flag);
  if (!flag) expectRemote(run, self.pid(), to_peer.str());
}

INSTANTIATE_TEST_SUITE_P(Flag, LoopbackCorkedUdp, ::testing::Bool(),
                         [](const auto& info) { return flagName(info.param); });

// One unconnected UDP socket that talks to a server on 127.0.0.1 and to one
// in B in turn: each datagram is classified by the device it crossed, so its
// network datagrams count and its loopback ones only with the flag, on one
// socket (listed as two connections with the flag: one per kind).
class LoopbackMixedUdpSocket : public LoopbackBase, public ::testing::WithParamInterface<bool> {};

TEST_P(LoopbackMixedUdpSocket, EachDatagramByItsDevice) {
  const bool flag = GetParam();
  Netacct na(options(flag));
  auto near = udpServer(nsA(), "127.0.0.1", "na-mix-lo",
                        [](int fd, ChildCtx& ctx) { ctx.counts += udpEcho(fd, kDatagrams); });
  auto far = udpServer(nsB(), hostB(AF_INET), "na-mix-far",
                       [](int fd, ChildCtx& ctx) { ctx.counts += udpEcho(fd, kDatagrams); });
  const Endpoint lo_ep = near.ep, far_ep = far.ep;
  Child self(nsA(), "na-mix-cli", [lo_ep, far_ep](ChildCtx& ctx) {
    int fd = udpSocket(AF_INET);
    Counts loop;
    for (int i = 0; i < kDatagrams; ++i) {
      loop += udpPingPong(fd, &lo_ep, 1, i);
      ctx.counts += udpPingPong(fd, &far_ep, 1, i + 7);
    }
    ctx.post(loop.tx, loop.rx);
    close(fd);
  });
  const auto [loop_tx, loop_rx] = self.nextPost();
  const Counts veth = self.finish();
  const Counts near_counts = near.child.finish();
  far.child.finish();
  const NetacctRun run = na.stop();

  EXPECT_EQ(near_counts.rx, loop_tx);
  expectSplit(run, self, veth, Counts{loop_tx, loop_rx}, flag);
  if (flag) {
    expectAccounted(run, near.child, near_counts);
  } else {
    EXPECT_EQ(viewOf(run, near.child.pid()).process_entries, 0)
        << describePid(run, near.child.pid());
  }
  EXPECT_EQ(connectionsOf(run, self.pid()).size(), 1u) << describePid(run, self.pid());
}

INSTANTIATE_TEST_SUITE_P(Flag, LoopbackMixedUdpSocket, ::testing::Bool(),
                         [](const auto& info) { return flagName(info.param); });

}  // namespace
}  // namespace kt
