#include "cli/signals.hpp"

#include <ctime>

#include "kernel/snapshot.hpp"

namespace netacct {

sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  return set;
}

bool wait_until(int64_t deadline_ns, const sigset_t& set) {
  for (;;) {
    int64_t left = deadline_ns - mono_now_ns();
    if (left <= 0) return false;
    timespec ts{time_t(left / 1000000000), long(left % 1000000000)};
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) return true;
  }
}

}  // namespace netacct
