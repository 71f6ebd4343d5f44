#include "model/top_model.hpp"

#include <algorithm>

namespace netacct {
namespace {

double sort_value(const TopRow& r, SortBy by, size_t w) {
  switch (by) {
    case SortBy::sent:
      return r.rates.tx[w];
    case SortBy::received:
      return r.rates.rx[w];
    default:
      return r.rates.tx[w] + r.rates.rx[w];
  }
}

size_t index(GroupKind k) { return size_t(k); }

}  // namespace

void sort_rows(std::vector<TopRow>& rows, SortBy by, size_t window) {
  std::stable_sort(rows.begin(), rows.end(), [&](const TopRow& a, const TopRow& b) {
    double va = sort_value(a, by, window), vb = sort_value(b, by, window);
    if (va != vb) return va > vb;
    uint64_t ta = a.totals.total_tx + a.totals.total_rx;
    uint64_t tb = b.totals.total_tx + b.totals.total_rx;
    if (ta != tb) return ta > tb;
    return a.row.key < b.row.key;
  });
}

TopModel::TopModel(double start, double delay)
    : clock_(start, delay), rows_(groupings().size()), per_proc_(groupings().size()) {}

void TopModel::update(const Attributed& a, double now) {
  clock_.tick(now);
  for (const auto& [id, who] : a.who) who_[id] = *who;
  for (const auto& id : a.exited)
    if (auto it = who_.find(id); it != who_.end()) it->second.exited = true;
  for (const auto& g : groupings()) add(g, a);
  total_.add(clock_, a.tx_bytes, a.rx_bytes);
  forget_idle();
}

// Top's accumulator: each item's bytes go into its row's history (and, for
// rows that span processes, into the per-process row a drill-down shows).
void TopModel::add(const Grouping& g, const Attributed& a) {
  Rows& rows = rows_[index(g.kind)];
  for_each_item(g, a, [&](const TrafficItem& item) {
    GroupKey key = g.key(item);
    auto it = rows.find(key);
    if (it == rows.end()) it = rows.emplace(key, Live{.row = new_row(g, item, a)}).first;
    it->second.history.add(clock_, item.tx, item.rx);
    if (g.has_process) return;
    auto [pit, fresh] = per_proc_[index(g.kind)].try_emplace(scoped(key, item.proc));
    if (fresh) pit->second.row = it->second.row;
    pit->second.history.add(clock_, item.tx, item.rx);
  });
}

bool TopModel::recent(const RowHistory& h) const {
  double last = h.last_active();  // not rates(): this runs for every row
  return last >= 0 && clock_.now() - last < kHistorySeconds - 1e-6;
}

void TopModel::forget_idle() {
  for (const auto& g : groupings()) {
    // Rows kept until exit stay while their process runs, so their totals
    // since start survive idle spells; the others go once idle for 40 s.
    std::erase_if(rows_[index(g.kind)], [&](const auto& kv) {
      if (recent(kv.second.history)) return false;
      if (!g.until_exit) return true;
      auto who = who_.find(kv.first.proc);
      return who == who_.end() || who->second.exited;
    });
    std::erase_if(per_proc_[index(g.kind)],
                  [&](const auto& kv) { return !recent(kv.second.history); });
  }
  std::erase_if(who_, [&](const auto& kv) {
    return kv.second.exited && !rows_[index(GroupKind::process)].count(GroupKey{.proc = kv.first});
  });
}

TopRow TopModel::row(const Grouping& g, const Live& l, size_t buckets) const {
  TopRow r{.row = l.row,
           .rates = l.history.rates(clock_),
           .totals = l.history.totals(),
           .spark = l.history.sparkline(clock_, buckets)};
  // The process's latest identity: exited, or renamed since the row began.
  if (g.has_process)
    if (auto who = who_.find(l.row.key.proc); who != who_.end()) r.row.who = who->second;
  return r;
}

std::vector<TopRow> TopModel::rows(const TopQuery& q) const {
  const Grouping& g = grouping(q.view);
  bool scoped_rows = q.drill && !g.has_process;
  const Rows& rows = scoped_rows ? per_proc_[index(q.view)] : rows_[index(q.view)];
  std::vector<TopRow> out;
  for (const auto& [key, live] : rows) {
    if (!recent(live.history)) continue;
    if (q.drill && key.proc != *q.drill) continue;
    out.push_back(row(g, live, q.spark_buckets));
  }
  return out;
}

TopTotals TopModel::totals() const {
  TopTotals t{.rates = total_.rates(clock_), .totals = total_.totals()};
  for (const auto& [key, live] : rows_[index(GroupKind::process)])
    t.processes += recent(live.history);
  t.connections = rows_[index(GroupKind::connection)].size();
  return t;
}

}  // namespace netacct
