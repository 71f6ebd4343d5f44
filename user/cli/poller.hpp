// The one poll step shared by every command: read the maps, turn them into
// a window, and keep the kernel maps to live processes. Which processes
// ended is learnt here, once per poll, and handed on in Window::exited.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "model/accountant.hpp"

namespace netacct {

class Poller {
 public:
  using Alive = std::function<bool(const ProcId&)>;
  // The first snapshot is the baseline. Exits are learnt from `exits`, or
  // by asking `alive` for every process at every poll.
  Poller(SnapshotSource& source, ExitWatch& exits);
  Poller(SnapshotSource& source, Alive alive);
  Window poll();
  int64_t last_mono_ns() const { return last_mono_; }
  // Kernel entries held (read and not yet deleted), as of the last poll.
  size_t procs_held() const { return accountant_.procs_held(); }
  size_t conns_held() const { return accountant_.conns_held(); }

 private:
  std::unique_ptr<ExitWatch> asked_;  // made from `alive`
  SnapshotSource& reader_;
  ExitWatch& exits_;
  Accountant accountant_;
  int64_t last_mono_ = 0;
  std::vector<ProcId> gone_;  // found gone at the last poll: deleted after this read

  void start();
};

}  // namespace netacct
