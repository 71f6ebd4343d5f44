// SCTP over the veth pair, IPv4 and IPv6: one association of one-to-one
// style sockets (SOCK_STREAM, IPPROTO_SCTP). The socket hooks count SCTP
// like any inet protocol (inet_sendmsg / inet_recvmsg and their IPv6 twins
// sit above it; the tracepoint backend's sock_send_length and
// sock_recv_length too), at the payload layer: what send and receive calls
// return. The wire layer sees its packets with ports, like TCP's, and joins
// them to the association's socket.
//
// The CI machine's kernel has no SCTP (CONFIG_IP_SCTP unset): this suite
// runs in the VM tier, in the `wire` guest (Debian's 6.1 loads the sctp
// module, tests/vm/vm.sh), and the host's `kernel` ctest leaves it out
// (tests/kernel/CMakeLists.txt). Where SCTP sockets cannot be made it skips,
// which fails a CI=true run.
//
// Ground truth: the children's syscall return values (support/fixture.hpp).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <string>

#include "support/fixture.hpp"
#include "support/flows_view.hpp"

namespace kt {
namespace {

using json = nlohmann::json;

// Odd sizes: a count off by a chunk, a header or a notification shows.
constexpr uint64_t kUp = 3 * MiB + 333, kDown = 1 * MiB + 77;
// Headers a packet adds to its payload on a veth, at most: Ethernet 14, IPv6
// 40, SCTP's common header 12, then per chunk 16 (DATA) and up to 3 of
// padding; a full-size packet holds the end of one message and the start of
// the next (two DATA chunks) and may carry a SACK (16) along: 120.
constexpr uint64_t kSctpHeaderBound = 128;

class SctpTest : public KernelTest, public ::testing::WithParamInterface<int> {};

// A client in B sends kUp bytes to a server in A, which reads them all and
// replies with kDown bytes; SCTP has no half-close, so each side reads the
// byte count it expects and the server then waits for the client's
// shutdown (end of stream). netacct in B on na1, one window. Payload: both
// processes' rows and connection rows hold exactly what their calls moved,
// proto "sctp". Wire: the association's flow on na1 is the client's
// ("process", its pid and comm), carries at least the payload each way and
// at most kSctpHeaderBound a packet more; the client's connection row holds
// the wire bytes of every flow it owns; every receipt adds up and explains
// all but 1 % of na1's bytes. The client is in B, whose na1 has one address
// per family, so the address its association uses is known (A has two: an
// unbound client there could send from either).
TEST_P(SctpTest, AssociationIsCountedExactlyAndIsItsClientsFlow) {
  const int family = GetParam();
  std::string why;
  if (!sctpUsable(family, why)) KT_SKIP(why);
  auto na = flows::startIn(nsB(), {"na1"});
  Child server(nsA(), "na-sctp-srv", [host = hostA(family)](ChildCtx& ctx) {
    int lfd = streamListenOn(Endpoint{host, 0}, IPPROTO_SCTP);
    ctx.post(localEndpoint(lfd).port);
    int fd = tcpAccept(lfd);
    ctx.counts.rx += recvExactly(fd, kUp);
    ctx.counts.tx += sendBytes(fd, kDown);
    ctx.counts.rx += recvToEof(fd);  // the client's SHUTDOWN: it has read everything
    close(fd);
    close(lfd);
  });
  const Endpoint to{hostA(family), static_cast<uint16_t>(server.nextPost().first)};
  Child client(nsB(), "na-sctp-cli", [to](ChildCtx& ctx) {
    int fd = streamConnect(to, IPPROTO_SCTP);  // unbound, as SCTP clients are
    ctx.post(localEndpoint(fd).port);
    ctx.counts.tx += sendBytes(fd, kUp);
    ctx.counts.rx += recvExactly(fd, kDown);
    close(fd);
  });
  const auto port = static_cast<uint16_t>(client.nextPost().first);
  const Counts c = client.finish(), s = server.finish();
  const NetacctRun run = na->stop();
  ASSERT_EQ(c.tx, kUp) << "sanity";
  ASSERT_EQ(s.rx, c.tx) << "sanity: the server read everything";
  ASSERT_EQ(c.rx, s.tx) << "sanity: the client read the whole reply";
  ASSERT_EQ(run.reports.size(), 1u) << run.describe();

  expectAccounted(run, client, c);
  expectAccounted(run, server, s);
  expectConnKind(run, client.pid(), "sctp", familyName(family));
  expectConnKind(run, server.pid(), "sctp", familyName(family));
  expectRemote(run, client.pid(), to.str());
  expectLocal(run, server.pid(), to.str());
  expectRemote(run, server.pid(), Endpoint{hostB(family), port}.str());
  // The client is unbound, but the kernel gives its socket the source
  // address of the association's active path (sctp_transport_route), which
  // the row shows and the packets carry.
  const std::string local = Endpoint{hostB(family), port}.str();
  expectLocal(run, client.pid(), local);

  const flows::FlowView f = flows::flowOf(run, "na1", "sctp", local, to.str());
  ASSERT_EQ(f.entries, 1) << flows::describeFlows(run);
  EXPECT_EQ(f.classes, std::set<std::string>{"process"});
  EXPECT_EQ(f.owners, std::set<std::string>{std::to_string(client.pid())});
  EXPECT_EQ(f.comms, std::set<std::string>{json(client.comm()).dump()});
  EXPECT_EQ(f.forwarded, std::set<bool>{false});
  EXPECT_GT(f.tx, c.tx);
  EXPECT_LE(f.tx, c.tx + kSctpHeaderBound * f.tx_packets) << f.tx_packets << " packets";
  EXPECT_GT(f.rx, c.rx);
  EXPECT_LE(f.rx, c.rx + kSctpHeaderBound * f.rx_packets) << f.rx_packets << " packets";

  uint64_t ownedTx = 0, ownedRx = 0;
  for (const auto& e : arrayField(run.reports[0], "flows"))
    if (e.value("pid", json()) == client.pid()) {
      EXPECT_EQ(e.value("proto", json()), "sctp") << e.dump();
      EXPECT_EQ(e.value("remote", json()), to.str()) << e.dump();
      ownedTx += u64Field(e, "tx_wire_bytes");
      ownedRx += u64Field(e, "rx_wire_bytes");
    }
  const flows::ConnWire row = flows::wireOf(run, "connections", client.pid());
  EXPECT_EQ(row.entries, 1);
  EXPECT_EQ(row.tx_wire, ownedTx);
  EXPECT_EQ(row.rx_wire, ownedRx);
  const flows::ConnWire mirror = flows::wireOf(run, "connections", server.pid());
  EXPECT_EQ(mirror.tx_wire + mirror.rx_wire, 0u) << "na1 is not in the server's namespace";
  flows::expectReceiptsMatchFlows(run);
}

INSTANTIATE_TEST_SUITE_P(Sctp, SctpTest, ::testing::Values(AF_INET, AF_INET6),
                         [](const auto& info) { return familyName(info.param); });

}  // namespace
}  // namespace kt
