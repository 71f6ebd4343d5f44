#include "cli/signals.hpp"

namespace netacct {
namespace {

bool ignored(int sig) {
  struct sigaction sa {};
  return sigaction(sig, nullptr, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

}  // namespace

sigset_t block_stop_signals() {
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  // A blocked signal is queued even when ignored: under nohup, SIGHUP must
  // not be taken as a stop.
  if (!ignored(SIGHUP)) sigaddset(&stop, SIGHUP);
  sigset_t blocked = stop;
  sigaddset(&blocked, SIGWINCH);
  pthread_sigmask(SIG_BLOCK, &blocked, nullptr);
  return stop;
}

}  // namespace netacct
