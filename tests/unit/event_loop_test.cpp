// The event loop without root or sleeping: a fake clock drives the tick
// schedule (each tick moves the clock to when the next wake happens), and
// signals, pipes and fds are real.
#include "cli/event_loop.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "cli/signals.hpp"

using namespace netacct;
using Flow = EventLoop::Flow;
using Ended = EventLoop::Ended;

namespace {

constexpr int64_t kPeriod = 1'000'000'000;

class FakeClock : public Clock {
 public:
  int64_t now = 0;
  int64_t mono_ns() const override { return now; }
  int64_t wall_ns() const override { return now + 1'700'000'000'000'000'000; }
};

sigset_t blocked(int sig) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

sigset_t no_signals() {
  sigset_t set;
  sigemptyset(&set);
  return set;
}

bool is_open(int fd) { return fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

struct Pipe {
  UniqueFd read, write;
  Pipe() {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    read.reset(fds[0]);
    write.reset(fds[1]);
  }
};

// Runs a loop whose tick k (from 0) records the time it fired at, then lets
// wakes[k] ns pass before the loop looks at the clock again; stops after
// wakes.size() ticks.
std::vector<int64_t> fire_times(const std::vector<int64_t>& wakes) {
  FakeClock clock;
  EventLoop loop(clock, no_signals());
  std::vector<int64_t> fired;
  loop.every(kPeriod, kPeriod, [&] {
    fired.push_back(clock.now);
    clock.now += wakes[fired.size() - 1];
    return fired.size() < wakes.size() ? Flow::keep_going : Flow::stop;
  });
  clock.now = kPeriod;
  EXPECT_EQ(loop.run(), Ended::by_callback);
  return fired;
}

TEST(TickSchedule, KeepsItsGridThroughWakeUpLatency) {
  TickSchedule s(kPeriod, kPeriod);
  EXPECT_FALSE(s.due(kPeriod - 1));
  EXPECT_TRUE(s.due(kPeriod));
  s.fired(kPeriod + 3'000'000);  // 3 ms late: jitter, the grid stays
  EXPECT_EQ(s.next_ns(), 2 * kPeriod);
}

TEST(TickSchedule, AfterAStallRestartsOnePeriodFromNow) {
  TickSchedule s(kPeriod, kPeriod);
  s.fired(kPeriod + kPeriod / 2);
  EXPECT_EQ(s.next_ns(), 2 * kPeriod + kPeriod / 2);
}

TEST(EventLoop, TicksFireOnSchedule) {
  auto fired = fire_times({kPeriod, kPeriod + 2'000'000, kPeriod - 2'000'000, kPeriod});
  EXPECT_EQ(fired,
            (std::vector<int64_t>{kPeriod, 2 * kPeriod, 3 * kPeriod + 2'000'000, 4 * kPeriod}));
}

// Counters are monotonic, so a late tick loses nothing; what must not
// happen is a burst of back-to-back ticks to catch up the missed ones.
TEST(EventLoop, AStallYieldsOneLongerWindowThenThePeriod) {
  auto fired = fire_times({kPeriod, 3 * kPeriod + kPeriod / 2, kPeriod, kPeriod});
  ASSERT_EQ(fired.size(), 4u);
  std::vector<int64_t> windows;
  for (size_t i = 1; i < fired.size(); ++i) windows.push_back(fired[i] - fired[i - 1]);
  EXPECT_EQ(windows, (std::vector<int64_t>{kPeriod, 3 * kPeriod + kPeriod / 2, kPeriod}));
}

TEST(EventLoop, StopSignalEndsTheLoopAfterTheCurrentCallback) {
  FakeClock clock;
  EventLoop loop(clock, blocked(SIGTERM));
  int ticks = 0;
  bool finished = false;
  loop.every(kPeriod, 0, [&] {
    ++ticks;
    raise(SIGTERM);  // arrives mid-callback: blocked, so only queued
    clock.now += kPeriod;
    finished = true;
    return Flow::keep_going;
  });
  EXPECT_EQ(loop.run(), Ended::by_signal);
  EXPECT_TRUE(finished);
  EXPECT_EQ(ticks, 1) << "the tick due together with the signal must not run";
}

TEST(EventLoop, ResizeSignalCallsOnResizeAndKeepsRunning) {
  FakeClock clock;
  EventLoop loop(clock, blocked(SIGTERM));
  int resizes = 0;
  loop.on_resize([&] {
    ++resizes;
    raise(SIGTERM);
    return Flow::keep_going;
  });
  raise(SIGWINCH);  // blocked by on_resize
  EXPECT_EQ(loop.run(), Ended::by_signal);
  EXPECT_EQ(resizes, 1);
}

TEST(EventLoop, ExtraFdCallbackRunsWhenReadable) {
  FakeClock clock;
  EventLoop loop(clock, no_signals());
  Pipe p;
  std::string got;
  loop.watch(p.read.get(), [&](short revents) {
    EXPECT_TRUE(revents & POLLIN);
    char buf[16];
    ssize_t n = read(p.read.get(), buf, sizeof buf);
    got.append(buf, size_t(std::max<ssize_t>(n, 0)));
    return Flow::stop;
  });
  ASSERT_EQ(write(p.write.get(), "hi", 2), 2);
  EXPECT_EQ(loop.run(), Ended::by_callback);
  EXPECT_EQ(got, "hi");
}

TEST(EventLoop, HangupIsReportedToTheFdCallback) {
  FakeClock clock;
  EventLoop loop(clock, no_signals());
  Pipe p;
  short seen = 0;
  loop.watch(p.read.get(), [&](short revents) {
    seen = revents;
    return Flow::stop;
  });
  p.write.reset();
  EXPECT_EQ(loop.run(), Ended::by_callback);
  EXPECT_TRUE(seen & POLLHUP);
}

TEST(EventLoop, UpToStopsAfterCountTicks) {
  FakeClock clock;
  EventLoop loop(clock, no_signals());
  int runs = 0;
  loop.every(kPeriod, 0, up_to(3, [&] {
               ++runs;
               clock.now += kPeriod;
             }));
  EXPECT_EQ(loop.run(), Ended::by_callback);
  EXPECT_EQ(runs, 3);
}

// The real clock and a real sleep, briefly: the computed timeouts wait.
TEST(EventLoop, SystemClockTicksWaitForTheirTime) {
  SystemClock clock;
  EventLoop loop(clock, no_signals());
  constexpr int64_t period = 20'000'000;
  int64_t start = clock.mono_ns();
  loop.every(period, start + period, up_to(3, [] {}));
  EXPECT_EQ(loop.run(), Ended::by_callback);
  int64_t took = clock.mono_ns() - start;
  EXPECT_GE(took, 3 * period);
  EXPECT_LT(took, 3 * period + 500'000'000);
}

// nohup ignores SIGHUP: netacct must keep running then, though a blocked
// signal is queued even when ignored.
TEST(BlockStopSignals, HangupStopsUnlessIgnored) {
  sigset_t saved_mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &saved_mask);
  struct sigaction saved_hup {};
  sigaction(SIGHUP, nullptr, &saved_hup);

  sigset_t stop = block_stop_signals();
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) EXPECT_TRUE(sigismember(&stop, sig)) << sig;
  EXPECT_FALSE(sigismember(&stop, SIGWINCH)) << "a resize is not a stop";
  sigset_t now;
  pthread_sigmask(SIG_SETMASK, nullptr, &now);
  EXPECT_TRUE(sigismember(&now, SIGWINCH)) << "blocked before any thread starts";

  signal(SIGHUP, SIG_IGN);
  stop = block_stop_signals();
  EXPECT_FALSE(sigismember(&stop, SIGHUP));

  sigaction(SIGHUP, &saved_hup, nullptr);
  pthread_sigmask(SIG_SETMASK, &saved_mask, nullptr);
}

TEST(UniqueFd, ClosesOnDestruction) {
  int fd;
  {
    Pipe p;
    fd = p.read.get();
    EXPECT_TRUE(is_open(fd));
  }
  EXPECT_FALSE(is_open(fd));
}

TEST(UniqueFd, MoveAssignClosesTheOldFdAndTransfersTheNew) {
  Pipe a, b;
  int old_fd = a.read.get(), moved_fd = b.read.get();
  a.read = std::move(b.read);
  EXPECT_FALSE(is_open(old_fd));
  EXPECT_EQ(a.read.get(), moved_fd);
  EXPECT_TRUE(is_open(moved_fd));
  EXPECT_FALSE(b.read);
}

TEST(UniqueFd, MoveConstructLeavesTheSourceEmpty) {
  Pipe p;
  int fd = p.read.get();
  UniqueFd taken(std::move(p.read));
  EXPECT_EQ(taken.get(), fd);
  EXPECT_FALSE(p.read);
  EXPECT_TRUE(is_open(fd));
}

}  // namespace
