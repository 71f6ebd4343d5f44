// Processes watched through pidfds: the kernel marks a pidfd readable when
// its process ends, so finding the ended ones costs one epoll_wait per poll,
// not a /proc read per process. A process that gets no pidfd (a kernel
// before 5.3, no file descriptor left) is asked through procfs at every
// poll instead.
#pragma once
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "model/types.hpp"
#include "resolve/procfs.hpp"

namespace netacct {

class PidfdWatch : public ExitWatch {
 public:
  explicit PidfdWatch(ProcFs procfs = ProcFs());
  ~PidfdWatch() override;
  PidfdWatch(const PidfdWatch&) = delete;
  PidfdWatch& operator=(const PidfdWatch&) = delete;

  void watch(const ProcId& id) override;
  bool unwatch(const ProcId& id) override;
  std::vector<ProcId> ended() override;
  size_t with_pidfd() const { return fds_.size(); }
  size_t asked() const { return asked_.size(); }

 private:
  ProcFs procfs_;
  int epoll_ = -1;
  std::unordered_map<ProcId, int> fds_;  // watched through a pidfd
  std::unordered_set<ProcId> asked_;     // no pidfd: asked at every poll
  std::vector<ProcId> found_;            // already gone when first watched
};

// Raises the soft limit on open files to the hard one (as Go's runtime
// does): a pidfd per process may need more than the usual 1024.
void raise_open_files_limit();

}  // namespace netacct
