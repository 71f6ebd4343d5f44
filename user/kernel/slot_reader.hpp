// Reads the kernel's slot arrays (bpf/netacct.h) through the change feed:
// each poll swaps the `touched` words with 0 and reads only the slots whose
// bits were set, in place (the arrays are mapped into this process), so a
// refresh costs what moved, not what exists. Produces snapshots of changes
// (Snapshot::changes).
//
// It also owns freeing: the slots of processes that ended (remove), and,
// when connection slots run short, the connections idle the longest
// (evicted after their bytes were read). A freed slot goes back to the
// kernel one poll later.
//
// Everything that talks to the kernel is behind SlotOps, so this logic runs
// in unit tests over plain memory.
#pragma once
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "kernel/abi.hpp"
#include "model/types.hpp"

namespace netacct {

// The system calls the reader needs (kernel/snapshot.cpp: libbpf).
class SlotOps {
 public:
  virtual ~SlotOps() = default;
  // Deletes the key from its hash map; true and its slot when it was there.
  virtual bool take_conn(const na_conn_key& key, uint32_t* slot) = 0;
  virtual bool take_proc(const na_proc_key& key, uint32_t* slot) = 0;
  // Hands a slot back to the kernel's free queue.
  virtual void free_conn(uint32_t slot) = 0;
  virtual void free_proc(uint32_t slot) = 0;
  virtual KernelStats stats() = 0;
};

// The kernel's memory as mapped: NA_MAX_CONNS connection slots,
// NA_MAX_PROCS process slots, NA_TOUCHED_WORDS words of the change feed.
struct SlotArrays {
  na_conn_slot* conns = nullptr;
  na_proc_slot* procs = nullptr;
  uint64_t* touched = nullptr;
  uint32_t max_conns = NA_MAX_CONNS;  // smaller in tests
  uint32_t max_procs = NA_MAX_PROCS;
};

class SlotReader : public SnapshotSource {
 public:
  SlotReader(SlotArrays mem, SlotOps& ops)
      : mem_(mem),
        ops_(ops),
        conn_read_(mem.max_conns, 0),
        high_(mem.max_conns / 8 * 7),
        low_(mem.max_conns / 4 * 3) {}
  Snapshot read() override;
  uint64_t remove(const std::vector<ProcId>& gone, const Snapshot& snap) override;

  // Eviction starts above `high` live connection entries and frees down to
  // `low` (defaults: 7/8 and 3/4 of the slots).
  void set_watermarks(uint32_t high, uint32_t low) {
    high_ = high;
    low_ = low;
  }

 private:
  struct Counts {
    uint64_t tx = 0, rx = 0;
  };
  SlotArrays mem_;
  SlotOps& ops_;
  uint32_t poll_ = 0;
  std::vector<uint32_t> conn_read_;                // per slot: the poll that last read it
  uint32_t conn_high_water_ = 0;                   // one past the highest slot read
  std::vector<uint32_t> free_conns_, free_procs_;  // handed back at the next read
  // Keys deleted from the hash at the last read; their slots are read once
  // more (a program that found the slot just before may have added to it).
  std::unordered_map<ConnId, uint32_t> evicting_;
  // Evicted entries read for the last time: reported gone at the next read.
  std::vector<ConnId> gone_next_;
  // Bytes of an evicted entry whose key came back in another slot before it
  // was reported gone: added to that slot's counters, so the key's counters
  // never go back.
  std::unordered_map<uint32_t, Counts> carried_;
  uint64_t conns_freed_ = 0;  // entries freed by userspace since start
  uint32_t high_, low_;

  void read_conns(Snapshot& snap);
  void read_procs(Snapshot& snap);
  bool read_conn(uint32_t slot, ConnEntry* out, bool final);
  void free_conn_slot(uint32_t slot, bool now);
  void evict_idle(const KernelStats& stats);
};

// ABI <-> model conversions, shared with the benchmarks.
ProcId to_id(const na_proc_key& k);
na_proc_key to_key(const ProcId& id);
na_conn_key to_key(const ConnId& id);
ProcEntry to_entry(const na_proc_key& k, const na_proc_val& v);
ConnEntry to_entry(const na_conn_key& k, const na_conn_val& v);

}  // namespace netacct
