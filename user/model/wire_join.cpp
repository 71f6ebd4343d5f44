#include "model/wire_join.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

namespace netacct {
namespace {

constexpr uint16_t kEthIPv4 = 0x0800, kEthIPv6 = 0x86dd;
constexpr int64_t kForgetNs = 600'000'000'000;  // 10 minutes
constexpr int64_t kSweepNs = 60'000'000'000;
constexpr uint32_t kLoopbackIfindex = 1;

using Addr = std::array<uint8_t, 16>;

bool has_ports(uint8_t proto) {
  return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ||
         proto == IPPROTO_UDPLITE;
}

// Multicast and broadcast: 224.0.0.0/4, 255.255.255.255, ff00::/8.
bool group_address(const FlowKey& k, const Addr& a) {
  if (k.family() == AF_INET)
    return (a[0] & 0xf0) == 0xe0 || (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);
  return a[0] == 0xff;
}

bool is_local(const Addr& a, const std::vector<Addr>& local) {
  return std::find(local.begin(), local.end(), a) != local.end();
}

FlowClass class_of(const FlowKey& k, bool owned, const std::vector<Addr>& local) {
  if (owned) return FlowClass::process;
  if (k.family() == 0 || group_address(k, k.laddr) || group_address(k, k.raddr))
    return FlowClass::non_socket;
  if (!is_local(k.laddr, local) && !is_local(k.raddr, local)) return FlowClass::forwarded;
  return has_ports(k.proto) ? FlowClass::no_process : FlowClass::non_socket;
}

FlowKey with_remote(FlowKey k, const Addr& raddr, uint16_t rport) {
  k.raddr = raddr;
  k.rport = rport;
  return k;
}

}  // namespace

const char* flow_class_name(FlowClass c) {
  switch (c) {
    case FlowClass::process:
      return "process";
    case FlowClass::no_process:
      return "no_process";
    case FlowClass::forwarded:
      return "forwarded";
    case FlowClass::non_socket:
      return "non_socket";
  }
  return "?";
}

FlowKey canonical(FlowKey k) {
  static constexpr std::array<uint8_t, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  auto is_mapped = [](const Addr& a) {
    return std::equal(kMapped.begin(), kMapped.end(), a.begin());
  };
  if (k.ethertype != kEthIPv6 || !is_mapped(k.laddr) || !is_mapped(k.raddr)) return k;
  auto to_v4 = [](Addr& a) {
    Addr v4{};
    std::copy(a.begin() + 12, a.end(), v4.begin());
    a = v4;
  };
  k.ethertype = kEthIPv4;
  to_v4(k.laddr);
  to_v4(k.raddr);
  return k;
}

FlowKey tuple_of(const ConnInfo& c) {
  return FlowKey{.ethertype = c.family == AF_INET ? kEthIPv4 : kEthIPv6,
                 .proto = uint8_t(c.proto),
                 .lport = c.local.port,
                 .rport = c.remote.port,
                 .laddr = c.local.addr,
                 .raddr = c.remote.addr};
}

void FlowJoin::learn(const std::vector<std::pair<ConnId, ConnInfo>>& conns, int64_t now) {
  for (const auto& [id, info] : conns) {
    FlowKey k = tuple_of(info);
    k.ifindex = info.netns;
    owners_[k] = Known{.owner = {.id = id, .info = info}, .seen = now};
  }
  if (now - last_sweep_ < kSweepNs) return;
  last_sweep_ = now;
  std::erase_if(owners_, [&](const auto& e) { return now - e.second.seen > kForgetNs; });
}

const FlowJoin::Owner* FlowJoin::find(const FlowKey& flow, uint32_t netns) const {
  FlowKey k = flow;
  k.ifindex = netns;
  const Addr any{};
  // A dual-stack socket (AF_INET6 on ::) receives IPv4 as well.
  FlowKey any6 = with_remote(k, any, 0);
  any6.laddr = any;
  any6.ethertype = kEthIPv6;
  FlowKey candidates[] = {k, with_remote(k, any, 0), with_remote(k, any, 0), any6};
  candidates[2].laddr = any;
  for (const FlowKey& c : candidates)
    if (auto it = owners_.find(c); it != owners_.end()) return &it->second.owner;
  return nullptr;
}

std::vector<FlowTraffic> classify(const std::vector<FlowEntry>& flows, uint32_t netns,
                                  const FlowJoin& join, const std::vector<Addr>& local,
                                  const std::vector<IfaceTraffic>& ifaces) {
  std::vector<FlowTraffic> out;
  out.reserve(flows.size());
  std::unordered_map<uint32_t, const IfaceTraffic*> iface_at;  // by ifindex
  for (const auto& i : ifaces) iface_at.emplace(i.ifindex, &i);
  for (const FlowEntry& f : flows) {
    const FlowJoin::Owner* owner = f.key.family() ? join.find(f.key, netns) : nullptr;
    FlowTraffic t{.bytes = f, .cls = class_of(f.key, owner != nullptr, local)};
    if (owner) {
      t.owner = owner->id;
      t.conn = owner->info;
      // A datagram socket keeps its loopback datagrams in an entry of their
      // own (netacct.h, dgram_lo): a flow on the loopback device (ifindex 1
      // in every namespace) is that entry's.
      bool dgram = owner->info.proto != IPPROTO_TCP && owner->info.proto != IPPROTO_SCTP;
      if (dgram) {
        t.owner->dgram_lo = f.key.ifindex == kLoopbackIfindex;
        t.conn.loopback = t.owner->dgram_lo;
      }
    }
    if (auto i = iface_at.find(f.key.ifindex); i != iface_at.end()) t.iface = i->second->name;
    out.push_back(std::move(t));
  }
  return out;
}

namespace {

void add_class(ReceiptLine& line, FlowClass c, uint64_t bytes) {
  switch (c) {
    case FlowClass::process:
      line.process += bytes;
      break;
    case FlowClass::no_process:
      line.no_process += bytes;
      break;
    case FlowClass::forwarded:
      line.forwarded += bytes;
      break;
    case FlowClass::non_socket:
      line.non_socket += bytes;
      break;
  }
}

}  // namespace

// Retransmitted payload is part of its connection's flow bytes: it moves
// from "process" to "retransmits" on the interface that carried the flow
// (retransmits in the interfaces' namespace `netns` only). One pass over
// the flows and one over the retransmits, through indexes: a refresh may
// hold tens of thousands of flows on hundreds of interfaces.
Receipt make_receipt(const std::vector<IfaceTraffic>& ifaces, const std::vector<FlowTraffic>& flows,
                     const std::vector<RetransEntry>& retrans, uint32_t netns) {
  Receipt r;
  std::unordered_map<uint32_t, size_t> line_at;  // by ifindex
  for (const auto& i : ifaces) {
    line_at.emplace(i.ifindex, r.interfaces.size());
    r.interfaces.push_back({.name = i.name, .ifindex = i.ifindex, .wire = i.tx_bytes + i.rx_bytes});
  }
  std::unordered_map<FlowKey, size_t> carried_by;  // a connection's tuple -> its flow's line
  for (const FlowTraffic& f : flows) {
    auto line = line_at.find(f.bytes.key.ifindex);
    if (line == line_at.end()) continue;
    add_class(r.interfaces[line->second], f.cls, f.bytes.tx_bytes + f.bytes.rx_bytes);
    FlowKey tuple = f.bytes.key;
    tuple.ifindex = netns;
    if (f.cls == FlowClass::process) carried_by.emplace(tuple, line->second);
  }
  for (const auto& e : retrans) {
    auto line = e.key.ifindex == netns ? carried_by.find(e.key) : carried_by.end();
    if (line == carried_by.end()) continue;
    ReceiptLine& l = r.interfaces[line->second];
    uint64_t moved = std::min(e.bytes, l.process);
    l.process -= moved;
    l.retrans += moved;
  }
  for (auto& line : r.interfaces) {
    uint64_t explained =
        line.process + line.retrans + line.forwarded + line.non_socket + line.no_process;
    line.unexplained = int64_t(line.wire) - int64_t(explained);
    ReceiptLine& t = r.total;
    t.wire += line.wire;
    t.process += line.process;
    t.retrans += line.retrans;
    t.forwarded += line.forwarded;
    t.non_socket += line.non_socket;
    t.no_process += line.no_process;
    t.unexplained += line.unexplained;
  }
  return r;
}

}  // namespace netacct
