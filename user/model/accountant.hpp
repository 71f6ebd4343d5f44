// Turns successive snapshots of monotonic kernel counters into per-window
// deltas. Nothing here touches the kernel, so a slow or missed poll only
// makes a window longer: no bytes are lost between snapshots.
//
// The previous counters of every live entry are kept in tables updated in
// place: a poll costs one visit per entry of a full snapshot (a sequential
// walk when the maps' order has not changed), and one per changed entry of
// a snapshot of changes.
#pragma once
#include <unordered_map>
#include <vector>

#include "model/live_table.hpp"
#include "model/types.hpp"

namespace netacct {

struct ProcDelta {
  ProcId id;
  ProcInfo info;
  ByteCounters bytes;
};

// A connection's bytes in a window: its entry, counters as deltas. The
// same record, so that a window's connections are made in place in the
// snapshot's own storage, which at 100,000 active sockets is the largest
// block of a refresh (no copy, no second block alive beside it).
using ConnDelta = ConnEntry;

struct Window {
  int64_t start_mono = 0, end_mono = 0;
  int64_t start_wall = 0, end_wall = 0;
  std::vector<ProcDelta> procs;  // only entries whose counters moved
  std::vector<ConnDelta> conns;
  std::vector<IfaceTraffic> ifaces;  // interfaces whose counters moved
  std::vector<FlowEntry> flows;      // flows whose counters moved (deltas)
  std::vector<RetransEntry> retrans;
  std::vector<std::array<uint8_t, 16>> local_addrs;  // as in the snapshot
  uint32_t wire_netns = 0;           // the network namespace the interfaces and flows are in
  std::vector<CgroupEntry> cgroups;  // cgroups whose counters moved (deltas)
  // Processes the poller found gone at this poll (they may have moved
  // bytes in this window): the one answer to "has it exited?".
  std::vector<ProcId> exited;
  uint64_t conns_evicted = 0;  // since start: connection entries evicted to make room
  uint64_t insert_failed = 0;  // in this window: bytes the kernel could not store
  double seconds() const { return double(end_mono - start_mono) / 1e9; }
};

class Accountant {
 public:
  // Sets the baseline: bytes counted before this snapshot are never reported.
  void prime(Snapshot snap);
  // The window from the previous snapshot to this one; the snapshot's
  // connection entries become the window's (moved from, when an rvalue).
  Window advance(Snapshot snap);
  // Called after userspace deleted these processes' entries (and
  // `conns_deleted` connection entries) from the kernel maps, so their
  // absence is not taken for eviction.
  void forget(const std::vector<ProcId>& gone, uint64_t conns_deleted);
  // The entries held for these processes, ids only: what userspace deletes
  // from the maps once they are gone.
  Snapshot entries_of(const std::vector<ProcId>& procs) const;
  // Processes whose entries first appeared in the last snapshot.
  const std::vector<ProcId>& new_procs() const { return new_procs_; }
  size_t procs_held() const { return procs_.size(); }
  size_t conns_held() const { return conns_.size(); }

 private:
  struct ProcPrev {
    ByteCounters bytes;
  };
  struct ConnPrev {
    uint64_t tx = 0, rx = 0;
    uint32_t in_proc = 0;  // index in by_proc_[its process]
  };
  using Procs = LiveTable<ProcId, ProcPrev>;
  using Conns = LiveTable<ConnId, ConnPrev>;
  Procs procs_;
  Conns conns_;
  // Each process's connection entries, so that forgetting a process costs
  // its own entries, not a scan of every socket.
  std::unordered_map<ProcId, std::vector<Conns::Ref>> by_proc_;
  // Per slot of the source (Snapshot entries' `slot`): the entry it held.
  std::vector<Procs::Ref> proc_at_slot_;
  std::vector<Conns::Ref> conn_at_slot_;
  std::vector<ProcId> new_procs_;
  int64_t last_mono_ = 0, last_wall_ = 0;
  KernelStats base_stats_, last_stats_;
  uint64_t conns_deleted_ = 0;
  size_t base_conns_ = 0;
  size_t moved_procs_ = 0;                        // in the last window
  std::vector<IfaceEntry> ifaces_;                // the interfaces' counters at the last read
  std::unordered_map<FlowKey, FlowEntry> flows_;  // the flows' counters at the last read
  std::unordered_map<FlowKey, RetransEntry> retrans_;
  std::unordered_map<uint64_t, CgroupEntry> cgroups_;  // counters at the last read

  void advance_ifaces(std::vector<IfaceEntry> now, uint32_t netns, Window* w);
  void advance_wire(Snapshot& snap, Window* w);
  void advance_cgroups(const std::vector<CgroupEntry>& now, Window* w);

  void apply(Snapshot& snap, Window* w);
  void add_proc(const ProcEntry& p, Procs::Ref n, bool fresh, Window* w);
  bool add_conn(ConnEntry& c, Conns::Ref n, bool fresh);
  void link(Conns::Ref n);
  void unlink(Conns::Ref n);
};

}  // namespace netacct
