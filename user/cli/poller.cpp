#include "cli/poller.hpp"

#include <algorithm>
#include <unordered_set>

namespace netacct {
namespace {

// Asks for every watched process at every poll.
class AskEveryPoll : public ExitWatch {
 public:
  explicit AskEveryPoll(Poller::Alive alive) : alive_(std::move(alive)) {}
  void watch(const ProcId& id) override { watched_.insert(id); }
  bool unwatch(const ProcId& id) override { return watched_.erase(id) > 0; }
  std::vector<ProcId> ended() override {
    std::vector<ProcId> out;
    for (const auto& id : watched_)
      if (!alive_(id)) out.push_back(id);
    for (const auto& id : out) watched_.erase(id);
    return out;
  }

 private:
  Poller::Alive alive_;
  std::unordered_set<ProcId> watched_;
};

}  // namespace

Poller::Poller(SnapshotSource& source, ExitWatch& exits) : reader_(source), exits_(exits) {
  start();
}

Poller::Poller(SnapshotSource& source, Alive alive)
    : asked_(std::make_unique<AskEveryPoll>(std::move(alive))), reader_(source), exits_(*asked_) {
  start();
}

void Poller::start() {
  Snapshot first = reader_.read();
  last_mono_ = first.mono_ns;
  accountant_.prime(std::move(first));
  for (const auto& id : accountant_.new_procs()) exits_.watch(id);
}

// Every process seen is watched until it is found gone, even when its entry
// is gone from a full snapshot: later steps (attribution, top's rows) keep
// state per process and rely on this list to release it.
//
// A process found gone at one poll may still have moved bytes between that
// poll's read and its exit: its entries are read once more, at the next
// poll, and only then deleted, so nothing it moved is lost.
//
// A program that execve()d another is gone as well, although its PID lives
// on (procfs cannot tell the programs apart): the kernel marks its entry, and
// the new program's bytes arrive under a newer exec generation.
Window Poller::poll() {
  Snapshot snap = reader_.read();
  last_mono_ = snap.mono_ns;
  std::vector<ProcId> execed;
  for (const auto& p : snap.procs)
    if (p.execed) execed.push_back(p.id);
  Window w = accountant_.advance(std::move(snap));
  std::vector<ProcId> done = std::move(gone_);
  accountant_.forget(done, reader_.remove(done, accountant_.entries_of(done)));
  std::unordered_set<ProcId> deleted(done.begin(), done.end());
  for (const auto& id : accountant_.new_procs())
    if (!deleted.count(id)) exits_.watch(id);
  std::vector<ProcId> now;
  for (const auto& id : execed)
    if (exits_.unwatch(id)) now.push_back(id);
  for (const auto& id : exits_.ended()) now.push_back(id);
  std::sort(now.begin(), now.end());
  w.exited = done;
  w.exited.insert(w.exited.end(), now.begin(), now.end());
  gone_ = std::move(now);
  return w;
}

}  // namespace netacct
