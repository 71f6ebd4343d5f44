// The wire layer joined to the socket layer: which connection (and so which
// process) each flow belongs to, what the rest of an interface's bytes are,
// and the receipt that breaks each interface's bytes down.
//
// One identity for both sides, on every backend: a flow and a connection
// meet by their addresses and ports (protocol, local end, remote end), not
// by socket cookie, which the kprobe backend does not have. Connections are
// learnt from every window's connection deltas (all of them, before any
// selection), so a flow whose connection moved no payload in this window
// (ACKs of a receiver, keepalives) still finds its owner.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/types.hpp"

namespace netacct {

// What a flow's bytes are, for the receipt.
enum class FlowClass : uint8_t {
  process,     // a connection of a process netacct saw (payload + protocol overhead)
  no_process,  // a TCP/UDP/SCTP end on this host with no process seen (kernel sockets,
               // sockets that moved no payload since netacct started)
  forwarded,   // neither end is an address of this host
  non_socket,  // ARP, ICMP, IGMP, IPv6 ND, multicast and broadcast with no socket
};

const char* flow_class_name(FlowClass c);  // "process", "no_process", ...

// A flow's wire bytes in a window, and who they belong to.
struct FlowTraffic {
  FlowEntry bytes;  // key and deltas
  FlowClass cls = FlowClass::non_socket;
  std::optional<ConnId> owner;
  std::string iface;  // the interface's name
  ConnInfo conn;      // the owner connection as the socket layer shows it
};

// Per interface (and in total): how its bytes break down. The classes add
// up to `wire` except for `unexplained` (signed: flows evicted from the
// kernel's LRU map, reads a packet apart), which is shown, never hidden.
struct ReceiptLine {
  std::string name;  // "" for the total
  uint32_t ifindex = 0;
  uint64_t wire = 0, process = 0, retrans = 0, forwarded = 0, non_socket = 0, no_process = 0;
  int64_t unexplained = 0;
};

struct Receipt {
  std::vector<ReceiptLine> interfaces;
  ReceiptLine total;
  bool empty() const { return interfaces.empty(); }
};

// A socket's tuple as the packets carry it: an IPv4-mapped IPv6 socket's
// addresses as IPv4 (what the kernel's retransmit entries name).
FlowKey canonical(FlowKey k);

// A connection's tuple as a flow key (ifindex 0): the same addresses the
// kernel's flow keys carry (IPv4-mapped addresses as IPv4).
FlowKey tuple_of(const ConnInfo& canonical_info);

class FlowJoin {
 public:
  // Learns the window's connections (canonical infos). `now` is the
  // window's end (monotonic ns): tuples not seen for 10 minutes are dropped.
  void learn(const std::vector<std::pair<ConnId, ConnInfo>>& conns, int64_t now);
  // The connection a flow belongs to: its exact tuple, else a socket on the
  // same local address and port with no remote (an unconnected UDP socket),
  // else one bound to the wildcard address.
  struct Owner {
    ConnId id;
    ConnInfo info;
  };
  // Only connections in the flows' network namespace `netns` (the same
  // addresses and ports may be in use in another).
  const Owner* find(const FlowKey& flow, uint32_t netns) const;
  size_t size() const { return owners_.size(); }

 private:
  struct Known {
    Owner owner;
    int64_t seen = 0;
  };
  // Keyed by tuple_of(info) with the connection's netns where a flow key
  // has its ifindex.
  std::unordered_map<FlowKey, Known> owners_;
  int64_t last_sweep_ = 0;
};

// Classes each flow (owner from `join`, forwarded by `local` addresses).
std::vector<FlowTraffic> classify(const std::vector<FlowEntry>& flows, uint32_t netns,
                                  const FlowJoin& join,
                                  const std::vector<std::array<uint8_t, 16>>& local,
                                  const std::vector<IfaceTraffic>& ifaces);

// The receipt of a window: interface totals broken down by the flows'
// classes; `retrans` are the window's retransmitted bytes (canonical keys),
// those in the interfaces' namespace `netns` placed on the interface of
// their connection's flow.
Receipt make_receipt(const std::vector<IfaceTraffic>& ifaces, const std::vector<FlowTraffic>& flows,
                     const std::vector<RetransEntry>& retrans, uint32_t netns);

}  // namespace netacct
