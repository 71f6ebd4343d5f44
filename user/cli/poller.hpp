// The one poll step shared by report and top: read the maps, turn them into
// a window, then drop the entries of processes that had already exited
// before the read (they can move no more bytes, so nothing is lost).
#pragma once
#include "kernel/loader.hpp"
#include "kernel/snapshot.hpp"
#include "model/accountant.hpp"
#include "model/report.hpp"

namespace netacct {

class Poller {
 public:
  explicit Poller(const Session& session);  // the first snapshot is the baseline
  Window poll(Resolver& resolver);
  int64_t last_mono_ns() const { return last_.mono_ns; }

 private:
  MapReader reader_;
  Accountant accountant_;
  Snapshot last_;
};

}  // namespace netacct
