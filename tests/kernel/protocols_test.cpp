// IP protocols beyond TCP and UDP are counted by protocol and addresses
// (ICMP over raw and ping sockets); unix-domain sockets are not network
// traffic and never appear. Ground truth: see support/fixture.hpp.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "support/fixture.hpp"

namespace kt {
namespace {

constexpr int kEchoes = 20;
constexpr size_t kPayload = 200;

sockaddr_in v4(const std::string& host) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  inet_pton(AF_INET, host.c_str(), &sa.sin_addr);
  return sa;
}

uint16_t checksum(const uint8_t* p, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) sum += uint32_t(p[i] << 8 | p[i + 1]);
  if (n & 1) sum += uint32_t(p[n - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(uint16_t(~sum));
}

// An ICMP echo request; the kernel fills id and checksum for ping sockets.
std::vector<uint8_t> echo_request(uint16_t seq) {
  std::vector<uint8_t> pkt(sizeof(icmphdr) + kPayload, 0x5a);
  auto* h = reinterpret_cast<icmphdr*>(pkt.data());
  h->type = ICMP_ECHO;
  h->code = 0;
  h->un.echo.id = htons(0x4e41);
  h->un.echo.sequence = htons(seq);
  h->checksum = 0;
  h->checksum = checksum(pkt.data(), pkt.size());
  return pkt;
}

// Sends kEchoes requests to `to` and reads kEchoes replies (1 s timeout
// each), counting what every syscall returned.
void ping(int fd, const std::string& to, ChildCtx& ctx) {
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in dst = v4(to);
  char buf[2048];
  for (int i = 0; i < kEchoes; ++i) {
    auto pkt = echo_request(uint16_t(i));
    ssize_t n =
        sendto(fd, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst);
    if (n <= 0) _exit(3);
    ctx.counts.tx += uint64_t(n);
    n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) _exit(4);
    ctx.counts.rx += uint64_t(n);
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
}

TEST_F(ProtocolsTest, UnixSocketsAreNotNetworkTraffic) {
  NetacctOptions opts;
  opts.loopback = true;  // not even as loopback
  Netacct na(opts);
  Child talker(nsA(), "na-unix", [](ChildCtx& ctx) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) _exit(2);
    char buf[4096] = {};
    for (int i = 0; i < 64; ++i) {
      ctx.counts.tx += uint64_t(write(sv[0], buf, sizeof buf));
      ctx.counts.rx += uint64_t(read(sv[1], buf, sizeof buf));
    }
  });
  const Counts c = talker.finish();
  const NetacctRun run = na.stop();
  ASSERT_EQ(c.tx, 64u * 4096u);
  EXPECT_EQ(viewOf(run, talker.pid()).process_entries, 0) << describePid(run, talker.pid());
}

}  // namespace
}  // namespace kt
