#include "cli/poller.hpp"

namespace netacct {

Poller::Poller(const Session& s)
    : reader_(s.procs_fd(), s.conns_fd(), s.stats_fd()), last_(reader_.read()) {
  accountant_.prime(last_);
}

Window Poller::poll(Resolver& resolver) {
  std::vector<ProcId> gone;
  for (const auto& p : last_.procs)
    if (!resolver.alive(p.id)) gone.push_back(p.id);
  last_ = reader_.read();
  Window w = accountant_.advance(last_);
  accountant_.forget(gone, reader_.remove(gone, last_));
  return w;
}

}  // namespace netacct
