#include "model/grouping.hpp"

#include <cstdio>
#include <stdexcept>

namespace netacct {
namespace {

Cell opt(const SharedText& s) { return s ? Cell(*s) : Cell(); }
Cell endpoint(const ConnInfo& c, const Endpoint& e) {
  return Address{.family = c.family, .addr = e.addr, .port = e.port};
}

// Columns every grouping ends with: its bytes and rates in the window
// (interfaces and flows name their bytes tx_wire_bytes, rx_wire_bytes).
std::vector<Column> traffic_columns(std::string tx = "tx_bytes", std::string rx = "rx_bytes") {
  return {
      {.name = std::move(tx),
       .title = "SENT",
       .unit = Unit::bytes,
       .sinks = kAll,
       .get = [](const GroupRow& r) -> Cell { return r.tx; }},
      {.name = std::move(rx),
       .title = "RECEIVED",
       .unit = Unit::bytes,
       .sinks = kAll,
       .get = [](const GroupRow& r) -> Cell { return r.rx; }},
      {.name = "tx_rate",
       .title = "SEND/s",
       .unit = Unit::rate,
       .sinks = kAll,
       .get = [](const GroupRow& r) -> Cell { return r.tx_rate; }},
      {.name = "rx_rate",
       .title = "RECV/s",
       .unit = Unit::rate,
       .sinks = kAll,
       .get = [](const GroupRow& r) -> Cell { return r.rx_rate; }},
  };
}

// Wire bytes beside payload, in JSON and CSV (last in CSV: the columns that
// existed before them keep their places).
std::vector<Column> wire_columns() {
  return {
      {.name = "tx_wire_bytes",
       .title = "",
       .unit = Unit::count,
       .sinks = kJson | kCsv,
       .get = [](const GroupRow& r) -> Cell { return r.wire.tx_wire; }},
      {.name = "rx_wire_bytes",
       .title = "",
       .unit = Unit::count,
       .sinks = kJson | kCsv,
       .get = [](const GroupRow& r) -> Cell { return r.wire.rx_wire; }},
      {.name = "retrans_bytes",
       .title = "",
       .unit = Unit::count,
       .sinks = kJson | kCsv,
       .get = [](const GroupRow& r) -> Cell { return r.wire.retrans; }},
  };
}

std::vector<Column> with_traffic(std::vector<Column> identity, std::vector<Column> tail = {}) {
  for (auto& c : traffic_columns()) identity.push_back(std::move(c));
  for (auto& c : tail) identity.push_back(std::move(c));
  return identity;
}

std::vector<Column> with_wire(std::vector<Column> tail) {
  for (auto& c : wire_columns()) tail.push_back(std::move(c));
  return tail;
}

// The remote's name and where it came from (JSON and CSV, last), and the
// name alone in text, shown when some row has one.
std::vector<Column> name_columns() {
  return {
      {.name = "remote_name",
       .title = "",
       .unit = Unit::text,
       .sinks = kJson | kCsv,
       .get = [](const GroupRow& r) { return r.name ? Cell(r.name->name) : Cell(); }},
      {.name = "remote_name_source",
       .title = "",
       .unit = Unit::text,
       .sinks = kJson | kCsv,
       .get = [](const GroupRow& r) -> Cell {
         const char* s = r.name ? name_source_text(r.name->source) : nullptr;
         return s ? Cell(std::string(s)) : Cell();
       }},
      {.name = "",
       .title = "NAME",
       .unit = Unit::text,
       .sinks = kText,
       .get = [](const GroupRow& r) { return r.name ? Cell(r.name->name) : Cell(); },
       .hide_empty = true},
  };
}

std::vector<Column> with_names(std::vector<Column> tail) {
  for (auto& c : name_columns()) tail.push_back(std::move(c));
  return tail;
}

Cell pid(const GroupRow& r) { return uint64_t(r.key.proc.tgid); }
Cell comm(const GroupRow& r) { return r.who.comm; }

// Text shows the user's name, or the uid when it has none.
Cell user_or_uid(const GroupRow& r) { return r.who.user.value_or(std::to_string(r.who.uid)); }

Grouping process_grouping() {
  return {
      .kind = GroupKind::process,
      .name = "process",
      .plural = "processes",
      .title = "processes",
      .has_process = true,
      .until_exit = true,
      .key = [](const TrafficItem& i) { return GroupKey{.proc = i.proc}; },
      .columns = with_traffic(
          {{.name = "pid", .title = "PID", .unit = Unit::count, .sinks = kAll, .get = pid},
           {.name = "", .title = "USER", .unit = Unit::text, .sinks = kText, .get = user_or_uid},
           {.name = "comm", .title = "PROGRAM", .unit = Unit::text, .sinks = kAll, .get = comm},
           {.name = "exe",
            .title = "",
            .unit = Unit::text,
            .sinks = kJson | kCsv,
            .get = [](const GroupRow& r) { return opt(r.who.exe); }},
           {.name = "uid",
            .title = "",
            .unit = Unit::count,
            .sinks = kJson | kCsv,
            .get = [](const GroupRow& r) -> Cell { return uint64_t(r.who.uid); }},
           {.name = "user",
            .title = "",
            .unit = Unit::text,
            .sinks = kJson | kCsv,
            .get = [](const GroupRow& r) { return opt(r.who.user); }},
           {.name = "cgroup",
            .title = "",
            .unit = Unit::text,
            .sinks = kJson | kCsv,
            .get = [](const GroupRow& r) { return opt(r.who.cgroup); }},
           {.name = "container",
            .title = "",
            .unit = Unit::text,
            .sinks = kJson | kCsv,
            .get = [](const GroupRow& r) { return opt(r.who.container); }}},
          with_wire({{.name = "exited",
                      .title = "",
                      .unit = Unit::flag,
                      .sinks = kAll,
                      .get = [](const GroupRow& r) -> Cell { return r.who.exited; }},
                     // JSON only: CSV's columns keep their places.
                     {.name = "container_pid",
                      .title = "",
                      .unit = Unit::count,
                      .sinks = kJson,
                      .get = [](const GroupRow& r) -> Cell {
                        return r.who.container_pid ? Cell(uint64_t(*r.who.container_pid)) : Cell();
                      }}})),
  };
}

Grouping connection_grouping() {
  return {
      .kind = GroupKind::connection,
      .name = "connection",
      .plural = "connections",
      .title = "connections",
      .source = Source::conns,
      .has_process = true,
      .key =
          [](const TrafficItem& i) {
            // An unconnected socket's per-remote rows are rows of their own.
            if (!i.conn->per_remote) return GroupKey{.proc = i.proc, .cookie = i.conn->id.cookie};
            const ConnInfo& c = i.conn->info;
            return GroupKey{.proc = i.proc,
                            .cookie = i.conn->id.cookie,
                            .remote = {.family = c.family, .addr = c.remote.addr},
                            .port = c.remote.port};
          },
      .columns = with_traffic(
          {
              {.name = "pid", .title = "PID", .unit = Unit::count, .sinks = kAll, .get = pid},
              {.name = "comm", .title = "PROGRAM", .unit = Unit::text, .sinks = kAll, .get = comm},
              {.name = "proto",
               .title = "PROTO",
               .unit = Unit::proto,
               .sinks = kAll,
               .get = [](const GroupRow& r) -> Cell { return uint64_t(r.conn.proto); }},
              {.name = "family",
               .title = "",
               .unit = Unit::family,
               .sinks = kJson | kCsv,
               .get = [](const GroupRow& r) -> Cell { return uint64_t(r.conn.family); }},
              {.name = "local",
               .title = "LOCAL",
               .unit = Unit::endpoint,
               .sinks = kAll,
               .get = [](const GroupRow& r) { return endpoint(r.conn, r.conn.local); }},
              {.name = "remote",
               .title = "REMOTE",
               .unit = Unit::endpoint,
               .sinks = kAll,
               .get = [](const GroupRow& r) { return endpoint(r.conn, r.conn.remote); }},
          },
          // Last in CSV, so columns that existed before them keep their places.
          with_names(with_wire(
              {{.name = "netns",
                .title = "",
                .unit = Unit::count,
                .sinks = kJson | kCsv,
                .get = [](const GroupRow& r) -> Cell { return uint64_t(r.conn.netns); }}}))),
  };
}

Grouping remote_grouping() {
  return {
      .kind = GroupKind::remote,
      .name = "remote",
      .plural = "remotes",
      .title = "remote hosts",
      .source = Source::conns,
      .key =
          [](const TrafficItem& i) {
            return GroupKey{
                .remote = {.family = i.conn->info.family, .addr = i.conn->info.remote.addr}};
          },
      .columns = with_traffic(
          {{.name = "remote",
            .title = "REMOTE",
            .unit = Unit::address,
            .sinks = kAll,
            .get = [](const GroupRow& r) -> Cell {
              return Address{.family = r.key.remote.family, .addr = r.key.remote.addr};
            }},
           {.name = "family",
            .title = "",
            .unit = Unit::family,
            .sinks = kJson | kCsv,
            .get = [](const GroupRow& r) -> Cell { return uint64_t(r.key.remote.family); }}},
          with_names({{.name = "processes",
                       .title = "PROCESSES",
                       .unit = Unit::count,
                       .sinks = kAll,
                       .get = [](const GroupRow& r) -> Cell { return r.processes; }},
                      {.name = "connections",
                       .title = "CONNECTIONS",
                       .unit = Unit::count,
                       .sinks = kAll,
                       .get = [](const GroupRow& r) -> Cell { return r.connections; }}})),
  };
}

// The columns interfaces and flows end with: wire bytes as the devices
// counted them (named apart from payload), packets, and wire rates.
std::vector<Column> with_wire_traffic(std::vector<Column> identity,
                                      Cell (*tx_packets)(const GroupRow&),
                                      Cell (*rx_packets)(const GroupRow&),
                                      std::vector<Column> tail = {}) {
  std::vector<Column> wire = traffic_columns("tx_wire_bytes", "rx_wire_bytes");
  wire.insert(wire.begin() + 2, {{.name = "tx_packets",
                                  .title = "",
                                  .unit = Unit::count,
                                  .sinks = kJson | kCsv,
                                  .get = tx_packets},
                                 {.name = "rx_packets",
                                  .title = "",
                                  .unit = Unit::count,
                                  .sinks = kJson | kCsv,
                                  .get = rx_packets}});
  for (auto& c : wire) identity.push_back(std::move(c));
  for (auto& c : tail) identity.push_back(std::move(c));
  return identity;
}

// An interface's packets (segments) in the window.
Cell packets(uint64_t IfaceTraffic::*field, const GroupRow& r) {
  return r.iface ? Cell(r.iface->*field) : Cell();
}

Grouping interface_grouping() {
  return {.kind = GroupKind::interface,
          .name = "interface",
          .plural = "interfaces",
          .title = "interfaces",
          .source = Source::ifaces,
          .key = [](const TrafficItem& i) { return GroupKey{.ifindex = i.iface->ifindex}; },
          .columns = with_wire_traffic(
              {
                  {.name = "name",
                   .title = "INTERFACE",
                   .unit = Unit::text,
                   .sinks = kAll,
                   .get = [](const GroupRow& r) { return r.iface ? Cell(r.iface->name) : Cell(); }},
                  {.name = "index",
                   .title = "INDEX",
                   .unit = Unit::count,
                   .sinks = kAll,
                   .get = [](const GroupRow& r) -> Cell { return uint64_t(r.key.ifindex); }},
                  {.name = "netns",
                   .title = "",
                   .unit = Unit::count,
                   .sinks = kJson | kCsv,
                   .get =
                       [](const GroupRow& r) {
                         return r.iface ? Cell(uint64_t(r.iface->netns)) : Cell();
                       }},
              },
              [](const GroupRow& r) { return packets(&IfaceTraffic::tx_packets, r); },
              [](const GroupRow& r) { return packets(&IfaceTraffic::rx_packets, r); })};
}

// A flow's protocol: the IP protocol's name, else what the ethertype is.
Cell flow_proto(const GroupRow& r) {
  if (!r.flow) return {};
  const FlowKey& k = r.flow->bytes.key;
  if (k.family()) return uint64_t(k.proto);
  if (k.ethertype == 0x0806) return std::string("arp");
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%04x", k.ethertype);
  return std::string(hex);
}

Cell flow_end(const GroupRow& r, bool local) {
  if (!r.flow || !r.flow->bytes.key.family()) return {};
  const FlowKey& k = r.flow->bytes.key;
  bool ports = k.lport || k.rport;
  Address a{.family = k.family(), .addr = local ? k.laddr : k.raddr};
  if (ports) a.port = local ? k.lport : k.rport;
  return a;
}

Cell flow_packets(const GroupRow& r, bool tx) {
  if (!r.flow) return {};
  return tx ? r.flow->bytes.tx_packets : r.flow->bytes.rx_packets;
}

Grouping flow_grouping() {
  return {
      .kind = GroupKind::flow,
      .name = "flow",
      .plural = "flows",
      .title = "flows",
      .source = Source::flows,
      .top_view = false,
      // Each flow of a window is one item already: its row is keyed by it.
      .key = [](const TrafficItem& i) { return GroupKey{.cookie = uint64_t(uintptr_t(i.flow))}; },
      .columns = with_wire_traffic(
          {
              {.name = "proto",
               .title = "PROTO",
               .unit = Unit::proto,
               .sinks = kAll,
               .get = flow_proto},
              {.name = "family",
               .title = "",
               .unit = Unit::family,
               .sinks = kJson | kCsv,
               .get =
                   [](const GroupRow& r) {
                     return r.flow && r.flow->bytes.key.family()
                                ? Cell(uint64_t(r.flow->bytes.key.family()))
                                : Cell();
                   }},
              {.name = "local",
               .title = "LOCAL",
               .unit = Unit::endpoint,
               .sinks = kAll,
               .get = [](const GroupRow& r) { return flow_end(r, true); }},
              {.name = "remote",
               .title = "REMOTE",
               .unit = Unit::endpoint,
               .sinks = kAll,
               .get = [](const GroupRow& r) { return flow_end(r, false); }},
              {.name = "interface",
               .title = "INTERFACE",
               .unit = Unit::text,
               .sinks = kAll,
               .get = [](const GroupRow& r) { return r.flow ? Cell(r.flow->iface) : Cell(); }},
              {.name = "pid",
               .title = "PID",
               .unit = Unit::count,
               .sinks = kAll,
               .get =
                   [](const GroupRow& r) {
                     return r.flow && r.flow->owner ? Cell(uint64_t(r.flow->owner->proc.tgid))
                                                    : Cell();
                   }},
              {.name = "comm",
               .title = "PROGRAM",
               .unit = Unit::text,
               .sinks = kAll,
               .get =
                   [](const GroupRow& r) {
                     return r.flow && r.flow->owner ? Cell(r.who.comm) : Cell();
                   }},
          },
          [](const GroupRow& r) { return flow_packets(r, true); },
          [](const GroupRow& r) { return flow_packets(r, false); },
          {
              {.name = "class",
               .title = "CLASS",
               .unit = Unit::text,
               .sinks = kAll,
               .get =
                   [](const GroupRow& r) {
                     return r.flow ? Cell(std::string(flow_class_name(r.flow->cls))) : Cell();
                   }},
              {.name = "forwarded",
               .title = "",
               .unit = Unit::flag,
               .sinks = kJson | kCsv,
               .get = [](const GroupRow& r) -> Cell {
                 return r.flow && r.flow->cls == FlowClass::forwarded;
               }},
          })};
}

// A container row's name fields; null where the cgroup has none.
Cell cgroup_text(const GroupRow& r, std::optional<std::string> CgroupName::*field) {
  return r.container && r.container->name && (r.container->name.get()->*field)
             ? Cell(*(r.container->name.get()->*field))
             : Cell();
}
Cell cgroup_word(const GroupRow& r, std::string CgroupName::*field) {
  return r.container && r.container->name && !(r.container->name.get()->*field).empty()
             ? Cell(r.container->name.get()->*field)
             : Cell();
}

// A container row's IP counters (kernel, per cgroup: wire layer only).
template <uint64_t IpTraffic::*field>
Cell ip_cell(const GroupRow& r) {
  return r.container ? Cell(r.container->ip.*field) : Cell();
}

template <uint64_t IpTraffic::*field>
Column ip_column(std::string name) {
  return {.name = std::move(name),
          .title = "",
          .unit = Unit::count,
          .sinks = kJson | kCsv,
          .get = ip_cell<field>};
}

Grouping container_grouping() {
  return {
      .kind = GroupKind::container,
      .name = "container",
      .plural = "containers",
      .title = "containers",
      .source = Source::cgroups,
      .key = [](const TrafficItem& i) { return GroupKey{.cgroup = i.container->cgroup_id}; },
      .columns = with_traffic(
          {{.name = "name",
            .title = "CONTAINER",
            .unit = Unit::text,
            .sinks = kAll,
            .get =
                [](const GroupRow& r) {
                  Cell name = cgroup_word(r, &CgroupName::name);
                  if (!std::holds_alternative<std::monostate>(name)) return name;
                  Cell path = cgroup_text(r, &CgroupName::path);
                  if (!std::holds_alternative<std::monostate>(path)) return path;
                  return Cell("cgroup " + std::to_string(r.key.cgroup));
                }},
           {.name = "runtime",
            .title = "RUNTIME",
            .unit = Unit::text,
            .sinks = kAll,
            .get = [](const GroupRow& r) { return cgroup_word(r, &CgroupName::runtime); }},
           {.name = "id",
            .title = "",
            .unit = Unit::text,
            .sinks = kJson | kCsv,
            .get = [](const GroupRow& r) { return cgroup_word(r, &CgroupName::id); }},
           {.name = "pod",
            .title = "",
            .unit = Unit::text,
            .sinks = kJson | kCsv,
            .get = [](const GroupRow& r) { return cgroup_text(r, &CgroupName::pod); }},
           {.name = "namespace",
            .title = "",
            .unit = Unit::text,
            .sinks = kJson | kCsv,
            .get = [](const GroupRow& r) { return cgroup_text(r, &CgroupName::namespace_); }},
           {.name = "cgroup",
            .title = "",
            .unit = Unit::text,
            .sinks = kJson | kCsv,
            .get = [](const GroupRow& r) { return cgroup_text(r, &CgroupName::path); }},
           {.name = "cgroup_id",
            .title = "",
            .unit = Unit::count,
            .sinks = kJson | kCsv,
            .get = [](const GroupRow& r) -> Cell { return r.key.cgroup; }}},
          with_wire({{.name = "processes",
                      .title = "PROCESSES",
                      .unit = Unit::count,
                      .sinks = kAll,
                      .get = [](const GroupRow& r) -> Cell {
                        return r.container ? Cell(r.container->processes) : Cell();
                      }},
                     ip_column<&IpTraffic::tx_bytes>("tx_ip_bytes"),
                     ip_column<&IpTraffic::rx_bytes>("rx_ip_bytes"),
                     ip_column<&IpTraffic::tx_packets>("tx_ip_packets"),
                     ip_column<&IpTraffic::rx_packets>("rx_ip_packets")})),
  };
}

}  // namespace

size_t item_count(const Grouping& g, const Attributed& a) {
  switch (g.source) {
    case Source::conns:
      return a.conns.size();
    case Source::procs:
      return a.procs.size();
    case Source::ifaces:
      return a.ifaces.size();
    case Source::flows:
      return a.flows.size();
    case Source::cgroups:
      return a.containers.size();
  }
  return 0;
}

const std::vector<Grouping>& groupings() {
  static const std::vector<Grouping> table = {process_grouping(), connection_grouping(),
                                              remote_grouping(),  interface_grouping(),
                                              flow_grouping(),    container_grouping()};
  return table;
}

const Grouping& grouping(GroupKind kind) {
  for (const auto& g : groupings())
    if (g.kind == kind) return g;
  throw std::logic_error("grouping missing from the table");
}

const Grouping* find_grouping(const std::string& name) {
  for (const auto& g : groupings())
    if (g.name == name || g.plural == name) return &g;
  return nullptr;
}

GroupRow new_row(const Grouping& g, const TrafficItem& item, const Attributed& a) {
  GroupRow row{.key = g.key(item)};
  if (g.has_process || (item.flow && item.flow->owner)) {
    row.who = item.who ? *item.who : a.identity(item.proc);
    row.who.proc = item.proc;
  }
  if (item.conn) {
    row.conn = item.conn->info;
    row.name = item.conn->name;
  }
  row.iface = item.iface;
  row.flow = item.flow;
  row.container = item.container;
  return row;
}

GroupKey scoped(GroupKey key, const ProcId& proc) {
  key.proc = proc;
  return key;
}

}  // namespace netacct
