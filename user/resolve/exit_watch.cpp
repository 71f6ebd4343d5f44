#include "resolve/exit_watch.hpp"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

namespace netacct {

PidfdWatch::PidfdWatch(ProcFs procfs)
    : procfs_(std::move(procfs)), epoll_(epoll_create1(EPOLL_CLOEXEC)) {}

PidfdWatch::~PidfdWatch() {
  for (const auto& [id, fd] : fds_) close(fd);
  if (epoll_ >= 0) close(epoll_);
}

void PidfdWatch::watch(const ProcId& id) {
  if (fds_.count(id) || asked_.count(id)) return;
  int fd = epoll_ >= 0 ? int(syscall(SYS_pidfd_open, pid_t(id.tgid), 0)) : -1;
  if (fd < 0 && errno == ESRCH) {
    found_.push_back(id);
    return;
  }
  if (fd < 0) {
    asked_.insert(id);
    return;
  }
  // The pidfd is this process's only if its PID still names it (start time)
  // after the pidfd was made: a PID is not reused while its process holds it.
  if (!procfs_.alive(id)) {
    close(fd);
    found_.push_back(id);
    return;
  }
  auto it = fds_.emplace(id, fd).first;
  epoll_event ev{.events = EPOLLIN, .data = {.ptr = &*it}};
  if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    close(fd);
    fds_.erase(it);
    asked_.insert(id);
  }
}

bool PidfdWatch::unwatch(const ProcId& id) {
  if (auto it = fds_.find(id); it != fds_.end()) {
    close(it->second);  // also leaves the epoll set
    fds_.erase(it);
    return true;
  }
  if (asked_.erase(id)) return true;
  auto found = std::find(found_.begin(), found_.end(), id);
  if (found == found_.end()) return false;
  found_.erase(found);
  return true;
}

std::vector<ProcId> PidfdWatch::ended() {
  std::vector<ProcId> out = std::move(found_);
  found_.clear();
  epoll_event events[256];
  int n = 0;
  do {
    n = epoll_ >= 0 ? epoll_wait(epoll_, events, 256, 0) : 0;
    for (int i = 0; i < n; ++i) {
      auto* node = static_cast<std::pair<const ProcId, int>*>(events[i].data.ptr);
      ProcId id = node->first;
      close(node->second);
      fds_.erase(id);
      out.push_back(id);
    }
  } while (n == 256 || (n < 0 && errno == EINTR));
  for (const auto& id : asked_)
    if (!procfs_.alive(id)) out.push_back(id);
  for (const auto& id : out) asked_.erase(id);
  return out;
}

void raise_open_files_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
}

}  // namespace netacct
