#include "model/grouping.hpp"

#include <stdexcept>

namespace netacct {
namespace {

Cell opt(const SharedText& s) { return s ? Cell(*s) : Cell(); }
Cell endpoint(const ConnInfo& c, const Endpoint& e) {
  return Address{.family = c.family, .addr = e.addr, .port = e.port};
}

// Columns every grouping ends with: its bytes and rates in the window.
std::vector<Column> traffic_columns() {
  return {
      {.name = "tx_bytes",
       .title = "SENT",
       .unit = Unit::bytes,
       .sinks = kAll,
       .get = [](const GroupRow& r) -> Cell { return r.tx; }},
      {.name = "rx_bytes",
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

std::vector<Column> with_traffic(std::vector<Column> identity, std::vector<Column> tail = {}) {
  for (auto& c : traffic_columns()) identity.push_back(std::move(c));
  for (auto& c : tail) identity.push_back(std::move(c));
  return identity;
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
          {{.name = "exited",
            .title = "",
            .unit = Unit::flag,
            .sinks = kAll,
            .get = [](const GroupRow& r) -> Cell { return r.who.exited; }}}),
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
            return GroupKey{.proc = i.proc, .cookie = i.conn->id.cookie};
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
          // Last in CSV, so columns that existed before it keep their places.
          {{.name = "netns",
            .title = "",
            .unit = Unit::count,
            .sinks = kJson | kCsv,
            .get = [](const GroupRow& r) -> Cell { return uint64_t(r.conn.netns); }}}),
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
          {{.name = "processes",
            .title = "PROCESSES",
            .unit = Unit::count,
            .sinks = kAll,
            .get = [](const GroupRow& r) -> Cell { return r.processes; }},
           {.name = "connections",
            .title = "CONNECTIONS",
            .unit = Unit::count,
            .sinks = kAll,
            .get = [](const GroupRow& r) -> Cell { return r.connections; }}}),
  };
}

// Wire bytes as the devices counted them: JSON and CSV name them apart from
// payload (tx_wire_bytes); rates are wire bytes per second.
Cell packets(uint64_t IfaceTraffic::*field, const GroupRow& r) {
  return r.iface ? Cell(r.iface->*field) : Cell();
}

Grouping interface_grouping() {
  return {
      .kind = GroupKind::interface,
      .name = "interface",
      .plural = "interfaces",
      .title = "interfaces",
      .source = Source::ifaces,
      .key = [](const TrafficItem& i) { return GroupKey{.ifindex = i.iface->ifindex}; },
      .columns = {
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
           .get = [](const GroupRow& r) { return r.iface ? Cell(uint64_t(r.iface->netns)) : Cell(); }},
          {.name = "tx_wire_bytes",
           .title = "SENT",
           .unit = Unit::bytes,
           .sinks = kAll,
           .get = [](const GroupRow& r) -> Cell { return r.tx; }},
          {.name = "rx_wire_bytes",
           .title = "RECEIVED",
           .unit = Unit::bytes,
           .sinks = kAll,
           .get = [](const GroupRow& r) -> Cell { return r.rx; }},
          {.name = "tx_packets",
           .title = "PKTS OUT",
           .unit = Unit::count,
           .sinks = kJson | kCsv,
           .get = [](const GroupRow& r) { return packets(&IfaceTraffic::tx_packets, r); }},
          {.name = "rx_packets",
           .title = "PKTS IN",
           .unit = Unit::count,
           .sinks = kJson | kCsv,
           .get = [](const GroupRow& r) { return packets(&IfaceTraffic::rx_packets, r); }},
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
      }};
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
  }
  return 0;
}

const std::vector<Grouping>& groupings() {
  static const std::vector<Grouping> table = {process_grouping(), connection_grouping(),
                                              remote_grouping(), interface_grouping()};
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
  if (g.has_process) {
    row.who = item.who ? *item.who : a.identity(item.proc);
    row.who.proc = item.proc;
  }
  if (item.conn) row.conn = item.conn->info;
  row.iface = item.iface;
  return row;
}

GroupKey scoped(GroupKey key, const ProcId& proc) {
  key.proc = proc;
  return key;
}

}  // namespace netacct
