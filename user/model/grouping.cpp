#include "model/grouping.hpp"

#include <stdexcept>

namespace netacct {
namespace {

Cell opt(const std::optional<std::string>& s) { return s ? Cell(*s) : Cell(); }
Cell endpoint(const ConnInfo& c, const Endpoint& e) {
  return Address{.family = c.family, .addr = e.addr, .port = e.port};
}

// Columns every grouping ends with: its bytes and rates in the window.
std::vector<Column> traffic_columns() {
  return {
      {"tx_bytes", "SENT", Unit::bytes, kAll, [](const GroupRow& r) -> Cell { return r.tx; }},
      {"rx_bytes", "RECEIVED", Unit::bytes, kAll, [](const GroupRow& r) -> Cell { return r.rx; }},
      {"tx_rate", "SEND/s", Unit::rate, kAll, [](const GroupRow& r) -> Cell { return r.tx_rate; }},
      {"rx_rate", "RECV/s", Unit::rate, kAll, [](const GroupRow& r) -> Cell { return r.rx_rate; }},
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
          {{"pid", "PID", Unit::count, kAll, pid},
           {"", "USER", Unit::text, kText, user_or_uid},
           {"comm", "PROGRAM", Unit::text, kAll, comm},
           {"exe", "", Unit::text, kJson | kCsv, [](const GroupRow& r) { return opt(r.who.exe); }},
           {"uid", "", Unit::count, kJson | kCsv,
            [](const GroupRow& r) -> Cell { return uint64_t(r.who.uid); }},
           {"user", "", Unit::text, kJson | kCsv,
            [](const GroupRow& r) { return opt(r.who.user); }},
           {"cgroup", "", Unit::text, kJson | kCsv,
            [](const GroupRow& r) { return opt(r.who.cgroup); }},
           {"container", "", Unit::text, kJson | kCsv,
            [](const GroupRow& r) { return opt(r.who.container); }}},
          {{"exited", "", Unit::flag, kAll,
            [](const GroupRow& r) -> Cell { return r.who.exited; }}}),
  };
}

Grouping connection_grouping() {
  return {
      .kind = GroupKind::connection,
      .name = "connection",
      .plural = "connections",
      .title = "connections",
      .from_conns = true,
      .has_process = true,
      .key =
          [](const TrafficItem& i) {
            return GroupKey{.proc = i.proc, .cookie = i.conn->id.cookie};
          },
      .columns = with_traffic({
          {"pid", "PID", Unit::count, kAll, pid},
          {"comm", "PROGRAM", Unit::text, kAll, comm},
          {"proto", "PROTO", Unit::proto, kAll,
           [](const GroupRow& r) -> Cell { return uint64_t(r.conn.proto); }},
          {"family", "", Unit::family, kJson | kCsv,
           [](const GroupRow& r) -> Cell { return uint64_t(r.conn.family); }},
          {"local", "LOCAL", Unit::endpoint, kAll,
           [](const GroupRow& r) { return endpoint(r.conn, r.conn.local); }},
          {"remote", "REMOTE", Unit::endpoint, kAll,
           [](const GroupRow& r) { return endpoint(r.conn, r.conn.remote); }},
          {"netns", "", Unit::count, kJson,
           [](const GroupRow& r) -> Cell { return uint64_t(r.conn.netns); }},
      }),
  };
}

Grouping remote_grouping() {
  return {
      .kind = GroupKind::remote,
      .name = "remote",
      .plural = "remotes",
      .title = "remote hosts",
      .from_conns = true,
      .key =
          [](const TrafficItem& i) {
            return GroupKey{
                .remote = {.family = i.conn->info.family, .addr = i.conn->info.remote.addr}};
          },
      .columns =
          with_traffic({{"remote", "REMOTE", Unit::address, kAll,
                         [](const GroupRow& r) -> Cell {
                           return Address{.family = r.key.remote.family, .addr = r.key.remote.addr};
                         }},
                        {"family", "", Unit::family, kJson | kCsv,
                         [](const GroupRow& r) -> Cell { return uint64_t(r.key.remote.family); }}},
                       {{"processes", "PROCESSES", Unit::count, kAll,
                         [](const GroupRow& r) -> Cell { return r.processes; }},
                        {"connections", "CONNECTIONS", Unit::count, kAll,
                         [](const GroupRow& r) -> Cell { return r.connections; }}}),
  };
}

}  // namespace

const std::vector<Grouping>& groupings() {
  static const std::vector<Grouping> table = {process_grouping(), connection_grouping(),
                                              remote_grouping()};
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
    row.who = a.identity(item.proc);
    row.who.proc = item.proc;
  }
  if (item.conn) row.conn = item.conn->info;
  return row;
}

GroupKey scoped(GroupKey key, const ProcId& proc) {
  key.proc = proc;
  return key;
}

}  // namespace netacct
