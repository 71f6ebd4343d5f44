// The one event loop of report and top (and later an HTTP listener): one
// poll() over every fd (stop signals and resizes through one signalfd, the
// terminal, anything registered) and one periodic tick scheduled from a
// Clock, so tests drive time instead of sleeping.
#pragma once
#include <poll.h>
#include <signal.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "cli/fd.hpp"
#include "model/clock.hpp"

namespace netacct {

// When the periodic tick is due. While the loop keeps up it stays on a fixed
// grid, so wake-up latency never adds up to drift. When it wakes late by half
// a period or more (suspend, Ctrl-Z, a slow refresh) it fires once, late, and
// restarts the grid one period from then: that window is simply longer. No
// bytes are lost (counters are monotonic) and there is no burst of
// back-to-back catch-up windows, which would print near-empty reports and
// squash top's rate windows.
class TickSchedule {
 public:
  TickSchedule(int64_t period_ns, int64_t first_ns) : period_(period_ns), next_(first_ns) {}
  bool due(int64_t now_ns) const { return now_ns >= next_; }
  int64_t next_ns() const { return next_; }
  // Call when the tick fires at now_ns.
  void fired(int64_t now_ns);

 private:
  int64_t period_, next_;
};

class EventLoop {
 public:
  enum class Flow { keep_going, stop };
  enum class Ended { by_callback, by_signal };
  using Callback = std::function<Flow()>;
  // Gets the fd's revents: POLLIN, or POLLHUP / POLLERR / POLLNVAL.
  using FdCallback = std::function<Flow(short revents)>;

  // `stop_signals` must already be blocked in every thread (see
  // block_stop_signals); the loop takes them, and SIGWINCH for on_resize,
  // from one signalfd. Throws std::system_error when it cannot create it.
  EventLoop(const Clock& clock, const sigset_t& stop_signals);

  // on_tick at first_ns (monotonic), then every period_ns; see TickSchedule.
  void every(int64_t period_ns, int64_t first_ns, Callback on_tick);
  // SIGWINCH (blocked by block_stop_signals before any thread starts).
  void on_resize(Callback on_resize);
  // `fd` stays the caller's; on_ready runs whenever it polls readable or
  // failed. Register every fd before run().
  void watch(int fd, FdCallback on_ready);

  // Runs until a callback returns Flow::stop or a stop signal arrives. A
  // signal never interrupts a callback: it is taken at the next wake, and the
  // loop then returns without calling anything else, so the caller finishes
  // its current work (report prints its partial window).
  Ended run();

 private:
  struct Tick {
    TickSchedule schedule;
    Callback on_tick;
  };
  struct Watch {
    int fd;
    FdCallback on_ready;
  };
  struct Signals {
    bool stop = false, resize = false;
  };

  void wait(std::vector<pollfd>& fds) const;
  std::optional<Ended> dispatch(const std::vector<pollfd>& fds);
  Signals take_signals() const;
  std::optional<Ended> run_tick();

  const Clock& clock_;
  sigset_t stop_signals_;
  UniqueFd signal_fd_;
  std::optional<Tick> tick_;
  Callback on_resize_;
  std::vector<Watch> watches_;
};

// A tick callback for --count: runs `work` on each tick and stops the loop
// after `count` of them (0: never).
EventLoop::Callback up_to(uint64_t count, std::function<void()> work);

}  // namespace netacct
