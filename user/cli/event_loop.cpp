#include "cli/event_loop.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <system_error>

namespace netacct {
namespace {

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

timespec to_timespec(int64_t ns) {
  return {.tv_sec = time_t(ns / 1000000000), .tv_nsec = long(ns % 1000000000)};
}

}  // namespace

void TickSchedule::fired(int64_t now_ns) {
  bool stalled = now_ns - next_ >= period_ / 2;  // not mere wake-up latency
  next_ = (stalled ? now_ns : next_) + period_;
}

EventLoop::EventLoop(const Clock& clock, const sigset_t& stop_signals)
    : clock_(clock), stop_signals_(stop_signals) {
  signal_fd_.reset(signalfd(-1, &stop_signals_, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd_) throw_errno("signalfd");
}

void EventLoop::every(int64_t period_ns, int64_t first_ns, Callback on_tick) {
  tick_.emplace(Tick{.schedule = TickSchedule(period_ns, first_ns), .on_tick = std::move(on_tick)});
}

void EventLoop::on_resize(Callback on_resize) {
  sigset_t mask = stop_signals_;
  sigaddset(&mask, SIGWINCH);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  if (signalfd(signal_fd_.get(), &mask, 0) < 0) throw_errno("signalfd");
  on_resize_ = std::move(on_resize);
}

void EventLoop::watch(int fd, FdCallback on_ready) {
  watches_.push_back({.fd = fd, .on_ready = std::move(on_ready)});
}

EventLoop::Ended EventLoop::run() {
  std::vector<pollfd> fds{{.fd = signal_fd_.get(), .events = POLLIN, .revents = 0}};
  for (const Watch& w : watches_) fds.push_back({.fd = w.fd, .events = POLLIN, .revents = 0});
  for (;;) {
    for (pollfd& p : fds) p.revents = 0;
    wait(fds);
    if (auto ended = dispatch(fds)) return *ended;
  }
}

// Sleeps until an fd is ready or the tick is due; forever without a tick.
void EventLoop::wait(std::vector<pollfd>& fds) const {
  timespec timeout{};
  if (tick_)
    timeout = to_timespec(std::max<int64_t>(0, tick_->schedule.next_ns() - clock_.mono_ns()));
  // EINTR (a stop/continue): fall through, run() recomputes the timeout.
  if (ppoll(fds.data(), fds.size(), tick_ ? &timeout : nullptr, nullptr) < 0 && errno != EINTR)
    throw_errno("poll");
}

// Signals first (a stop ends the loop before anything else runs), then the
// watched fds in registration order, then the tick.
std::optional<EventLoop::Ended> EventLoop::dispatch(const std::vector<pollfd>& fds) {
  if (fds[0].revents) {
    Signals s = take_signals();
    if (s.stop) return Ended::by_signal;
    if (s.resize && on_resize_ && on_resize_() == Flow::stop) return Ended::by_callback;
  }
  for (size_t i = 1; i < fds.size(); ++i)
    if (fds[i].revents && watches_[i - 1].on_ready(fds[i].revents) == Flow::stop)
      return Ended::by_callback;
  return run_tick();
}

EventLoop::Signals EventLoop::take_signals() const {
  Signals s;
  signalfd_siginfo si{};
  while (read(signal_fd_.get(), &si, sizeof si) == ssize_t(sizeof si)) {
    if (sigismember(&stop_signals_, int(si.ssi_signo)))
      s.stop = true;
    else if (si.ssi_signo == SIGWINCH)
      s.resize = true;
  }
  return s;
}

std::optional<EventLoop::Ended> EventLoop::run_tick() {
  if (!tick_) return std::nullopt;
  int64_t now = clock_.mono_ns();
  if (!tick_->schedule.due(now)) return std::nullopt;
  tick_->schedule.fired(now);
  if (tick_->on_tick() == Flow::stop) return Ended::by_callback;
  return std::nullopt;
}

EventLoop::Callback up_to(uint64_t count, std::function<void()> work) {
  return [count, work = std::move(work), done = uint64_t(0)]() mutable {
    work();
    bool more = count == 0 || ++done < count;
    return more ? EventLoop::Flow::keep_going : EventLoop::Flow::stop;
  };
}

}  // namespace netacct
