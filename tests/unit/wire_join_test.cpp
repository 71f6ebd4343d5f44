// The wire layer joined to the socket layer (model/wire_join): which
// connection owns a flow, what the other flows are, and the receipt.
#include "model/wire_join.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "model/accountant.hpp"

using namespace netacct;

namespace {

using Addr = std::array<uint8_t, 16>;
constexpr uint32_t kNs = 4026532000u, kOtherNs = 4026532999u;
const Addr kA = {10, 0, 0, 1}, kB = {10, 0, 0, 2}, kC = {192, 0, 2, 7}, kD = {198, 51, 100, 9};
const Addr kAny{};

ConnInfo conn(uint16_t proto, Addr l, uint16_t lport, Addr r, uint16_t rport,
              uint32_t netns = kNs) {
  return {
      .family = AF_INET, .proto = proto, .local = {l, lport}, .remote = {r, rport}, .netns = netns};
}

ConnId id(uint32_t pid, uint64_t cookie) { return {.cookie = cookie, .proc = {pid, 1}}; }

FlowKey flow(uint32_t ifindex, uint8_t proto, Addr l, uint16_t lport, Addr r, uint16_t rport) {
  return {.ifindex = ifindex,
          .ethertype = 0x0800,
          .proto = proto,
          .lport = lport,
          .rport = rport,
          .laddr = l,
          .raddr = r};
}

FlowEntry bytes(FlowKey k, uint64_t tx, uint64_t rx) {
  return {.key = k, .tx_bytes = tx, .rx_bytes = rx, .tx_packets = 1, .rx_packets = 1};
}

}  // namespace

TEST(FlowJoin, ExactTupleInTheSameNamespaceOnly) {
  FlowJoin j;
  j.learn({{id(10, 1), conn(IPPROTO_TCP, kA, 40000, kB, 443)},
           {id(20, 2), conn(IPPROTO_TCP, kA, 40000, kB, 443, kOtherNs)}},
          0);
  const auto* o = j.find(flow(3, IPPROTO_TCP, kA, 40000, kB, 443), kNs);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->id, id(10, 1));
  EXPECT_EQ(j.find(flow(3, IPPROTO_TCP, kA, 40000, kB, 443), kOtherNs)->id, id(20, 2));
  EXPECT_EQ(j.find(flow(3, IPPROTO_TCP, kA, 40001, kB, 443), kNs), nullptr);
  EXPECT_EQ(j.find(flow(3, IPPROTO_UDP, kA, 40000, kB, 443), kNs), nullptr);
}

// An unconnected UDP server (remote 0.0.0.0:0) owns every flow to its port:
// bound to its address, or to the wildcard, or dual-stack on ::.
TEST(FlowJoin, UnconnectedSocketsOwnEveryRemote) {
  FlowJoin j;
  j.learn({{id(10, 1), conn(IPPROTO_UDP, kA, 53, kAny, 0)},
           {id(11, 2), conn(IPPROTO_UDP, kAny, 5353, kAny, 0)}},
          0);
  EXPECT_EQ(j.find(flow(3, IPPROTO_UDP, kA, 53, kC, 1111), kNs)->id, id(10, 1));
  EXPECT_EQ(j.find(flow(3, IPPROTO_UDP, kA, 53, kD, 2222), kNs)->id, id(10, 1));
  EXPECT_EQ(j.find(flow(3, IPPROTO_UDP, kB, 5353, kD, 2222), kNs)->id, id(11, 2));
  EXPECT_EQ(j.find(flow(3, IPPROTO_UDP, kB, 53, kD, 2222), kNs), nullptr);  // other address

  FlowJoin dual;
  ConnInfo v6any = conn(IPPROTO_UDP, kAny, 9000, kAny, 0);
  v6any.family = AF_INET6;
  dual.learn({{id(12, 3), v6any}}, 0);
  EXPECT_EQ(dual.find(flow(3, IPPROTO_UDP, kA, 9000, kC, 1), kNs)->id, id(12, 3));
}

// A connection last seen moving payload 10 minutes ago is forgotten (its
// tuple may be anybody's now); one seen since is kept.
TEST(FlowJoin, ForgetsTuplesIdleForTenMinutes) {
  FlowJoin j;
  const int64_t s = 1'000'000'000;
  j.learn(
      {{id(10, 1), conn(IPPROTO_TCP, kA, 1, kB, 2)}, {id(10, 2), conn(IPPROTO_TCP, kA, 3, kB, 4)}},
      0);
  j.learn({{id(10, 2), conn(IPPROTO_TCP, kA, 3, kB, 4)}}, 500 * s);
  j.learn({}, 601 * s);
  EXPECT_EQ(j.find(flow(3, IPPROTO_TCP, kA, 1, kB, 2), kNs), nullptr);
  EXPECT_NE(j.find(flow(3, IPPROTO_TCP, kA, 3, kB, 4), kNs), nullptr);
  EXPECT_EQ(j.size(), 1u);
}

TEST(Classify, EveryFlowGetsOneClass) {
  FlowJoin j;
  j.learn({{id(10, 1), conn(IPPROTO_TCP, kA, 40000, kB, 443)}}, 0);
  const std::vector<Addr> local = {kA};
  FlowKey arp{.ifindex = 3, .ethertype = 0x0806};
  FlowKey icmp = flow(3, IPPROTO_ICMP, kA, 0, kB, 0);
  FlowKey mcast = flow(3, IPPROTO_UDP, {224, 0, 0, 251}, 5353, kB, 5353);
  FlowKey fwd = flow(3, IPPROTO_TCP, kC, 80, kD, 5000);
  FlowKey kernel = flow(3, IPPROTO_UDP, kA, 4789, kB, 4789);  // a VXLAN socket, say
  auto out =
      classify({bytes(flow(3, IPPROTO_TCP, kA, 40000, kB, 443), 10, 20), bytes(arp, 1, 1),
                bytes(icmp, 1, 1), bytes(mcast, 1, 1), bytes(fwd, 1, 1), bytes(kernel, 1, 1)},
               kNs, j, local, {{.ifindex = 3, .name = "eth0"}});
  ASSERT_EQ(out.size(), 6u);
  EXPECT_EQ(out[0].cls, FlowClass::process);
  EXPECT_EQ(out[0].owner, id(10, 1));
  EXPECT_EQ(out[0].iface, "eth0");
  EXPECT_EQ(out[1].cls, FlowClass::non_socket);
  EXPECT_EQ(out[2].cls, FlowClass::non_socket);
  EXPECT_EQ(out[3].cls, FlowClass::non_socket);
  EXPECT_EQ(out[4].cls, FlowClass::forwarded);
  EXPECT_EQ(out[5].cls, FlowClass::no_process);
  EXPECT_FALSE(out[5].owner);
}

// Each interface's bytes break down into the flows' classes; retransmitted
// payload moves from "process" to "retransmits" on the interface that
// carried its connection; what no flow explains is shown, signed.
TEST(Receipt, BreaksInterfaceBytesDown) {
  FlowKey c = flow(3, IPPROTO_TCP, kA, 40000, kB, 443);
  std::vector<FlowTraffic> flows = {
      {.bytes = bytes(c, 5000, 1000), .cls = FlowClass::process},
      {.bytes = bytes(flow(3, IPPROTO_TCP, kC, 80, kD, 5), 300, 0), .cls = FlowClass::forwarded},
      {.bytes = bytes(FlowKey{.ifindex = 4, .ethertype = 0x0806}, 42, 42),
       .cls = FlowClass::non_socket},
  };
  FlowKey rk = c;
  rk.ifindex = kNs;
  FlowKey elsewhere = rk;
  elsewhere.ifindex = kOtherNs;
  Receipt r = make_receipt({{.ifindex = 3, .name = "eth0", .tx_bytes = 5350, .rx_bytes = 1000},
                            {.ifindex = 4, .name = "eth1", .tx_bytes = 40, .rx_bytes = 42}},
                           flows, {{.key = rk, .bytes = 700}, {.key = elsewhere, .bytes = 9}}, kNs);
  ASSERT_EQ(r.interfaces.size(), 2u);
  const ReceiptLine& eth0 = r.interfaces[0];
  EXPECT_EQ(eth0.wire, 6350u);
  EXPECT_EQ(eth0.process, 5300u);
  EXPECT_EQ(eth0.retrans, 700u);
  EXPECT_EQ(eth0.forwarded, 300u);
  EXPECT_EQ(eth0.unexplained, 50);
  const ReceiptLine& eth1 = r.interfaces[1];
  EXPECT_EQ(eth1.non_socket, 84u);
  EXPECT_EQ(eth1.unexplained, -2);
  EXPECT_EQ(r.total.wire, 6432u);
  EXPECT_EQ(r.total.unexplained, 48);
  EXPECT_EQ(r.total.retrans, 700u);
}

TEST(FlowKeys, MappedAddressesAreIPv4) {
  FlowKey k{.ethertype = 0x86dd,
            .proto = IPPROTO_TCP,
            .lport = 1,
            .rport = 2,
            .laddr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1},
            .raddr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2}};
  FlowKey v4 = canonical(k);
  EXPECT_EQ(v4.ethertype, 0x0800);
  EXPECT_EQ(v4.laddr, kA);
  EXPECT_EQ(v4.raddr, kB);
  FlowKey v6 = k;
  v6.raddr = {0x20, 0x01, 0x0d, 0xb8};
  EXPECT_EQ(canonical(v6), v6);
}

// Flows live in an LRU map: a flow gone from a read was evicted, one whose
// counters went down was evicted and made again (all of it is new).
TEST(AccountantWire, FlowDeltasSurviveEviction) {
  Accountant acc;
  FlowKey f = flow(3, IPPROTO_TCP, kA, 1, kB, 2), g = flow(3, IPPROTO_UDP, kA, 3, kB, 4);
  Snapshot s0{.mono_ns = 1};
  s0.flows = {bytes(f, 100, 10), bytes(g, 5, 5)};
  acc.prime(s0);
  Snapshot s1{.mono_ns = 2};
  s1.flows = {bytes(f, 150, 10)};  // g evicted
  s1.retrans = {{.key = f, .bytes = 30, .segments = 1}};
  Window w1 = acc.advance(s1);
  ASSERT_EQ(w1.flows.size(), 1u);
  EXPECT_EQ(w1.flows[0].tx_bytes, 50u);
  EXPECT_EQ(w1.flows[0].rx_bytes, 0u);
  ASSERT_EQ(w1.retrans.size(), 1u);
  EXPECT_EQ(w1.retrans[0].bytes, 30u);
  Snapshot s2{.mono_ns = 3};
  s2.flows = {bytes(f, 20, 1), bytes(g, 7, 0)};  // f evicted and made again; g made again
  s2.retrans = {{.key = f, .bytes = 30, .segments = 1}};
  Window w2 = acc.advance(s2);
  ASSERT_EQ(w2.flows.size(), 2u);
  EXPECT_EQ(w2.flows[0].tx_bytes, 20u);
  EXPECT_EQ(w2.flows[0].rx_bytes, 1u);
  EXPECT_EQ(w2.flows[1].tx_bytes, 7u);
  EXPECT_TRUE(w2.retrans.empty());  // no new retransmits
}
