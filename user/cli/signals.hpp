// SIGINT and SIGTERM stay blocked and are taken only where the poll loop
// waits: no handler, no flag races, and the loop finishes its current work.
#pragma once
#include <signal.h>

#include <cstdint>

namespace netacct {

sigset_t block_stop_signals();
// Sleeps until the monotonic deadline; true when a stop signal came first.
bool wait_until(int64_t deadline_ns, const sigset_t& set);

}  // namespace netacct
