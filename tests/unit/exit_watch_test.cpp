// PidfdWatch on real processes: children of the test, which exit when told.
// The pidfd path (Linux >= 5.3) and the procfs path (no pidfd: here, no file
// descriptor left) must report the same exits.
#include "resolve/exit_watch.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

using namespace netacct;

namespace {

// A child that waits to be killed, with its ProcId as the kernel gives it.
struct Child {
  pid_t pid = -1;
  ProcId id;
  Child() {
    pid = fork();
    if (pid == 0) {
      pause();
      _exit(0);
    }
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(in, line);
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 22; ++i) rest >> field;  // field 22: starttime in ticks
    id = {uint32_t(pid), std::stoull(field) * (1000000000ull / uint64_t(sysconf(_SC_CLK_TCK)))};
  }
  void end() {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = -1;
  }
  ~Child() { end(); }
};

// ended() until it reports something or a second passed.
std::vector<ProcId> ended_within_a_second(ExitWatch& w) {
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  for (;;) {
    auto out = w.ended();
    if (!out.empty() || std::chrono::steady_clock::now() > until) return out;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

TEST(PidfdWatch, ReportsAnExitOnce) {
  Child a, b;
  PidfdWatch w;
  w.watch(a.id);
  w.watch(b.id);
  EXPECT_EQ(w.with_pidfd(), 2u);
  EXPECT_TRUE(w.ended().empty());
  a.end();
  EXPECT_EQ(ended_within_a_second(w), (std::vector<ProcId>{a.id}));
  EXPECT_TRUE(w.ended().empty());
  EXPECT_EQ(w.with_pidfd(), 1u);
  b.end();
  EXPECT_EQ(ended_within_a_second(w), (std::vector<ProcId>{b.id}));
}

// The PID names another process (a different start time): the one watched
// is gone already.
TEST(PidfdWatch, ReusedPidIsGoneAtOnce) {
  Child a;
  PidfdWatch w;
  const ProcId other{a.id.tgid, a.id.start_ns + 5'000'000'000};  // started 5 s later
  w.watch(other);
  w.watch({999999999, 5});  // no such PID
  EXPECT_EQ(w.with_pidfd(), 0u);
  auto out = w.ended();
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, (std::vector<ProcId>{other, {999999999, 5}}));
}

TEST(PidfdWatch, UnwatchedIsNotReported) {
  Child a;
  PidfdWatch w;
  w.watch(a.id);
  EXPECT_TRUE(w.unwatch(a.id));
  EXPECT_FALSE(w.unwatch(a.id));
  a.end();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(w.ended().empty());
}

// No file descriptor left for a pidfd: the process is asked through procfs
// at every poll instead, with the same answers.
TEST(PidfdWatch, WithoutPidfdsProcfsIsAsked) {
  Child a;
  PidfdWatch w;
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  int probe = dup(0);  // the lowest free descriptor: the limit stops just below it
  ASSERT_GE(probe, 0);
  close(probe);
  rlimit low = saved;
  low.rlim_cur = rlim_t(probe);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  w.watch(a.id);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_EQ(w.with_pidfd(), 0u);
  EXPECT_EQ(w.asked(), 1u);
  EXPECT_TRUE(w.ended().empty());
  a.end();
  EXPECT_EQ(w.ended(), (std::vector<ProcId>{a.id}));
  EXPECT_EQ(w.asked(), 0u);
}

}  // namespace
