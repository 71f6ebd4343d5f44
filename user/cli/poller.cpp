#include "cli/poller.hpp"

#include <algorithm>

namespace netacct {

Poller::Poller(SnapshotSource& source, Alive alive) : reader_(source), alive_(std::move(alive)) {
  Snapshot first = reader_.read();
  last_mono_ = first.mono_ns;
  accountant_.prime(first);
  tracked_.insert(accountant_.new_procs().begin(), accountant_.new_procs().end());
}

// Every process seen is tracked until it is found gone, even after the
// kernel's LRU evicted its entry: later steps (attribution, top's rows) keep
// state per process and rely on this list to release it.
//
// A process found gone at one poll may still have moved bytes between that
// poll's read and its exit: its entries are read once more, at the next
// poll, and only then deleted, so nothing it moved is lost.
//
// A program that execve()d another is gone as well, although its PID lives
// on (procfs cannot tell the programs apart): the kernel marks its entry, and
// the new program's bytes arrive under a newer exec generation.
Window Poller::poll() {
  Snapshot snap = reader_.read();
  last_mono_ = snap.mono_ns;
  Window w = accountant_.advance(snap);
  std::vector<ProcId> done = std::move(gone_);
  accountant_.forget(done, reader_.remove(done, accountant_.entries_of(done)));
  std::unordered_set<ProcId> deleted(done.begin(), done.end());
  for (const auto& id : accountant_.new_procs())
    if (!deleted.count(id)) tracked_.insert(id);
  std::vector<ProcId> now;
  for (const auto& p : snap.procs)
    if (p.execed && tracked_.erase(p.id)) now.push_back(p.id);
  for (const auto& id : tracked_)
    if (!alive_(id)) now.push_back(id);
  for (const auto& id : now) tracked_.erase(id);
  std::sort(now.begin(), now.end());
  w.exited = done;
  w.exited.insert(w.exited.end(), now.begin(), now.end());
  gone_ = std::move(now);
  return w;
}

}  // namespace netacct
