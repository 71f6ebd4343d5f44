#include "model/report.hpp"

#include <algorithm>
#include <array>

#include "model/flat_index.hpp"

namespace netacct {
namespace {

double rate(uint64_t bytes, double seconds) { return seconds > 0 ? double(bytes) / seconds : 0; }

struct RowProc {
  uint32_t row;
  ProcId proc;
  bool operator==(const RowProc&) const = default;
};
size_t hash(const RowProc& m) {
  return std::hash<ProcId>()(m.proc) ^ (size_t(m.row) * 0x9e3779b97f4a7c15ull);
}

// One row's sums while the window is read. The row itself (identity and
// all) is made once, in report order, from its first item.
struct Sum {
  GroupKey key;
  TrafficItem first;
  uint64_t tx = 0, rx = 0, processes = 0, connections = 0;
  WireBytes wire;
  RemoteNameRef name;  // the best of its connections' remote names
};

// Most bytes first, ties by key. A window at 100,000 connections has as
// many rows, so a comparison sort (a key compare on every tie) was a large
// part of assembling it: the rows are ordered by their totals with a radix
// sort (stable, 11 bits a pass, only over the bits that differ), and only
// each run of equal totals is sorted by key.
std::vector<uint32_t> report_order(const std::vector<Sum>& sums) {
  using Ranked = std::pair<uint64_t, uint32_t>;  // descending total as an ascending number, index
  std::vector<Ranked> order, next(sums.size());
  order.reserve(sums.size());
  uint64_t differ = 0;
  for (uint32_t i = 0; i < sums.size(); ++i) {
    order.push_back({~(sums[i].tx + sums[i].rx), i});
    differ |= order[i].first ^ order[0].first;
  }
  constexpr unsigned kBits = 11;
  for (unsigned shift = 0; shift < 64 && differ >> shift; shift += kBits) {
    std::array<uint32_t, (1 << kBits) + 1> start{};
    auto digit = [&](const Ranked& r) { return r.first >> shift & ((1 << kBits) - 1); };
    for (const Ranked& r : order) ++start[digit(r) + 1];
    for (size_t d = 1; d < start.size(); ++d) start[d] += start[d - 1];
    for (const Ranked& r : order) next[start[digit(r)]++] = r;
    order.swap(next);
  }
  auto by_key = [&](const Ranked& x, const Ranked& y) {
    return sums[x.second].key < sums[y.second].key;
  };
  for (size_t from = 0, to = 0; from < order.size(); from = to) {
    while (to < order.size() && order[to].first == order[from].first) ++to;
    if (to - from > 1) std::sort(order.begin() + from, order.begin() + to, by_key);
  }
  std::vector<uint32_t> out;
  out.reserve(order.size());
  for (const Ranked& r : order) out.push_back(r.second);
  return out;
}

// Rows are made in report order, a random walk over the window's items:
// what a later row reads is fetched early, so that its cache misses
// overlap those of the rows before it instead of following them.
void prefetch(const std::vector<Sum>& sums, const std::vector<uint32_t>& order, size_t k) {
  if (k + 16 < order.size()) __builtin_prefetch(&sums[order[k + 16]]);
  if (k + 8 >= order.size()) return;
  const TrafficItem& ahead = sums[order[k + 8]].first;
  if (ahead.conn) __builtin_prefetch(&ahead.conn->info);
  if (ahead.who) __builtin_prefetch(ahead.who);
}

// The report's accumulator: one window's sums per key.
std::vector<GroupRow> sum_rows(const Grouping& g, const Attributed& a) {
  size_t items = item_count(g, a);
  FlatIndex at(items);
  std::vector<Sum> sums;
  sums.reserve(items);
  // Rows of a grouping with a process have one each; the others count the
  // distinct processes behind them.
  FlatIndex members(g.has_process ? 0 : items);
  std::vector<RowProc> member;
  for_each_item(g, a, [&](const TrafficItem& item) {
    GroupKey key = g.key(item);
    auto [row, fresh] = at.find_or_add(std::hash<GroupKey>()(key), uint32_t(sums.size()),
                                       [&](uint32_t i) { return sums[i].key == key; });
    if (fresh) sums.push_back({.key = key, .first = item});
    Sum& sum = sums[row];
    sum.tx += item.tx;
    sum.rx += item.rx;
    sum.wire.tx_wire += item.wire.tx_wire;
    sum.wire.rx_wire += item.wire.rx_wire;
    sum.wire.retrans += item.wire.retrans;
    sum.connections += item.conn != nullptr;
    if (item.conn && better_name(item.conn->name, sum.name)) sum.name = item.conn->name;
    if (g.has_process) {
      sum.processes = 1;
      return;
    }
    RowProc m{row, item.proc};
    bool added = members
                     .find_or_add(hash(m), uint32_t(member.size()),
                                  [&](uint32_t i) { return member[i] == m; })
                     .second;
    if (added) member.push_back(m);
    sum.processes += added;
  });
  std::vector<GroupRow> rows;
  rows.reserve(sums.size());
  std::vector<uint32_t> order = report_order(sums);
  for (size_t k = 0; k < order.size(); ++k) {
    prefetch(sums, order, k);
    const Sum& sum = sums[order[k]];
    GroupRow& row = rows.emplace_back(new_row(g, sum.first, a));
    row.tx = sum.tx;
    row.rx = sum.rx;
    row.wire = sum.wire;
    row.processes = sum.processes;
    row.connections = sum.connections;
    row.name = sum.name;
    row.tx_rate = rate(row.tx, a.seconds());
    row.rx_rate = rate(row.rx, a.seconds());
  }
  return rows;
}

}  // namespace

const std::vector<GroupRow>& Report::rows(GroupKind kind) const {
  static const std::vector<GroupRow> none;
  for (const auto& t : tables)
    if (t.kind == kind) return t.rows;
  return none;
}

std::vector<GroupKind> every_grouping() {
  std::vector<GroupKind> kinds;
  for (const auto& g : groupings()) kinds.push_back(g.kind);
  return kinds;
}

Report assemble(const Attributed& a, const std::string& host, const std::string& backend,
                const std::vector<GroupKind>& kinds) {
  Report rep{.start_wall = a.start_wall,
             .end_wall = a.end_wall,
             .interval_s = a.seconds(),
             .host = host,
             .backend = backend,
             .tx_bytes = a.tx_bytes,
             .rx_bytes = a.rx_bytes,
             .tx_rate = rate(a.tx_bytes, a.seconds()),
             .rx_rate = rate(a.rx_bytes, a.seconds()),
             .loss = a.loss,
             .receipt = a.receipt,
             .dns = a.dns};
  for (const auto& g : groupings())
    if (std::find(kinds.begin(), kinds.end(), g.kind) != kinds.end())
      rep.tables.push_back({.kind = g.kind, .rows = sum_rows(g, a)});
  return rep;
}

}  // namespace netacct
