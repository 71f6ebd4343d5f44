// Turns successive snapshots of monotonic kernel counters into per-window
// deltas. Nothing here touches the kernel, so a slow or missed poll only
// makes a window longer: no bytes are lost between snapshots.
#pragma once
#include <map>
#include <utility>

#include "model/types.hpp"

namespace netacct {

struct ProcDelta {
  ProcId id;
  ProcInfo info;
  ByteCounters bytes;
};

struct ConnDelta {
  ConnId id;
  ConnInfo info;
  uint64_t tx = 0, rx = 0;
};

struct Window {
  int64_t start_mono = 0, end_mono = 0;
  int64_t start_wall = 0, end_wall = 0;
  std::vector<ProcDelta> procs;  // only entries whose counters moved
  std::vector<ConnDelta> conns;
  // Processes the poller found gone at this poll (they may have moved
  // bytes in this window): the one answer to "has it exited?".
  std::vector<ProcId> exited;
  uint64_t conns_evicted = 0;  // since start: per-socket detail the LRU dropped
  uint64_t insert_failed = 0;  // in this window: bytes the kernel could not store
  double seconds() const { return double(end_mono - start_mono) / 1e9; }
};

class Accountant {
 public:
  // Sets the baseline: bytes counted before this snapshot are never reported.
  void prime(const Snapshot& snap);
  // The window from the previous snapshot to this one.
  Window advance(const Snapshot& snap);
  // Called after userspace deleted these processes' entries (and
  // `conns_deleted` connection entries) from the kernel maps, so their
  // absence is not taken for eviction.
  void forget(const std::vector<ProcId>& gone, uint64_t conns_deleted);

 private:
  std::map<ProcId, ByteCounters> procs_;
  std::map<ConnId, std::pair<uint64_t, uint64_t>> conns_;
  int64_t last_mono_ = 0, last_wall_ = 0;
  KernelStats base_stats_, last_stats_;
  uint64_t conns_deleted_ = 0;
  size_t base_conns_ = 0;

  void remember(const Snapshot& snap);
};

}  // namespace netacct
