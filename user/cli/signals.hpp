// The signals that stop netacct stay blocked and are taken only by the event
// loop (one signalfd): no handler, no flag races, and the loop finishes its
// current work (a report prints its partial window) before exiting 0.
#pragma once
#include <signal.h>

namespace netacct {

// Blocks SIGINT, SIGTERM and SIGHUP (unless ignored, as under nohup) and
// returns them; blocks SIGWINCH too, for top's redraw. Call it before
// anything is attached and before any thread starts (threads inherit the
// mask; one that did not block a signal could take it and lose it).
sigset_t block_stop_signals();

}  // namespace netacct
