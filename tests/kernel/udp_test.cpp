// UDP request/response over the veth pair: connected and unconnected
// sockets (an unconnected one has remote 0.0.0.0:0 or [::]:0), IPv4, IPv6 and IPv4-mapped addresses
// on an IPv6 socket (the udpv6_sendmsg -> udp_sendmsg double-count trap), sendmmsg/recvmmsg, and
// MSG_PEEK. Ground truth: see support/fixture.hpp.
#include <sys/socket.h>
#include <unistd.h>

#include <ostream>
#include <stdexcept>
#include <string>

#include "support/fixture.hpp"

namespace kt {
namespace {

constexpr int kDatagrams = 400;

enum class Addr { V4, V6, V4MappedOnV6 };

std::string addrName(Addr a) {
  switch (a) {
    case Addr::V4:
      return "IPv4";
    case Addr::V6:
      return "IPv6";
    case Addr::V4MappedOnV6:
      return "IPv4MappedOnIPv6Socket";
  }
  return "?";
}

void PrintTo(Addr a, std::ostream* os) { *os << addrName(a); }

int udpConnected(const Endpoint& to) {
  int fd = udpSocket(to.family());
  sockaddr_storage ss;
  socklen_t len = to.fill(ss);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0)
    throw std::runtime_error("udp connect " + to.str());
  return fd;
}

class UdpTest : public KernelTest {
 protected:
  // The server listens on A's address of the family the server side uses.
  Server echoServer(Addr addr, const std::string& comm, ConnFn serve) {
    const int fam = addr == Addr::V6 ? AF_INET6 : AF_INET;
    return udpServer(nsA(), hostA(fam), comm, std::move(serve));
  }

  // Where the client sends: mapped uses ::ffff:10.213.1.1 on an AF_INET6 socket.
  static Endpoint target(Addr addr, const Server& s) {
    if (addr == Addr::V4MappedOnV6) return Endpoint{"::ffff:" + s.ep.host, s.ep.port};
    return s.ep;
  }

  static void expectExchange(const NetacctRun& run, const Server& server, Counts s,
                             const Child& client, Counts c) {
    EXPECT_EQ(s.rx, c.tx);
    EXPECT_EQ(c.rx, s.tx);
    expectAccounted(run, server.child, s);
    expectAccounted(run, client, c);
    expectLocal(run, server.child.pid(), server.ep.str());
    expectConnKind(run, server.child.pid(), "udp", familyName(server.ep.family()));
    for (const auto& conn : viewOf(run, client.pid()).conns)
      EXPECT_EQ(conn.value("proto", ""), "udp") << conn.dump();
  }
};

class UdpAddrTest : public UdpTest, public ::testing::WithParamInterface<Addr> {};

TEST_P(UdpAddrTest, ConnectedSendRecv) {
  Netacct na;
  auto server = echoServer(GetParam(), "na-udpc-srv",
                           [](int fd, ChildCtx& ctx) { ctx.counts += udpEcho(fd, kDatagrams); });
  const Endpoint to = target(GetParam(), server);
  Child client(nsB(), "na-udpc-cli", [to](ChildCtx& ctx) {
    int fd = udpConnected(to);
    ctx.counts += udpPingPong(fd, nullptr, kDatagrams);
    close(fd);
  });
  const Counts s = server.child.finish(), c = client.finish();
  const NetacctRun run = na.stop();
  expectExchange(run, server, s, client, c);
  // How a mapped peer is written is not part of the contract; the rest is.
  if (GetParam() != Addr::V4MappedOnV6) expectRemote(run, client.pid(), server.ep.str());
}

TEST_P(UdpAddrTest, UnconnectedSendtoRecvfrom) {
  Netacct na;
  auto server = echoServer(GetParam(), "na-udpu-srv",
                           [](int fd, ChildCtx& ctx) { ctx.counts += udpEcho(fd, kDatagrams); });
  const Endpoint to = target(GetParam(), server);
  Child client(nsB(), "na-udpu-cli", [to](ChildCtx& ctx) {
    int fd = udpSocket(to.family());
    ctx.counts += udpPingPong(fd, &to, kDatagrams);
    close(fd);
  });
  const Counts s = server.child.finish(), c = client.finish();
  const NetacctRun run = na.stop();
  expectExchange(run, server, s, client, c);
  // Neither socket has a peer: the remote is the unspecified address, port 0
  // (the server is bound to an IPv4 or IPv6 address, the client unbound).
  const std::string none4 = "0.0.0.0:0", none6 = "[::]:0";
  expectRemote(run, server.child.pid(), server.ep.family() == AF_INET6 ? none6 : none4);
  if (GetParam() !=
      Addr::V4MappedOnV6)  // how a v6 socket sending to a v4 peer shows: addresses_test
    expectRemote(run, client.pid(), GetParam() == Addr::V6 ? none6 : none4);
}

INSTANTIATE_TEST_SUITE_P(Addr, UdpAddrTest,
                         ::testing::Values(Addr::V4, Addr::V6, Addr::V4MappedOnV6),
                         [](const auto& info) { return addrName(info.param); });

class UdpMmsgTest : public UdpTest, public ::testing::WithParamInterface<Addr> {};

TEST_P(UdpMmsgTest, SendmmsgRecvmmsg) {
  Netacct na;
  auto server = echoServer(GetParam(), "na-mmsg-srv", [](int fd, ChildCtx& ctx) {
    ctx.counts += udpEchoMmsg(fd, kDatagrams, 8);
  });
  const Endpoint to = server.ep;
  Child client(nsB(), "na-mmsg-cli", [to](ChildCtx& ctx) {
    int fd = udpConnected(to);
    ctx.counts += udpPingPongMmsg(fd, kDatagrams, 8);
    close(fd);
  });
  const Counts s = server.child.finish(), c = client.finish();
  const NetacctRun run = na.stop();
  expectExchange(run, server, s, client, c);
  expectRemote(run, client.pid(), server.ep.str());
}

INSTANTIATE_TEST_SUITE_P(Addr, UdpMmsgTest, ::testing::Values(Addr::V4, Addr::V6),
                         [](const auto& info) { return addrName(info.param); });

// The server looks at every datagram with MSG_PEEK before receiving it.
TEST_F(UdpTest, PeekedDatagramsCountOnce) {
  Netacct na;
  auto server = echoServer(Addr::V4, "na-udpp-srv", [](int fd, ChildCtx& ctx) {
    ctx.counts += udpEcho(fd, kDatagrams, /*peek=*/true);
  });
  const Endpoint to = server.ep;
  Child client(nsB(), "na-udpp-cli", [to](ChildCtx& ctx) {
    int fd = udpSocket(to.family());
    ctx.counts += udpPingPong(fd, &to, kDatagrams);
    close(fd);
  });
  const Counts s = server.child.finish(), c = client.finish();
  const NetacctRun run = na.stop();
  expectExchange(run, server, s, client, c);
}

}  // namespace
}  // namespace kt
