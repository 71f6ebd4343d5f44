// IP protocols beyond TCP and UDP are counted by protocol and addresses
// (ICMP and ICMPv6 over raw and ping sockets, which have port 0 at both
// ends); unix-domain sockets are not network traffic and never appear, while
// the same traffic over an inet socket in the same run does. Ground truth:
// see support/fixture.hpp.
#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <thread>

#include "support/fixture.hpp"

namespace kt {
namespace {

constexpr int kEchoes = 20;
constexpr size_t kPayload = 200;

sockaddr_storage addr(const std::string& host, socklen_t* len) {
  sockaddr_storage ss;
  *len = Endpoint{host, 0}.fill(ss);
  return ss;
}

uint16_t checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += uint32_t(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(uint16_t(~sum));
}

// An ICMP or ICMPv6 echo request (same layout: type, code, checksum, id,
// sequence). The kernel fills id and checksum for ping sockets and the
// ICMPv6 checksum for raw ICMPv6 sockets.
std::vector<uint8_t> echo_request(uint16_t seq, bool v6) {
  std::vector<uint8_t> pkt(sizeof(icmphdr) + kPayload, 0x5a);
  auto* h = reinterpret_cast<icmphdr*>(pkt.data());
  h->type = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
  h->code = 0;
  h->un.echo.id = htons(0x4e41);
  h->un.echo.sequence = htons(seq);
  h->checksum = 0;
  if (!v6) h->checksum = checksum(pkt.data(), pkt.size());
  return pkt;
}

// Sends kEchoes requests to `to` and reads kEchoes replies (a 1 s timeout
// each, scaled), counting what every syscall returned.
void ping(int fd, const std::string& to, ChildCtx& ctx) {
  const bool v6 = to.find(':') != std::string::npos;
  const int ms = int(scaledMs(1000).count());
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  socklen_t len = 0;
  sockaddr_storage dst = addr(to, &len);
  char buf[2048];
  for (int i = 0; i < kEchoes; ++i) {
    auto pkt = echo_request(uint16_t(i), v6);
    ssize_t n = sendto(fd, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&dst), len);
    if (n <= 0) _exit(3);
    ctx.counts.tx += uint64_t(n);
    n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) _exit(4);
    ctx.counts.rx += uint64_t(n);
  }
}

// ICMP and raw sockets have no ports: "local" and "remote" end in ":0".
void expectPortZero(const NetacctRun& run, pid_t pid) {
  const PidView v = viewOf(run, pid);
  EXPECT_FALSE(v.conns.empty()) << describePid(run, pid);
  for (const auto& c : v.conns) {
    EXPECT_EQ(portOf(strField(c, "local")), "0") << "local port of an ICMP socket: " << c.dump();
    EXPECT_EQ(portOf(strField(c, "remote")), "0") << "remote port of an ICMP socket: " << c.dump();
  }
}

class ProtocolsTest : public KernelTest {};

TEST_F(ProtocolsTest, RawIcmpSocketCountsEchoesExactly) {
  Netacct na;
  Child pinger(nsB(), "na-rawping", [this](ChildCtx& ctx) {
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0) _exit(2);
    ping(fd, hostA(AF_INET), ctx);  // replies arrive with their IP header
    close(fd);
  });
  const Counts c = pinger.finish();
  const NetacctRun run = na.stop();
  EXPECT_EQ(c.tx, kEchoes * (sizeof(icmphdr) + kPayload));
  expectAccounted(run, pinger, c);
  expectConnKind(run, pinger.pid(), "icmp", "ipv4");
  expectPortZero(run, pinger.pid());
}

// Raw ICMPv6 sockets see every ICMPv6 message (neighbour discovery too): a
// filter lets only echo replies through, so each recv is one reply.
TEST_F(ProtocolsTest, RawIcmpv6SocketCountsEchoesExactly) {
  Netacct na;
  Child pinger(nsB(), "na-rawping6", [this](ChildCtx& ctx) {
    int fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    if (fd < 0) _exit(2);
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
    if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter) != 0) _exit(5);
    ping(fd, hostA(AF_INET6), ctx);  // no IP header on ICMPv6 raw sockets
    close(fd);
  });
  const Counts c = pinger.finish();
  const NetacctRun run = na.stop();
  EXPECT_EQ(c.tx, kEchoes * (sizeof(icmphdr) + kPayload));
  EXPECT_EQ(c.rx, c.tx);
  expectAccounted(run, pinger, c);
  expectConnKind(run, pinger.pid(), "icmpv6", "ipv6");
  expectPortZero(run, pinger.pid());
}

// Ping sockets (SOCK_DGRAM, IPPROTO_ICMP) are what unprivileged ping uses;
// net.ipv4.ping_group_range is per network namespace, so the child opens it
// only inside its own.
TEST_F(ProtocolsTest, PingSocketCountsEchoesExactly) {
  Netacct na;
  Child pinger(nsB(), "na-dgramping", [this](ChildCtx& ctx) {
    std::ofstream("/proc/sys/net/ipv4/ping_group_range") << "0 0\n";
    int fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
    if (fd < 0) _exit(2);
    ping(fd, hostA(AF_INET), ctx);
    close(fd);
  });
  const Counts c = pinger.finish();
  const NetacctRun run = na.stop();
  expectAccounted(run, pinger, c);
  expectConnKind(run, pinger.pid(), "icmp", "ipv4");
  expectPortZero(run, pinger.pid());
}

// The IPv6 ping socket (what unprivileged `ping -6` uses); the same sysctl
// (net.ipv4.ping_group_range) governs it.
TEST_F(ProtocolsTest, Ping6SocketCountsEchoesExactly) {
  Netacct na;
  Child pinger(nsB(), "na-dgramping6", [this](ChildCtx& ctx) {
    std::ofstream("/proc/sys/net/ipv4/ping_group_range") << "0 0\n";
    int fd = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);
    if (fd < 0) _exit(2);
    ping(fd, hostA(AF_INET6), ctx);
    close(fd);
  });
  const Counts c = pinger.finish();
  const NetacctRun run = na.stop();
  EXPECT_EQ(c.rx, c.tx);
  expectAccounted(run, pinger, c);
  expectConnKind(run, pinger.pid(), "icmpv6", "ipv6");
  expectPortZero(run, pinger.pid());
}

// 64 writes of 4 KiB from one end of a connected pair, each read at the
// other end; the sums of the return values.
Counts pairTraffic(int a, int b) {
  Counts c;
  char buf[4096] = {};
  for (int i = 0; i < 64; ++i) {
    const ssize_t w = write(a, buf, sizeof buf);
    if (w <= 0) _exit(2);
    c.tx += uint64_t(w);
    for (ssize_t got = 0; got < w;) {  // a stream may return less per read
      const ssize_t r = read(b, buf, sizeof buf);
      if (r <= 0) _exit(2);
      got += r;
      c.rx += uint64_t(r);
    }
  }
  return c;
}

// The talker moves the same traffic over a unix socketpair and over a TCP
// connection to itself (with --loopback, so the TCP part is counted). Only
// the TCP part may appear: the positive control proves that this run would
// have shown the unix bytes had netacct counted them.
TEST_F(ProtocolsTest, UnixSocketsAreNotNetworkTraffic) {
  NetacctOptions opts;
  opts.loopback = true;  // not even as loopback
  Netacct na(opts);
  Child talker(nsA(), "na-unix", [](ChildCtx& ctx) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) _exit(2);
    const Counts unix_part = pairTraffic(sv[0], sv[1]);
    ctx.post(unix_part.tx, unix_part.rx);
    int lfd = tcpListen("127.0.0.1");
    int a = tcpConnect(localEndpoint(lfd));
    int b = tcpAccept(lfd);
    ctx.counts = pairTraffic(a, b);  // the inet part: what netacct must show
    close(a);
    close(b);
    close(lfd);
  });
  const auto [unix_tx, unix_rx] = talker.nextPost();
  const Counts inet = talker.finish();
  const NetacctRun run = na.stop();
  ASSERT_EQ(unix_tx, 64u * 4096u);
  ASSERT_EQ(unix_rx, unix_tx);
  ASSERT_EQ(inet.tx, unix_tx) << "the control moves the same bytes";
  expectAccounted(run, talker, inet);
  expectConnKind(run, talker.pid(), "tcp", "ipv4");
}

}  // namespace
}  // namespace kt
