// The one poll step shared by every command: read the maps, turn them into
// a window, and keep the kernel maps to live processes. Liveness is asked
// once per process per poll, here, and handed on in Window::exited.
#pragma once
#include <functional>
#include <unordered_set>
#include <vector>

#include "model/accountant.hpp"

namespace netacct {

class Poller {
 public:
  using Alive = std::function<bool(const ProcId&)>;
  // The first snapshot is the baseline.
  Poller(SnapshotSource& source, Alive alive);
  Window poll();
  int64_t last_mono_ns() const { return last_mono_; }

 private:
  SnapshotSource& reader_;
  Alive alive_;
  Accountant accountant_;
  int64_t last_mono_ = 0;
  std::unordered_set<ProcId> tracked_;  // seen and not yet found gone
  std::vector<ProcId> gone_;            // found gone at the last poll: deleted after this read
};

}  // namespace netacct
