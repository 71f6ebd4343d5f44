#include "model/report.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace netacct {
namespace {

double rate(uint64_t bytes, double seconds) { return seconds > 0 ? double(bytes) / seconds : 0; }

// Rows in the report's order: most bytes first, ties by key.
void sort_rows(std::vector<GroupRow>& rows) {
  std::vector<std::pair<uint64_t, uint32_t>> order;  // total bytes, index
  order.reserve(rows.size());
  for (uint32_t i = 0; i < rows.size(); ++i) order.push_back({rows[i].tx + rows[i].rx, i});
  std::sort(order.begin(), order.end(), [&](const auto& x, const auto& y) {
    if (x.first != y.first) return x.first > y.first;
    return rows[x.second].key < rows[y.second].key;
  });
  std::vector<GroupRow> sorted;
  sorted.reserve(rows.size());
  for (const auto& [total, i] : order) sorted.push_back(std::move(rows[i]));
  rows = std::move(sorted);
}

struct RowProc {
  uint32_t row;
  ProcId proc;
  bool operator==(const RowProc&) const = default;
};
struct RowProcHash {
  size_t operator()(const RowProc& m) const noexcept {
    return std::hash<ProcId>()(m.proc) ^ (size_t(m.row) * 0x9e3779b97f4a7c15ull);
  }
};

// The report's accumulator: one window's sums per key.
std::vector<GroupRow> sum_rows(const Grouping& g, const Attributed& a) {
  std::unordered_map<GroupKey, uint32_t> at;
  std::vector<GroupRow> rows;
  // Rows of a grouping with a process have one each; the others count the
  // distinct processes behind them.
  std::unordered_set<RowProc, RowProcHash> members;
  for_each_item(g, a, [&](const TrafficItem& item) {
    auto [it, fresh] = at.try_emplace(g.key(item), uint32_t(rows.size()));
    if (fresh) rows.push_back(new_row(g, item, a));
    GroupRow& row = rows[it->second];
    row.tx += item.tx;
    row.rx += item.rx;
    row.connections += item.conn != nullptr;
    if (g.has_process)
      row.processes = 1;
    else
      row.processes += members.insert({it->second, item.proc}).second;
  });
  for (auto& row : rows) {
    row.tx_rate = rate(row.tx, a.seconds());
    row.rx_rate = rate(row.rx, a.seconds());
  }
  sort_rows(rows);
  return rows;
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
