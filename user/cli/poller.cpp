#include "cli/poller.hpp"

#include <vector>

namespace netacct {

Poller::Poller(const Session& s, Alive alive)
    : reader_(s.procs_fd(), s.conns_fd(), s.stats_fd()),
      alive_(std::move(alive)),
      last_(reader_.read()) {
  accountant_.prime(last_);
}

// A process found gone at one poll may still have moved bytes between that
// poll's read and its exit: its entries are read once more, at the next
// poll, and only then deleted, so nothing it moved is lost.
Window Poller::poll() {
  last_ = reader_.read();
  Window w = accountant_.advance(last_);
  std::vector<ProcId> done(gone_.begin(), gone_.end());
  accountant_.forget(done, reader_.remove(done, last_));
  std::set<ProcId> now;
  for (const auto& p : last_.procs)
    if (!gone_.count(p.id) && !alive_(p.id)) now.insert(p.id);
  w.exited = done;
  w.exited.insert(w.exited.end(), now.begin(), now.end());
  gone_ = std::move(now);
  return w;
}

}  // namespace netacct
