// Plain data that flows from map snapshots to sinks. No kernel types here:
// snapshot.cpp converts from the ABI structs once.
#pragma once
#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace netacct {

// A process is one program run by a thread group: its id, its start time
// (ns since boot) and its exec generation. A reused PID is a different
// process, and so is the program a process execve()s: the bytes before and
// after an exec are separate rows, each named after its own program.
struct ProcId {
  uint32_t tgid = 0;
  uint64_t start_ns = 0;
  uint32_t exec_gen = 0;  // opaque; increases by one at each execve()
  auto operator<=>(const ProcId&) const = default;
};

struct ProcInfo {
  std::string comm;
  uint32_t uid = 0;
  uint64_t cgroup_id = 0;
};

// Monotonic byte counters; loopback traffic is kept apart so it can be
// excluded (the default) or included (--loopback).
struct ByteCounters {
  uint64_t tx = 0, rx = 0, lo_tx = 0, lo_rx = 0;
  ByteCounters operator-(const ByteCounters& o) const {
    return {.tx = tx - o.tx, .rx = rx - o.rx, .lo_tx = lo_tx - o.lo_tx, .lo_rx = lo_rx - o.lo_rx};
  }
  ByteCounters& operator+=(const ByteCounters& o) {
    tx += o.tx;
    rx += o.rx;
    lo_tx += o.lo_tx;
    lo_rx += o.lo_rx;
    return *this;
  }
  bool operator==(const ByteCounters&) const = default;
  uint64_t total_tx(bool loopback) const { return tx + (loopback ? lo_tx : 0); }
  uint64_t total_rx(bool loopback) const { return rx + (loopback ? lo_rx : 0); }
};

// A cgroup's payload bytes (monotonic), counted in the kernel in the cgroup
// the moving task was in at each send and receive (bpf/netacct.h, cgroups).
struct CgroupEntry {
  uint64_t id = 0;  // cgroup v2 id: the inode of its directory
  ByteCounters bytes;
  // With the wire layer: its sockets' IP packets (bpf/netacct.h, cgroups),
  // bytes from the IP header on and packets, each split at loopback.
  ByteCounters ip_bytes, ip_packets;
  // What the kernel read when it first counted the cgroup: its directory's
  // name and its parent's id (names it once it is gone).
  std::string name;
  uint64_t parent = 0;
};

// Where a snapshot source keeps an entry (the kernel's slot index), when it
// has such a place: the same entry is usually in the same place at the next
// read, so state kept per entry is found there without hashing its id (a
// hint, checked against the id).
constexpr uint32_t kNoSlot = UINT32_MAX;

struct ProcEntry {
  ProcId id;
  ProcInfo info;
  ByteCounters bytes;
  bool execed = false;  // the program execve()d another: this row has ended
  uint32_t slot = kNoSlot;
};

// A datagram socket that moved datagrams both over loopback and over the
// network has two entries, told apart by dgram_lo (the loopback part is 1).
struct ConnId {
  uint64_t cookie = 0;
  ProcId proc;
  uint8_t dgram_lo = 0;
  auto operator<=>(const ConnId&) const = default;
};

struct Endpoint {
  std::array<uint8_t, 16> addr{};  // IPv4 in the first 4 bytes
  uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
};

// A remote host: family and address, no port.
struct RemoteKey {
  uint16_t family = 0;
  std::array<uint8_t, 16> addr{};
  auto operator<=>(const RemoteKey&) const = default;
};

struct ConnInfo {
  uint16_t family = 0;  // AF_INET / AF_INET6
  uint16_t proto = 0;   // IPPROTO_*
  Endpoint local, remote;
  uint32_t netns = 0;
  bool loopback = false;
};

// Connection counters have no separate loopback fields: a connection is
// wholly loopback or not (info.loopback).
struct ConnEntry {
  ConnId id;
  ConnInfo info;
  uint64_t tx = 0, rx = 0;
  uint32_t slot = kNoSlot;
};

// One interface's wire counters (monotonic since netacct attached to it):
// what the TC classifier counted crossing the device. `attach` tells two
// attachments of one ifindex apart (an interface deleted and another made
// with its index), so counters that restart are never taken for deltas.
struct IfaceEntry {
  uint32_t ifindex = 0;
  uint64_t attach = 0;
  std::string name;
  uint32_t l2_len = UINT32_MAX;  // link-layer header length; UINT32_MAX: unknown
  uint64_t tx_bytes = 0, rx_bytes = 0, tx_packets = 0, rx_packets = 0;
};

// An interface's wire traffic in a window (deltas of IfaceEntry).
struct IfaceTraffic {
  uint32_t ifindex = 0;
  uint32_t netns = 0;  // inode number of its network namespace
  std::string name;
  uint32_t l2_len = UINT32_MAX;  // link-layer header length; UINT32_MAX: unknown
  uint64_t tx_bytes = 0, rx_bytes = 0, tx_packets = 0, rx_packets = 0;
};

// A flow at the wire layer, seen from this host: on egress the local end is
// the source, on ingress the destination (bpf/netacct.h, na_flow_key).
// ethertype says what it is: 0x0800 IPv4, 0x86dd IPv6, else a non-IP
// protocol (no addresses). Retransmits (no interface) carry the socket's
// network namespace in ifindex.
struct FlowKey {
  uint32_t ifindex = 0;
  uint16_t ethertype = 0;
  uint8_t proto = 0;
  uint16_t lport = 0, rport = 0;
  std::array<uint8_t, 16> laddr{}, raddr{};
  auto operator<=>(const FlowKey&) const = default;
  // AF_INET (2), AF_INET6 (10), or 0 for non-IP.
  uint16_t family() const { return ethertype == 0x0800 ? 2 : ethertype == 0x86dd ? 10 : 0; }
};

// Monotonic wire counters of one flow (a snapshot), or their deltas in a
// window.
struct FlowEntry {
  FlowKey key;
  uint64_t tx_bytes = 0, rx_bytes = 0, tx_packets = 0, rx_packets = 0;
};

// TCP payload bytes retransmitted on one connection (key.ifindex: its netns).
struct RetransEntry {
  FlowKey key;
  uint64_t bytes = 0, segments = 0;
};

struct KernelStats {
  uint64_t conn_created = 0, proc_created = 0, insert_failed = 0;
};

// One read of the kernel maps. mono_ns orders snapshots and gives rates;
// wall_ns is only for display.
//
// A snapshot holds every entry of the maps, or, with `changes` (what the
// kernel's change feed gives: kernel/slot_reader), only the entries whose
// counters or flags changed since the previous read plus the ids of the
// entries that left the maps since then (evicted): the cost of a poll then
// follows activity, not the number of live sockets. An id both gone and
// present is an entry re-created since the previous read: all its bytes are
// new.
struct Snapshot {
  int64_t mono_ns = 0;
  int64_t wall_ns = 0;
  std::vector<ProcEntry> procs;
  std::vector<ConnEntry> conns;
  KernelStats stats;
  bool changes = false;
  std::vector<ProcId> procs_gone;  // with `changes` only
  std::vector<ConnId> conns_gone;
  // Every interface the wire layer counts (always whole: a handful of
  // entries), and the network namespace they are in (its inode number).
  std::vector<IfaceEntry> ifaces;
  uint32_t ifaces_netns = 0;
  // The wire layer's flows and retransmits (whole maps), and the addresses
  // of this network namespace (what tells a forwarded flow from a local one).
  std::vector<FlowEntry> flows;
  std::vector<RetransEntry> retrans;
  std::vector<std::array<uint8_t, 16>> local_addrs;  // IPv4 in the first 4 bytes
  // Every cgroup's counters (whole map), read after the processes: no
  // cgroup shows fewer bytes than the processes in it.
  std::vector<CgroupEntry> cgroups;
};

// Where snapshots come from: the kernel's maps in the product
// (kernel/snapshot), a script in tests.
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual Snapshot read() = 0;
  // Deletes the processes' entries and their connections (found in `snap`);
  // returns how many connection entries were deleted.
  virtual uint64_t remove(const std::vector<ProcId>& gone, const Snapshot& snap) = 0;
};

// How the poller learns that processes ended: pidfds the kernel marks when
// their process exits in the product (resolve/exit_watch), procfs asked at
// every poll where there are none, a script in tests.
class ExitWatch {
 public:
  virtual ~ExitWatch() = default;
  // A process seen for the first time: watched until it ends.
  virtual void watch(const ProcId& id) = 0;
  // Ended otherwise (its program exec'd another): no longer watched.
  // False when it was not watched.
  virtual bool unwatch(const ProcId& id) = 0;
  // Watched processes found ended since the last call, each once; they are
  // no longer watched.
  virtual std::vector<ProcId> ended() = 0;
};

}  // namespace netacct

// Ids as hash keys (the tables kept per entry from one poll to the next).
template <>
struct std::hash<netacct::FlowKey> {
  size_t operator()(const netacct::FlowKey& k) const noexcept {
    uint64_t h = uint64_t(k.ifindex) << 40 ^ uint64_t(k.ethertype) << 24 ^ uint64_t(k.proto) << 16;
    h ^= uint64_t(k.lport) << 32 ^ k.rport;
    for (size_t i = 0; i < 16; i += 8) {
      uint64_t a = 0, b = 0;
      for (size_t j = 0; j < 8; ++j) {
        a = a << 8 | k.laddr[i + j];
        b = b << 8 | k.raddr[i + j];
      }
      h = (h ^ a) * 0x9e3779b97f4a7c15ull;
      h = (h ^ b) * 0xbf58476d1ce4e5b9ull;
    }
    return size_t(h ^ (h >> 31));
  }
};

template <>
struct std::hash<netacct::ProcId> {
  size_t operator()(const netacct::ProcId& p) const noexcept {
    uint64_t h = p.start_ns * 0x9e3779b97f4a7c15ull ^ (uint64_t(p.tgid) << 32 | p.exec_gen);
    return size_t((h ^ (h >> 29)) * 0xbf58476d1ce4e5b9ull);
  }
};
template <>
struct std::hash<netacct::ConnId> {
  size_t operator()(const netacct::ConnId& c) const noexcept {
    uint64_t h =
        std::hash<netacct::ProcId>()(c.proc) ^ (c.cookie * 0x94d049bb133111ebull + c.dgram_lo);
    return size_t(h ^ (h >> 31));
  }
};
