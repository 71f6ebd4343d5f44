// Loopback traffic (127/8, ::1, or a socket whose remote address is its own
// local address) is left out unless --loopback, and then counted exactly.
// The test process talks to itself inside namespace A, and also exchanges a
// little traffic with a server in B over the veth: that part always counts,
// so "absent" can never pass because netacct saw nothing at all.
// Ground truth: see support/fixture.hpp.
#include <sys/socket.h>
#include <unistd.h>

#include <ostream>
#include <string>
#include <thread>

#include "support/fixture.hpp"

namespace kt {
namespace {

struct LoopCase {
  std::string label;
  std::string host;  // where the process talks to itself
  bool flag;         // --loopback
};

void PrintTo(const LoopCase& c, std::ostream* os) {
  *os << c.host << (c.flag ? " with --loopback" : " without --loopback");
}

class LoopbackTest : public KernelTest, public ::testing::WithParamInterface<LoopCase> {};

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
  NetacctOptions opts;
  opts.loopback = lc.flag;
  Netacct na(opts);
  auto peer = tcpServer(nsB(), hostB(AF_INET), "na-loop-peer", [](int fd, ChildCtx& ctx) {
    ctx.counts.rx += recvToEof(fd);
    ctx.counts.tx += sendBytes(fd, 5000);
  });
  const Endpoint to = peer.ep;
  const std::string host = lc.host;
  Child self(nsA(), "na-loop", [to, host](ChildCtx& ctx) {
    int fd = tcpConnect(to);  // the veth part: always counted
    ctx.counts.tx += sendBytes(fd, 10000);
    shutdown(fd, SHUT_WR);
    ctx.counts.rx += recvToEof(fd);
    close(fd);
    const Counts loop = talkToSelf(host);
    ctx.post(loop.tx, loop.rx);
  });
  const auto [loop_tx, loop_rx] = self.nextPost();
  const Counts veth = self.finish();
  peer.child.finish();
  const NetacctRun run = na.stop();

  Counts expected = veth;
  if (lc.flag) expected += Counts{loop_tx, loop_rx};
  expectAccounted(run, self, expected);
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

}  // namespace
}  // namespace kt
