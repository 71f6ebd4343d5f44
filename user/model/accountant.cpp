#include "model/accountant.hpp"

#include <set>

namespace netacct {
namespace {

// A counter lower than last time means the kernel entry was evicted and
// re-created: then every counter in it is new, not only the ones that dropped.
ByteCounters since(const ByteCounters& now, const ByteCounters& before) {
  bool recreated = now.tx < before.tx || now.rx < before.rx || now.lo_tx < before.lo_tx ||
                   now.lo_rx < before.lo_rx;
  return recreated ? now : now - before;
}

std::pair<uint64_t, uint64_t> since(uint64_t tx, uint64_t rx,
                                    const std::pair<uint64_t, uint64_t>& before) {
  if (tx < before.first || rx < before.second) return {tx, rx};
  return {tx - before.first, rx - before.second};
}

}  // namespace

void Accountant::remember(const Snapshot& snap) {
  procs_.clear();
  for (const auto& p : snap.procs) procs_[p.id] = p.bytes;
  conns_.clear();
  for (const auto& c : snap.conns) conns_[c.id] = {c.tx, c.rx};
  last_mono_ = snap.mono_ns;
  last_wall_ = snap.wall_ns;
  last_stats_ = snap.stats;
}

void Accountant::prime(const Snapshot& snap) {
  remember(snap);
  base_stats_ = snap.stats;
  base_conns_ = snap.conns.size();
  conns_deleted_ = 0;
}

Window Accountant::advance(const Snapshot& snap) {
  Window w{.start_mono = last_mono_,
           .end_mono = snap.mono_ns,
           .start_wall = last_wall_,
           .end_wall = snap.wall_ns};
  for (const auto& p : snap.procs) {
    auto it = procs_.find(p.id);
    ByteCounters d = it == procs_.end() ? p.bytes : since(p.bytes, it->second);
    if (d != ByteCounters{}) w.procs.push_back({.id = p.id, .info = p.info, .bytes = d});
  }
  for (const auto& c : snap.conns) {
    auto it = conns_.find(c.id);
    auto [tx, rx] = it == conns_.end() ? std::pair{c.tx, c.rx} : since(c.tx, c.rx, it->second);
    if (tx || rx) w.conns.push_back({.id = c.id, .info = c.info, .tx = tx, .rx = rx});
  }
  // Entries alive now = those at start + created - deleted by us - evicted.
  uint64_t created = snap.stats.conn_created - base_stats_.conn_created;
  uint64_t expected = base_conns_ + created - conns_deleted_;
  w.conns_evicted = expected > snap.conns.size() ? expected - snap.conns.size() : 0;
  w.insert_failed = snap.stats.insert_failed - last_stats_.insert_failed;
  remember(snap);
  return w;
}

void Accountant::forget(const std::vector<ProcId>& gone, uint64_t conns_deleted) {
  std::set<ProcId> dead(gone.begin(), gone.end());
  for (const auto& id : dead) procs_.erase(id);
  std::erase_if(conns_, [&](const auto& kv) { return dead.count(kv.first.proc) > 0; });
  conns_deleted_ += conns_deleted;
}

}  // namespace netacct
