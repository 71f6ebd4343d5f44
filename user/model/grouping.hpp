// Groupings as a table. Each grouping (process, connection, remote host;
// later container, interface, flow) is one entry: a key function over the
// attributed traffic, a description of a new row, and typed columns. The
// report's window sums, top's per-row histories and every sink iterate this
// table, so a new grouping is one entry plus its key function.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "model/attribution.hpp"

namespace netacct {

// Index into groupings(), in the order views cycle and JSON arrays appear.
enum class GroupKind { process, connection, remote, interface, flow, container };

// What feeds a grouping's rows.
enum class Source { procs, conns, ifaces, flows, cgroups };

// One row's identity in every grouping; fields a grouping does not use stay
// zero, so keys of one grouping compare field by field.
struct GroupKey {
  ProcId proc;
  uint64_t cookie = 0;
  RemoteKey remote;
  uint32_t ifindex = 0;
  uint16_t port = 0;  // a per-remote row of an unconnected socket: the remote's
  uint64_t cgroup = 0;
  auto operator<=>(const GroupKey&) const = default;
};

// One item of attributed traffic: a process's bytes, one connection's, or
// one interface's wire bytes.
struct TrafficItem {
  ProcId proc;
  const ConnTraffic* conn = nullptr;            // null for a process's own total
  const IfaceTraffic* iface = nullptr;          // interfaces only
  const FlowTraffic* flow = nullptr;            // flows only
  const ContainerTraffic* container = nullptr;  // containers only
  uint64_t tx = 0, rx = 0;
  const Identity* who = nullptr;  // the process's, if known
  WireBytes wire;
};

// One row of a grouping: who or what it is, and its bytes.
struct GroupRow {
  GroupKey key;
  Identity who;   // the process (groupings that have one)
  ConnInfo conn;  // the connection (connection grouping)
  // The interface (interface grouping): valid while the Attributed (report)
  // or the model (top) it was made from is.
  const IfaceTraffic* iface = nullptr;
  const FlowTraffic* flow = nullptr;            // the flow (flow grouping), likewise
  const ContainerTraffic* container = nullptr;  // the cgroup (container grouping), likewise
  uint64_t tx = 0, rx = 0;
  WireBytes wire;                           // processes and connections
  double tx_rate = 0, rx_rate = 0;          // over the report's window
  uint64_t processes = 0, connections = 0;  // distinct contributors
  // The remote's name (connections; remote hosts: the best any of its
  // connections had), null when none.
  RemoteNameRef name;
};

// How a sink reads a cell: bytes are integers in JSON and CSV and human
// units in text; endpoints "addr:port"; addresses bare; null stays null.
enum class Unit { text, count, bytes, rate, proto, family, endpoint, address, flag };
struct Address {
  uint16_t family = 0;
  std::array<uint8_t, 16> addr{};
  std::optional<uint16_t> port;  // endpoints have one
};
using Cell = std::variant<std::monostate, std::string, uint64_t, double, bool, Address>;

enum Sink : unsigned { kJson = 1, kCsv = 2, kText = 4, kAll = 7 };

struct Column {
  std::string name;   // JSON and CSV field
  std::string title;  // text heading
  Unit unit = Unit::text;
  unsigned sinks = kAll;
  Cell (*get)(const GroupRow&) = nullptr;
  // Text: left out when no row has a value (remote names, which most
  // reports have none of).
  bool hide_empty = false;
};

struct Grouping {
  GroupKind kind;
  std::string name;    // `--by` value: "process"
  std::string plural;  // JSON array and `--view` value: "processes"
  std::string title;   // top's name for the view: "remote hosts"
  Source source = Source::procs;
  bool has_process = false;  // each row belongs to one process (drill-down filters by it)
  bool until_exit = false;   // top keeps idle rows (and their totals) until the process exits
  bool top_view = true;      // a view in top (flows are report-only)
  GroupKey (*key)(const TrafficItem&) = nullptr;
  std::vector<Column> columns;
  // Rows that span processes (remote hosts) keep per-process rows for a
  // drill-down; rows of one process, and interfaces, have none.
  bool per_process_rows() const { return source == Source::conns && !has_process; }
};

const std::vector<Grouping>& groupings();
const Grouping& grouping(GroupKind kind);
const Grouping* find_grouping(const std::string& name_or_plural);

// How many items the grouping's source has in `a`.
size_t item_count(const Grouping& g, const Attributed& a);

// Calls f(item) for every item of the grouping's source in `a`.
template <typename F>
void for_each_item(const Grouping& g, const Attributed& a, F&& f) {
  switch (g.source) {
    case Source::conns:
      for (const auto& c : a.conns)
        f(TrafficItem{
            .proc = c.id.proc, .conn = &c, .tx = c.tx, .rx = c.rx, .who = c.who, .wire = c.wire});
      break;
    case Source::procs:
      for (const auto& p : a.procs)
        f(TrafficItem{.proc = p.id, .tx = p.tx, .rx = p.rx, .who = p.who, .wire = p.wire});
      break;
    case Source::flows:
      for (const auto& l : a.flows)
        f(TrafficItem{.proc = l.owner ? l.owner->proc : ProcId{},
                      .flow = &l,
                      .tx = l.bytes.tx_bytes,
                      .rx = l.bytes.rx_bytes});
      break;
    case Source::ifaces:
      for (const auto& i : a.ifaces)
        f(TrafficItem{.iface = &i, .tx = i.tx_bytes, .rx = i.rx_bytes});
      break;
    case Source::cgroups:
      for (const auto& c : a.containers)
        f(TrafficItem{.container = &c, .tx = c.tx, .rx = c.rx, .wire = c.wire});
      break;
  }
}

// A fresh row for the item's key: its identity, no bytes yet.
GroupRow new_row(const Grouping& g, const TrafficItem& item, const Attributed& a);

// The same key restricted to one process (a drill-down of a grouping whose
// rows span processes, such as remote hosts).
GroupKey scoped(GroupKey key, const ProcId& proc);

}  // namespace netacct

template <>
struct std::hash<netacct::GroupKey> {
  size_t operator()(const netacct::GroupKey& k) const noexcept {
    uint64_t a = 0, b = 0;
    for (int i = 0; i < 8; ++i) {
      a = a << 8 | k.remote.addr[i];
      b = b << 8 | k.remote.addr[8 + i];
    }
    uint64_t h = std::hash<netacct::ProcId>()(k.proc) ^
                 (k.cookie + k.ifindex + k.cgroup) * 0x94d049bb133111ebull;
    h ^= (a * 0x9e3779b97f4a7c15ull) ^ (b + k.remote.family) * 0xbf58476d1ce4e5b9ull;
    return size_t(h ^ (h >> 29));
  }
};
