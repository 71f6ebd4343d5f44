#include "model/report.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace netacct {
namespace {

double rate(uint64_t bytes, double seconds) { return seconds > 0 ? double(bytes) / seconds : 0; }

// The report's accumulator: one window's sums per key.
std::vector<GroupRow> sum_rows(const Grouping& g, const Attributed& a) {
  std::map<GroupKey, GroupRow> rows;
  std::set<std::pair<GroupKey, ProcId>> members;
  for_each_item(g, a, [&](const TrafficItem& item) {
    GroupKey key = g.key(item);
    auto it = rows.find(key);
    if (it == rows.end()) it = rows.emplace(key, new_row(g, item, a)).first;
    GroupRow& row = it->second;
    row.tx += item.tx;
    row.rx += item.rx;
    row.connections += item.conn != nullptr;
    row.processes += members.insert({key, item.proc}).second;
  });
  std::vector<GroupRow> out;
  out.reserve(rows.size());
  for (auto& [key, row] : rows) {
    row.tx_rate = rate(row.tx, a.seconds());
    row.rx_rate = rate(row.rx, a.seconds());
    out.push_back(std::move(row));
  }
  // The map is in key order already: a stable sort keeps it for ties.
  std::stable_sort(out.begin(), out.end(),
                   [](const GroupRow& x, const GroupRow& y) { return x.tx + x.rx > y.tx + y.rx; });
  return out;
}

}  // namespace

const std::vector<GroupRow>& Report::rows(GroupKind kind) const {
  static const std::vector<GroupRow> none;
  for (const auto& t : tables)
    if (t.kind == kind) return t.rows;
  return none;
}

Report assemble(const Attributed& a, const std::string& host, const std::string& backend) {
  Report rep{.start_wall = a.start_wall,
             .end_wall = a.end_wall,
             .interval_s = a.seconds(),
             .host = host,
             .backend = backend,
             .tx_bytes = a.tx_bytes,
             .rx_bytes = a.rx_bytes,
             .tx_rate = rate(a.tx_bytes, a.seconds()),
             .rx_rate = rate(a.rx_bytes, a.seconds()),
             .loss = a.loss};
  for (const auto& g : groupings()) rep.tables.push_back({.kind = g.kind, .rows = sum_rows(g, a)});
  return rep;
}

}  // namespace netacct
