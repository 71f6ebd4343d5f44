// The product's snapshot source: the kernel's slot arrays mapped into this
// process and read through the change feed (kernel/slot_reader), with the
// hash maps and free queues reached through libbpf.
#pragma once
#include <memory>
#include <string>

#include "kernel/slot_reader.hpp"

namespace netacct {

// The maps of bpf/netacct.h that the reader uses (file descriptors).
struct KernelMaps {
  int procs = -1, conns = -1;
  int proc_slots = -1, conn_slots = -1, touched = -1;
  int free_procs = -1, free_conns = -1;
  int stats = -1;
};

class MapReader : public SnapshotSource {
 public:
  // nullptr and *error when the arrays cannot be mapped.
  static std::unique_ptr<MapReader> open(const KernelMaps& maps, std::string* error);
  ~MapReader() override;
  MapReader(const MapReader&) = delete;
  MapReader& operator=(const MapReader&) = delete;

  Snapshot read() override { return reader_.read(); }
  uint64_t remove(const std::vector<ProcId>& gone, const Snapshot& snap) override {
    return reader_.remove(gone, snap);
  }
  SlotReader& slots() { return reader_; }

 private:
  class Ops;
  struct Mapping {
    void* addr = nullptr;
    size_t len = 0;
  };
  MapReader(const KernelMaps& maps, Mapping conns, Mapping procs, Mapping touched);
  Mapping conns_, procs_, touched_;
  std::unique_ptr<Ops> ops_;
  SlotReader reader_;
};

}  // namespace netacct
