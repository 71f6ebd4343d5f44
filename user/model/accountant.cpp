#include "model/accountant.hpp"

#include <algorithm>

namespace netacct {
namespace {

// A counter lower than last time means the kernel entry was evicted and
// re-created: then every counter in it is new, not only the ones that dropped.
ByteCounters since(const ByteCounters& now, const ByteCounters& before) {
  bool recreated = now.tx < before.tx || now.rx < before.rx || now.lo_tx < before.lo_tx ||
                   now.lo_rx < before.lo_rx;
  return recreated ? now : now - before;
}

// An entry's state, found where its slot says (no hashing) when the slot
// still holds it, else by id; the slot then remembers it.
template <typename Table, typename Id>
typename Table::Ref find_at(Table& t, std::vector<uint32_t>& at, const Id& id, uint32_t slot,
                            bool& fresh) {
  if (slot < at.size() && t.holds(at[slot], id)) {
    fresh = false;
    return at[slot];
  }
  auto r = t.get(id, fresh);
  if (slot == kNoSlot) return r;
  if (slot >= at.size()) at.resize(size_t(slot) + 1, Table::kNone);
  at[slot] = r;
  return r;
}

}  // namespace

void Accountant::link(Conns::Ref n) {
  auto& list = by_proc_[conns_.id(n).proc];
  conns_.state(n).in_proc = uint32_t(list.size());
  list.push_back(n);
}

void Accountant::unlink(Conns::Ref n) {
  auto it = by_proc_.find(conns_.id(n).proc);
  if (it == by_proc_.end()) return;
  auto& list = it->second;
  uint32_t at = conns_.state(n).in_proc;
  list[at] = list.back();
  conns_.state(list[at]).in_proc = at;
  list.pop_back();
  if (list.empty()) by_proc_.erase(it);
}

void Accountant::add_proc(const ProcEntry& p, Procs::Ref n, bool fresh, Window* w) {
  ProcPrev& prev = procs_.state(n);
  ByteCounters d = fresh ? p.bytes : since(p.bytes, prev.bytes);
  prev.bytes = p.bytes;
  if (fresh) new_procs_.push_back(p.id);
  if (w && d != ByteCounters{}) w->procs.push_back({.id = p.id, .info = p.info, .bytes = d});
}

// Turns the entry's counters into its bytes since the last read; false
// when it moved none.
bool Accountant::add_conn(ConnEntry& c, Conns::Ref n, bool fresh) {
  if (fresh) link(n);
  ConnPrev& prev = conns_.state(n);
  bool whole = fresh || c.tx < prev.tx || c.rx < prev.rx;  // new, or re-created
  uint64_t tx = whole ? c.tx : c.tx - prev.tx, rx = whole ? c.rx : c.rx - prev.rx;
  prev.tx = c.tx;
  prev.rx = c.rx;
  c.tx = tx;
  c.rx = rx;
  return tx || rx;
}

// Every entry of the snapshot is visited once; a full snapshot also drops
// the entries it no longer holds, a snapshot of changes those it lists as
// gone (first, so that an entry gone and back counts whole). The
// connections that moved are moved to the front of snap.conns, as deltas.
void Accountant::apply(Snapshot& snap, Window* w) {
  new_procs_.clear();
  bool fresh = false;
  size_t moved = 0;
  if (snap.changes) {
    for (const auto& id : snap.procs_gone)
      if (auto n = procs_.find(id); n != Procs::kNone) procs_.erase(n);
    for (const auto& id : snap.conns_gone)
      if (auto n = conns_.find(id); n != Conns::kNone) {
        unlink(n);
        conns_.erase(n);
      }
    for (const auto& p : snap.procs) {
      auto n = find_at(procs_, proc_at_slot_, p.id, p.slot, fresh);
      add_proc(p, n, fresh, w);
    }
    for (auto& c : snap.conns) {
      auto n = find_at(conns_, conn_at_slot_, c.id, c.slot, fresh);
      if (add_conn(c, n, fresh)) snap.conns[moved++] = c;
    }
  } else {
    procs_.start_pass();
    for (const auto& p : snap.procs) {
      auto n = procs_.visit(p.id, fresh);
      add_proc(p, n, fresh, w);
    }
    procs_.finish([](Procs::Ref) {});
    conns_.start_pass();
    for (auto& c : snap.conns) {
      auto n = conns_.visit(c.id, fresh);
      if (add_conn(c, n, fresh)) snap.conns[moved++] = c;
    }
    conns_.finish([this](Conns::Ref n) { unlink(n); });
  }
  snap.conns.resize(moved);
  if (w) w->conns = std::move(snap.conns);
  last_mono_ = snap.mono_ns;
  last_wall_ = snap.wall_ns;
  last_stats_ = snap.stats;
}

void Accountant::prime(Snapshot snap) {
  procs_.reserve(snap.procs.size());
  conns_.reserve(snap.conns.size());
  apply(snap, nullptr);
  base_stats_ = snap.stats;
  base_conns_ = conns_.size();
  ifaces_ = std::move(snap.ifaces);
  advance_wire(snap, nullptr);
  advance_cgroups(snap.cgroups, nullptr);
  conns_deleted_ = 0;
}

Window Accountant::advance(Snapshot snap) {
  Window w{.start_mono = last_mono_,
           .end_mono = snap.mono_ns,
           .start_wall = last_wall_,
           .end_wall = snap.wall_ns};
  uint64_t failed_before = last_stats_.insert_failed;
  // About as many entries move as last time: room for them at once, not
  // a copy of the window at every doubling.
  w.procs.reserve(std::min(snap.procs.size(), moved_procs_ + moved_procs_ / 4 + 16));
  apply(snap, &w);
  moved_procs_ = w.procs.size();
  // Entries alive now = those at start + created - deleted by us - evicted.
  uint64_t created = snap.stats.conn_created - base_stats_.conn_created;
  uint64_t expected = base_conns_ + created - conns_deleted_;
  w.conns_evicted = expected > conns_.size() ? expected - conns_.size() : 0;
  w.insert_failed = snap.stats.insert_failed - failed_before;
  advance_ifaces(std::move(snap.ifaces), snap.ifaces_netns, &w);
  advance_wire(snap, &w);
  advance_cgroups(snap.cgroups, &w);
  return w;
}

// An interface's counters start at zero when netacct attaches to it, so one
// not seen at the last read (attached since, or another attachment of the
// same ifindex) moved all of its counters in this window.
void Accountant::advance_ifaces(std::vector<IfaceEntry> now, uint32_t netns, Window* w) {
  for (const IfaceEntry& e : now) {
    auto prev = std::find_if(ifaces_.begin(), ifaces_.end(), [&](const IfaceEntry& p) {
      return p.ifindex == e.ifindex && p.attach == e.attach;
    });
    IfaceEntry base = prev != ifaces_.end() ? *prev : IfaceEntry{};
    IfaceTraffic t{.ifindex = e.ifindex,
                   .netns = netns,
                   .name = e.name,
                   .l2_len = e.l2_len,
                   .tx_bytes = e.tx_bytes - base.tx_bytes,
                   .rx_bytes = e.rx_bytes - base.rx_bytes,
                   .tx_packets = e.tx_packets - base.tx_packets,
                   .rx_packets = e.rx_packets - base.rx_packets};
    if (t.tx_packets || t.rx_packets) w->ifaces.push_back(std::move(t));
  }
  ifaces_ = std::move(now);
}

// The kernel only adds to a cgroup's entry (none is evicted): one first
// seen since the last read moved all of its counters.
void Accountant::advance_cgroups(const std::vector<CgroupEntry>& now, Window* w) {
  for (const CgroupEntry& e : now) {
    CgroupEntry& prev = cgroups_[e.id];
    if (w && !(e.bytes == prev.bytes && e.ip_packets == prev.ip_packets))
      w->cgroups.push_back({.id = e.id,
                            .bytes = e.bytes - prev.bytes,
                            .ip_bytes = e.ip_bytes - prev.ip_bytes,
                            .ip_packets = e.ip_packets - prev.ip_packets,
                            .name = e.name,
                            .parent = e.parent});
    prev.bytes = e.bytes;
    prev.ip_bytes = e.ip_bytes;
    prev.ip_packets = e.ip_packets;
  }
}

namespace {

// Deltas of a map the kernel keeps as LRU (flows, retransmits): an entry
// missing from this read was evicted, one whose counters went down was
// evicted and made again (all of it is new).
template <typename Entry, typename Moved, typename Minus>
void lru_deltas(std::unordered_map<FlowKey, Entry>& prev, std::vector<Entry>& now,
                std::vector<Entry>* out, Moved moved, Minus minus) {
  std::unordered_map<FlowKey, Entry> next;
  next.reserve(now.size());
  for (Entry& e : now) {
    auto it = prev.find(e.key);
    Entry d = it == prev.end() ? e : minus(e, it->second);
    if (out && moved(d)) out->push_back(d);
    next.emplace(e.key, e);
  }
  prev = std::move(next);
}

}  // namespace

void Accountant::advance_wire(Snapshot& snap, Window* w) {
  lru_deltas(
      flows_, snap.flows, w ? &w->flows : nullptr,
      [](const FlowEntry& d) { return d.tx_packets || d.rx_packets || d.tx_bytes || d.rx_bytes; },
      [](const FlowEntry& now, const FlowEntry& was) {
        if (now.tx_bytes < was.tx_bytes || now.rx_bytes < was.rx_bytes) return now;
        return FlowEntry{.key = now.key,
                         .tx_bytes = now.tx_bytes - was.tx_bytes,
                         .rx_bytes = now.rx_bytes - was.rx_bytes,
                         .tx_packets = now.tx_packets - was.tx_packets,
                         .rx_packets = now.rx_packets - was.rx_packets};
      });
  lru_deltas(
      retrans_, snap.retrans, w ? &w->retrans : nullptr,
      [](const RetransEntry& d) { return d.segments != 0; },
      [](const RetransEntry& now, const RetransEntry& was) {
        if (now.bytes < was.bytes) return now;
        return RetransEntry{.key = now.key,
                            .bytes = now.bytes - was.bytes,
                            .segments = now.segments - was.segments};
      });
  if (!w) return;
  w->local_addrs = std::move(snap.local_addrs);
  w->wire_netns = snap.ifaces_netns;
}

void Accountant::forget(const std::vector<ProcId>& gone, uint64_t conns_deleted) {
  for (const auto& id : gone) {
    if (auto n = procs_.find(id); n != Procs::kNone) procs_.erase(n);
    auto it = by_proc_.find(id);
    if (it == by_proc_.end()) continue;
    for (auto c : it->second) conns_.erase(c);
    by_proc_.erase(it);
  }
  conns_deleted_ += conns_deleted;
}

Snapshot Accountant::entries_of(const std::vector<ProcId>& procs) const {
  Snapshot s;
  for (const auto& id : procs) {
    s.procs.push_back({.id = id});
    auto it = by_proc_.find(id);
    if (it == by_proc_.end()) continue;
    for (auto c : it->second) s.conns.push_back({.id = conns_.id(c)});
  }
  return s;
}

}  // namespace netacct
