// Reads the kernel maps into a Snapshot (batch lookups where the kernel has
// them) and deletes the entries of processes that are gone.
#pragma once
#include <vector>

#include "model/types.hpp"

namespace netacct {

class MapReader : public SnapshotSource {
 public:
  MapReader(int procs_fd, int conns_fd, int stats_fd)
      : procs_fd_(procs_fd), conns_fd_(conns_fd), stats_fd_(stats_fd) {}
  Snapshot read() override;
  uint64_t remove(const std::vector<ProcId>& gone, const Snapshot& snap) override;

 private:
  int procs_fd_, conns_fd_, stats_fd_;
};

}  // namespace netacct
