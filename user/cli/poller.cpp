#include "cli/poller.hpp"

#include <vector>

namespace netacct {

Poller::Poller(SnapshotSource& source, Alive alive)
    : reader_(source), alive_(std::move(alive)), last_(reader_.read()) {
  accountant_.prime(last_);
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
  last_ = reader_.read();
  Window w = accountant_.advance(last_);
  std::vector<ProcId> done(gone_.begin(), gone_.end());
  accountant_.forget(done, reader_.remove(done, last_));
  std::set<ProcId> execed;
  for (const auto& p : last_.procs) {
    if (gone_.count(p.id)) continue;
    tracked_.insert(p.id);
    if (p.execed) execed.insert(p.id);
  }
  std::set<ProcId> now;
  for (const auto& id : tracked_)
    if (execed.count(id) || !alive_(id)) now.insert(id);
  for (const auto& id : now) tracked_.erase(id);
  w.exited = done;
  w.exited.insert(w.exited.end(), now.begin(), now.end());
  gone_ = std::move(now);
  return w;
}

}  // namespace netacct
