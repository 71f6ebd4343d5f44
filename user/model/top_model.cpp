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

const RowHistory TopModel::kNone;

TopModel::TopModel(double start, double delay)
    : clock_(start, delay), tables_(2 * groupings().size()) {}

size_t TopModel::table_of(GroupKind kind, bool per_proc) const {
  return size_t(kind) + (per_proc ? groupings().size() : 0);
}

void TopModel::update(const Attributed& a, double now) {
  clock_.tick(now);
  expiry_.push_back({.seq = clock_.seq(), .end = clock_.now()});
  bool fresh = false;
  for (const auto& [id, who] : a.who) who_.get(id, fresh)->value = who;
  for (const auto& id : a.exited) mark_exited(id);
  for (const auto& i : a.ifaces) ifaces_[i.ifindex] = i;  // names, for interface rows
  for (const auto& c : a.containers) containers_[c.cgroup_id] = c;
  for (const auto& g : groupings())
    if (g.top_view) add(g, a);
  total_.add(clock_, a.tx_bytes, a.rx_bytes);
  uint64_t wire_tx = 0, wire_rx = 0;
  for (const auto& i : a.ifaces) wire_tx += i.tx_bytes, wire_rx += i.rx_bytes;
  total_wire_.add(clock_, wire_tx, wire_rx);
  expire();
  // Rows kept until exit: a process found gone whose row is already idle
  // goes now, and so does what is known of it.
  for (const auto& id : a.exited) drop_if_exited(id);
  for (const auto& [id, who] : a.who)
    if (who->exited) drop_if_exited(id);
}

void TopModel::mark_exited(const ProcId& id) {
  auto* it = who_.find(id);
  if (!it || it->value->exited) return;
  Identity who = *it->value;
  who.exited = true;
  it->value = std::make_shared<const Identity>(std::move(who));
}

void TopModel::drop_if_exited(const ProcId& id) {
  auto* who = who_.find(id);
  if (!who || !who->value->exited) return;
  Table& procs = tables_[table_of(GroupKind::process, false)];
  Node* row = procs.rows.find(GroupKey{.proc = id});
  if (row && row->value.recent != kIdle) return;  // on view: goes when idle
  if (row) procs.rows.erase(row);
  who_.erase(who);
}

TopModel::Node* TopModel::touch(size_t table, const GroupKey& key, const Grouping& g,
                                const TrafficItem& item, const Attributed& a, const Node* like) {
  Table& t = tables_[table];
  uint32_t slot = item.conn ? item.conn->slot : kNoSlot;
  if (slot < t.at_slot.size() && FlatMap<GroupKey, Live>::holds(t.at_slot[slot], key))
    return t.at_slot[slot];
  bool fresh = false;
  Node* n = t.rows.get(key, fresh);
  if (slot != kNoSlot) {
    if (slot >= t.at_slot.size()) t.at_slot.resize(size_t(slot) + 1, nullptr);
    t.at_slot[slot] = n;
  }
  Live& l = n->value;
  if (!fresh) return n;
  l.table = uint8_t(table);
  if (like) {  // a row scoped to one process starts as its grouping's row
    l.conn = like->value.conn;
    l.who = like->value.who;
    return n;
  }
  if (g.has_process)
    if (auto who = a.who.find(item.proc); who != a.who.end()) l.who = who->second;
  if (item.conn) l.conn = item.conn->info;
  return n;
}

// A row is on view while either layer moved within the history.
void TopModel::moved(Node* n, const TrafficItem& item) {
  Live& l = n->value;
  if (item.conn && better_name(item.conn->name, l.name)) l.name = item.conn->name;
  l.history.add(clock_, item.tx, item.rx);
  const WireBytes& w = item.wire;
  if (!l.wire && (w.tx_wire || w.rx_wire)) l.wire = std::make_unique<RowHistory>();
  if (l.wire) l.wire->add(clock_, w.tx_wire, w.rx_wire);
  if (!item.tx && !item.rx && !w.tx_wire && !w.rx_wire) return;
  l.active_seq = clock_.seq();
  if (l.recent != kIdle) return;
  Table& t = tables_[l.table];
  l.recent = uint32_t(t.recent.size());
  t.recent.push_back(n);
  expiry_.back().rows.push_back(n);
}

// Top's accumulator: each item's bytes go into its row's history (and, for
// rows that span processes, into the per-process row a drill-down shows).
void TopModel::add(const Grouping& g, const Attributed& a) {
  size_t table = table_of(g.kind, false), scoped_table = table_of(g.kind, true);
  for_each_item(g, a, [&](const TrafficItem& item) {
    GroupKey key = g.key(item);
    Node* n = touch(table, key, g, item, a, nullptr);
    moved(n, item);
    if (!g.per_process_rows()) return;
    Node* p = touch(scoped_table, scoped(key, item.proc), g, item, a, n);
    moved(p, item);
  });
}

// The rows whose bucket leaves the history: idle now, or active since (then
// in the bucket of their last bytes, which is still in the history).
void TopModel::expire() {
  while (!expiry_.empty() && !(clock_.now() - expiry_.front().end < kHistorySeconds - 1e-6)) {
    Bucket b = std::move(expiry_.front());
    expiry_.pop_front();
    for (Node* n : b.rows) {
      if (n->value.active_seq == b.seq)
        idle(n);
      else
        expiry_[n->value.active_seq - expiry_.front().seq].rows.push_back(n);
    }
  }
}

// No bytes for 40 s: the row leaves the view and its samples go. Rows kept
// until exit stay while their process runs, so their totals since start
// survive idle spells; the others go.
void TopModel::idle(Node* n) {
  Live& l = n->value;
  Table& t = tables_[l.table];
  t.recent[l.recent] = t.recent.back();
  t.recent[l.recent]->value.recent = l.recent;
  t.recent.pop_back();
  l.recent = kIdle;
  l.history.release();
  if (l.wire) l.wire->release();
  bool per_proc = l.table >= groupings().size();
  const Grouping& g = groupings()[l.table % groupings().size()];
  if (g.until_exit && !per_proc) {
    auto* who = who_.find(n->key.proc);
    if (who && !who->value->exited) return;
    if (who) who_.erase(who);
  }
  t.rows.erase(n);
}

// Interface rows hold wire bytes in `history`: the same in both layers.
const RowHistory& TopModel::history(const Node& n, Layer layer) const {
  const Live& l = n.value;
  if (layer == Layer::payload || groupings()[l.table % groupings().size()].source == Source::ifaces)
    return l.history;
  return l.wire ? *l.wire : kNone;
}

TopRow TopModel::make_row(const Grouping& g, const Node& n, const TopQuery& q) const {
  const Live& l = n.value;
  const RowHistory& h = history(n, q.layer);
  TopRow r{.rates = h.rates(clock_),
           .totals = h.totals(),
           .spark = h.sparkline(clock_, q.spark_buckets)};
  r.row.key = n.key;
  r.row.conn = l.conn;
  r.row.name = l.name;
  if (g.source == Source::ifaces)
    if (auto it = ifaces_.find(n.key.ifindex); it != ifaces_.end()) r.row.iface = &it->second;
  if (g.source == Source::cgroups)
    if (auto it = containers_.find(n.key.cgroup); it != containers_.end())
      r.row.container = &it->second;
  if (g.has_process) {
    // The process's latest identity: exited, or renamed since the row began.
    if (const auto* who = who_.find(n.key.proc))
      r.row.who = *who->value;
    else if (l.who)
      r.row.who = *l.who;
    r.row.who.proc = n.key.proc;
  }
  return r;
}

std::vector<TopModel::Ranked> TopModel::ranked(const TopQuery& q, SortBy by, size_t window) const {
  const Grouping& g = grouping(q.view);
  const Table& t = tables_[table_of(q.view, q.drill && !g.has_process)];
  std::vector<Ranked> out;
  out.reserve(q.drill ? 0 : t.recent.size());
  for (const Node* n : t.recent) {
    if (q.drill && n->key.proc != *q.drill) continue;
    if (q.cgroup && q.view == GroupKind::process && cgroup_of(*n) != *q.cgroup) continue;
    const RowHistory& h = history(*n, q.layer);
    auto [tx, rx] = h.rate(clock_, window);
    double value = by == SortBy::sent ? tx : by == SortBy::received ? rx : tx + rx;
    out.push_back({.row = n, .value = value, .total = h.totals().total_tx + h.totals().total_rx});
  }
  return out;
}

bool TopModel::before(const Ranked& a, const Ranked& b) {
  if (a.value != b.value) return a.value > b.value;
  if (a.total != b.total) return a.total > b.total;
  return key(a) < key(b);
}

TopRow TopModel::row(const TopQuery& q, const Ranked& r) const {
  return make_row(grouping(q.view), *r.row, q);
}

std::vector<TopRow> TopModel::rows(const TopQuery& q) const {
  std::vector<TopRow> out;
  for (const Ranked& r : ranked(q, SortBy::total, 0)) out.push_back(row(q, r));
  return out;
}

// A process row's cgroup: its process's latest identity's (it may have
// moved), else the one it began with.
uint64_t TopModel::cgroup_of(const Node& n) const {
  if (const auto* who = who_.find(n.key.proc)) return who->value->cgroup_id;
  return n.value.who ? n.value.who->cgroup_id : 0;
}

const ContainerTraffic* TopModel::container(uint64_t cgroup_id) const {
  auto it = containers_.find(cgroup_id);
  return it == containers_.end() ? nullptr : &it->second;
}

TopTotals TopModel::totals(Layer layer) const {
  const RowHistory& h = layer == Layer::wire ? total_wire_ : total_;
  TopTotals t{.rates = h.rates(clock_), .totals = h.totals()};
  t.processes = tables_[table_of(GroupKind::process, false)].recent.size();
  t.connections = tables_[table_of(GroupKind::connection, false)].rows.size();
  return t;
}

}  // namespace netacct
