// netacct top end to end, as a person sees it: the real binary in a real
// terminal (a detached tmux pane of 80x24, LANG=C.UTF-8, on a private tmux
// socket so that a user's tmux server is never touched), real BPF, real
// traffic from a child with a known comm. Keys go in with `send-keys`, the
// screen comes back with `capture-pane -p` and is read like a person would:
// the row with the client's PID, its 2 s rate, the drill-down to its
// connection, the exact byte total in cumulative mode, and a clean exit (q,
// Ctrl-C) that leaves the terminal as it was. Plus batch mode when stdout is
// not a tty. Needs tmux (skipped without it; a failure under CI=true).
//
// Every wait is bounded (scaled, see support/env.hpp); the tmux server is
// killed on every path (destructor), and a server left by a test process that
// died by SIGKILL is killed by the next run (sockets are named na-top-<pid>).
// netacct in the pane runs under `timeout`, so even an orphaned pane ends.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <new>
#include <sstream>
#include <system_error>
#include <thread>

#include "support/fixture.hpp"
#include "support/screen.hpp"

extern char** environ;

namespace kt {
namespace {

using Clock = std::chrono::steady_clock;

// ---- running tmux ----

std::string findTmux() {
  std::string path = getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin";
  path += ":/usr/bin:/bin:/usr/local/bin";
  std::istringstream dirs(path);
  for (std::string d; std::getline(dirs, d, ':');)
    if (!d.empty() && access((d + "/tmux").c_str(), X_OK) == 0) return d + "/tmux";
  return "";
}

struct CmdResult {
  int status = -1;
  std::string out;  // stdout and stderr
  bool ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

// The environment of every tmux command: a UTF-8 locale, and no $TMUX (the
// test may itself run inside someone's tmux).
std::vector<std::string> tmuxEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string v = *e;
    for (const char* drop : {"LANG=", "LC_ALL=", "LC_CTYPE=", "TMUX=", "TMUX_PANE="})
      if (v.rfind(drop, 0) == 0) v.clear();
    if (!v.empty()) env.push_back(v);
  }
  env.push_back("LANG=C.UTF-8");
  return env;
}

// Runs argv (argv[0] a path) to completion, killed after `timeout`.
CmdResult runCommand(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  std::vector<std::string> env = tmuxEnvironment();
  std::vector<char*> args, envp;  // built before fork: only exec-safe calls after it
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  pid_t pid = fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid == 0) {
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    // Nothing else: a tmux server daemonizes and outlives the test, and must
    // not hold, say, the fd of a `flock` that serializes test runs.
    syscall(SYS_close_range, 3U, ~0U, 0U);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  CmdResult r;
  const auto deadline = Clock::now() + timeout;
  bool killed = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      killed = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    int rc = poll(&p, 1, int(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;  // timeout: handled at the top
    char buf[4096];
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.out.append(buf, size_t(n));
  }
  close(out[0]);
  waitpid(pid, &r.status, 0);
  if (killed) r.out += "\n(killed after timeout)";
  return r;
}

std::string tmuxSocketDir() {
  const char* tmp = getenv("TMUX_TMPDIR");
  return std::string(tmp && *tmp ? tmp : "/tmp") + "/tmux-" + std::to_string(geteuid());
}

// Servers of earlier test processes that died without cleaning up (SIGKILL):
// sockets "na-top-<pid>" whose pid is gone.
void killOrphanServers(const std::string& tmux) {
  const std::string dir = tmuxSocketDir();
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> orphans;
  while (dirent* e = readdir(d)) {
    int owner = 0;
    if (std::sscanf(e->d_name, "na-top-%d", &owner) != 1 || owner <= 0) continue;
    if (kill(owner, 0) != 0 && errno == ESRCH) orphans.push_back(e->d_name);
  }
  closedir(d);
  for (const auto& name : orphans) {
    runCommand({tmux, "-L", name, "kill-server"}, std::chrono::seconds(5));
    unlink((dir + "/" + name).c_str());
  }
  // Their scratch directories, /tmp/na-top-<pid>-XXXXXX.
  std::error_code ec;
  std::vector<std::filesystem::path> stale;
  for (const auto& e : std::filesystem::directory_iterator("/tmp", ec)) {
    int owner = 0;
    const std::string name = e.path().filename().string();
    if (std::sscanf(name.c_str(), "na-top-%d-", &owner) != 1 || owner <= 0) continue;
    if (kill(owner, 0) != 0 && errno == ESRCH) stale.push_back(e.path());
  }
  for (const auto& p : stale) std::filesystem::remove_all(p, ec);
}

// ---- reading the screen (support/screen.hpp) ----

// Row index (first line) of the '>' cursor, or -1.
int cursorRow(const Screen& s) {
  for (size_t i = 0; i < s.size(); ++i)
    if (!s[i].empty() && s[i][0] == '>' && s[i].find(" =>") != std::string::npos) return int(i);
  return -1;
}

bool hasHeader(const Screen& s) {
  return std::any_of(s.begin(), s.end(),
                     [](const std::string& l) { return l.rfind("netacct top ", 0) == 0; });
}

// NETACCT_TEST_VERBOSE: print the screens the assertions read.
void verbose(const std::string& what, const Screen& s) {
  if (std::getenv("NETACCT_TEST_VERBOSE") != nullptr)
    std::fprintf(stderr, "%s\n%s\n", what.c_str(), show(s).c_str());
}

// 'text' for sh, whatever it holds: the checkout may live in any directory.
std::string shellQuote(const std::string& text) {
  std::string q = "'";
  for (char c : text) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- a netacct top in a tmux pane ----

class TmuxTop {
 public:
  // Starts `netacct top --backend B` in a fresh 80x24 pane on a private
  // socket; throws if tmux cannot start it.
  TmuxTop(const std::string& bin, const std::string& backend) : bin_(bin) {
    killOrphanServers(bin_);
    socket_ = "na-top-" + std::to_string(getpid());
    session_ = socket_ + "-" + std::to_string(++counter_);
    std::string tmpl = "/tmp/" + socket_ + "-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr)
      throw std::system_error(errno, std::generic_category(), "mkdtemp");
    dir_ = tmpl;
    // The wrapper records the terminal's settings before and after netacct,
    // and its exit code; `timeout` bounds netacct even if this test dies
    // (--foreground keeps it in the pane's foreground process group).
    std::ofstream(dir_ + "/run.sh")
        // Ctrl-C reaches the whole foreground group: the wrapper outlives
        // it (a handler, not '' which netacct would inherit as ignored).
        << "trap : INT\n"
        << "export LANG=C.UTF-8\n"
        << "unset LC_ALL LC_CTYPE\n"
        << "D=" << shellQuote(dir_) << "\n"
        << "stty -g > \"$D/stty.before\"\n"
        << "timeout --foreground -k 5 " << scaledSeconds(120) << " " << shellQuote(netacctBinary())
        << " top --no-wire --backend " << shellQuote(backend) << " 2> \"$D/stderr\"\n"
        << "rc=$?\n"
        << "echo $rc > \"$D/rc\"\n"
        << "stty -g > \"$D/stty.after\"\n"
        // The pane stays alive until the test has looked at the terminal
        // netacct left behind (tmux hides the cursor of a dead pane).
        << "i=0; while [ ! -e \"$D/done\" ] && [ $i -lt " << scaledSeconds(60) * 10
        << " ]; do sleep 0.1; i=$((i+1)); done\n"
        << "exit $rc\n";
    // remain-on-exit before the pane exists: the pane stays (dead) after
    // netacct exits, so its exit status and screen can be inspected.
    CmdResult r = tmux({"start-server", ";", "set-option", "-g", "remain-on-exit", "on", ";",
                        "new-session", "-d", "-s", session_, "-c", "/", "-x", "80", "-y", "24",
                        "sh " + shellQuote(dir_ + "/run.sh")});
    if (!r.ok()) {
      cleanup();  // no destructor runs for a constructor that throws
      throw std::runtime_error("tmux new-session failed: " + r.out);
    }
  }
  ~TmuxTop() { cleanup(); }
  TmuxTop(const TmuxTop&) = delete;
  TmuxTop& operator=(const TmuxTop&) = delete;

  CmdResult tmux(std::vector<std::string> args) {
    args.insert(args.begin(), {bin_, "-f", "/dev/null", "-L", socket_, "-u"});
    return runCommand(args, scaled(10));
  }
  std::string target() const { return "=" + session_ + ":"; }

  Screen capture() {
    CmdResult r = tmux({"capture-pane", "-p", "-t", target()});
    if (!r.ok()) throw std::runtime_error("capture-pane failed: " + r.out);
    return lines(r.out);
  }
  // One tmux format of the pane, e.g. "#{pane_dead}".
  std::string format(const std::string& f) {
    CmdResult r = tmux({"display-message", "-p", "-t", target(), f});
    if (!r.ok()) throw std::runtime_error("display-message failed: " + r.out);
    std::string v = r.out;
    while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
    return v;
  }
  // Key names as tmux knows them: "j", "Down", "Enter", "BSpace".
  void keys(const std::string& key) {
    CmdResult r = tmux({"send-keys", "-t", target(), key});
    if (!r.ok()) throw std::runtime_error("send-keys " + key + " failed: " + r.out);
  }

  // Polls the screen until pred holds; returns the last screen either way.
  Screen waitScreen(const std::function<bool(const Screen&)>& pred,
                    std::chrono::milliseconds timeout, bool* met) {
    const auto deadline = Clock::now() + timeout;
    Screen s = capture();
    while (!(*met = pred(s)) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      s = capture();
    }
    return s;
  }

  std::string file(const std::string& name) const { return slurp(dir_ + "/" + name); }
  void release() { std::ofstream(dir_ + "/done") << "\n"; }
  std::string diagnostics() {
    return "netacct stderr: " + file("stderr") + "\nexit code file: " + file("rc");
  }

 private:
  static inline int counter_ = 0;
  std::string bin_, socket_, session_, dir_;

  void cleanup() noexcept {
    try {
      tmux({"kill-server"});  // SIGHUP to netacct: it detaches and exits
    } catch (const std::exception& e) {
      std::fprintf(stderr, "tmux kill-server: %s\n", e.what());
    }
    unlink((tmuxSocketDir() + "/" + socket_).c_str());
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
};

#define KT_REQUIRE_TMUX(path)                                                           \
  do {                                                                                  \
    if ((path).empty()) {                                                               \
      if (::kt::ciMode()) FAIL() << "tmux is required (CI=true): apt-get install tmux"; \
      GTEST_SKIP() << "tmux is not installed";                                          \
    }                                                                                   \
  } while (0)

class TopTmux : public KernelTest {};

// Sends `key`; netacct must exit 0 leaving the terminal as it found it:
// primary screen, cursor shown, same stty settings. Looked at after netacct
// exited, while the wrapper shell still holds the pane; then the pane's
// process must end.
void expectQuitRestoresTerminal(TmuxTop& top, const std::string& key) {
  top.keys(key);
  auto deadline = Clock::now() + scaled(10);
  while (top.file("stty.after").empty() && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_FALSE(top.file("stty.after").empty()) << "netacct did not exit on " << key << "\n"
                                               << show(top.capture());
  EXPECT_EQ(top.file("rc"), "0\n") << top.diagnostics();
  EXPECT_EQ(top.format("#{alternate_on}"), "0") << "still on the alternate screen";
  EXPECT_EQ(top.format("#{cursor_flag}"), "1") << "cursor left hidden";
  const std::string before = top.file("stty.before"), after = top.file("stty.after");
  EXPECT_FALSE(before.empty());
  EXPECT_EQ(after, before) << "terminal settings not restored";
  Screen s = top.capture();
  verbose("after " + key, s);
  EXPECT_FALSE(hasHeader(s)) << "the live view is still on the primary screen\n" << show(s);
  top.release();  // the wrapper exits with netacct's code: the pane's process ends
  // pane_dead is the pane's pty closing (every process on it gone). Not
  // pane_dead_status: tmux 3.3a here sometimes misses the shell's SIGCHLD
  // and reaps it only at its next child's exit; netacct's own exit code is
  // checked above, from the wrapper.
  deadline = Clock::now() + scaled(10);
  while (top.format("#{pane_dead}") != "1" && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(top.format("#{pane_dead}"), "1") << "the pane's process did not end";
}

// Waits for the header; false (with the screen and netacct's stderr in the
// failure) if netacct exited or never drew it.
::testing::AssertionResult waitHeader(TmuxTop& top) {
  bool met = false;
  // Stops early if netacct exited (the wrapper wrote its exit code).
  Screen s = top.waitScreen(
      [&](const Screen& sc) { return hasHeader(sc) || !top.file("rc").empty(); }, scaled(20), &met);
  if (met && hasHeader(s)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no `netacct top` header\n"
                                       << show(s) << "\n"
                                       << top.diagnostics();
}

// The client's pace: 256 KiB every 100 ms for 4 s, i.e. 2.5 MiB/s, when the
// machine keeps up. A slow machine (the TCG qemu guest) may not: the rate on
// screen is compared with what the client actually sent, from the times it
// recorded after each chunk in memory shared with the test.
constexpr uint64_t kChunk = 256 * KiB;
constexpr int kChunks = 40;
constexpr auto kPeriod = std::chrono::milliseconds(100);

// Written by the client (steady clock, shared by every process), read by the test.
struct Progress {
  std::atomic<int64_t> sent_at_ns[kChunks];  // 0: not sent yet
};

// A MAP_SHARED page that survives fork.
class SharedProgress {
 public:
  SharedProgress() {
    void* p =
        mmap(nullptr, sizeof(Progress), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    p_ = new (p) Progress{};
  }
  ~SharedProgress() { munmap(p_, sizeof(Progress)); }
  SharedProgress(const SharedProgress&) = delete;
  SharedProgress& operator=(const SharedProgress&) = delete;
  Progress* get() const { return p_; }

  // Bytes the client had sent in the 2 s before `end`.
  uint64_t sentIn2sBefore(Clock::time_point end) const {
    const int64_t hi =
        std::chrono::duration_cast<std::chrono::nanoseconds>(end.time_since_epoch()).count();
    const int64_t lo = hi - 2'000'000'000;
    uint64_t bytes = 0;
    for (const auto& t : p_->sent_at_ns) {
      const int64_t v = t.load();
      if (v > lo && v <= hi) bytes += kChunk;
    }
    return bytes;
  }
  // The lowest and highest 2 s rate of the client for windows ending
  // between `from` and `to` (the refresh shown on screen ended in there).
  std::pair<double, double> rateRange(Clock::time_point from, Clock::time_point to) const {
    double lo = 1e300, hi = 0;
    for (auto end = from; end <= to; end += std::chrono::milliseconds(20)) {
      const double r = double(sentIn2sBefore(end)) / 2.0;
      lo = std::min(lo, r);
      hi = std::max(hi, r);
    }
    return {lo, hi};
  }

 private:
  Progress* p_ = nullptr;
};

TEST_F(TopTmux, ShowsRateDrillsDownCountsExactlyAndRestoresTheTerminal) {
  const std::string tmux = findTmux();
  KT_REQUIRE_TMUX(tmux);
  TmuxTop top(tmux, testBackend());
  ASSERT_EQ(top.format("#{window_width}x#{window_height}"), "80x24");

  ASSERT_TRUE(waitHeader(top));
  bool met = false;
  Screen s;

  // Server in A counts what it reads; client in B sends at a steady pace
  // (absolute deadlines, so a slow send does not stretch the schedule).
  SharedProgress progress;
  Progress* shared = progress.get();
  auto server = tcpServerA(AF_INET, "na-toprx",
                           [](int fd, ChildCtx& ctx) { ctx.counts.rx += recvToEof(fd); });
  auto client = tcpClientB(server.ep, "na-toptx", [shared](int fd, ChildCtx& ctx) {
    ctx.post(1);  // connected: the pace starts now
    auto next = Clock::now();
    for (int i = 0; i < kChunks; ++i) {
      ctx.counts.tx += sendBytes(fd, kChunk);
      shared->sent_at_ns[i] =
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
              .count();
      next += kPeriod;
      std::this_thread::sleep_until(next);
    }
  });
  client.nextPost();
  const auto traffic_start = Clock::now();
  const pid_t pid = client.pid();
  const std::string spid = std::to_string(pid);

  // 1. Processes view: the client's row, with its 2 s sent rate once the
  //    traffic has run for more than the 2 s window: within a factor of 1.5
  //    of what the client sent in the 2 s before some refresh in the last
  //    refresh period (1 s, stretched on a slow machine).
  std::this_thread::sleep_until(traffic_start + std::chrono::milliseconds(2500));
  const auto before_capture = Clock::now();
  s = top.waitScreen([&](const Screen& sc) { return rowOf(sc, pid) >= 0; }, scaled(10), &met);
  const auto after_capture = Clock::now();
  verbose("processes view while sending", s);
  ASSERT_TRUE(met) << "no row for the client, PID " << pid << "\n" << show(s);
  {
    const std::string& l1 = s[size_t(rowOf(s, pid))];
    auto id = words(l1.substr(1, l1.find(" =>") - 1));
    ASSERT_GE(id.size(), 3u) << l1;
    EXPECT_EQ(id[0], spid);
    EXPECT_EQ(id[2], "na-toptx") << l1;
    auto nums = numbersAfter(l1, "=>");
    ASSERT_GE(nums.size(), 5u) << l1;
    const double rate = parseCompact(nums[0]);
    const auto [lo, hi] = progress.rateRange(
        before_capture - std::chrono::milliseconds(1000) - scaledMs(500), after_capture);
    EXPECT_GE(rate, lo / 1.5) << "2 s sent rate " << nums[0] << " vs the client's " << lo << ".."
                              << hi << " B/s\n"
                              << show(s);
    EXPECT_LE(rate, hi * 1.5) << "2 s sent rate " << nums[0] << " vs the client's " << lo << ".."
                              << hi << " B/s\n"
                              << show(s);
    EXPECT_GT(hi, 0.0) << "the client sent nothing in 2 s";
    EXPECT_NE(s[0].find("  processes  bytes/s  "), std::string::npos) << s[0];
  }

  // 2. Move the cursor onto the client's row (rows may swap places at a
  //    refresh: the server moves the same bytes), Enter, and check the
  //    drill-down names the client; retried if a refresh moved the row
  //    between reading the screen and pressing Enter.
  bool drilled = false;
  int moves = 0, wrong = 0;
  const std::string title = "connections of PID " + spid;
  for (int attempt = 0; attempt < 30 && !drilled; ++attempt) {
    s = top.capture();
    int row = rowOf(s, pid), cur = cursorRow(s);
    ASSERT_GE(row, 0) << "client row gone\n" << show(s);
    if (cur != row) {
      // Both keys of each direction are part of the contract.
      bool down = cur < row;
      top.keys(down ? (attempt % 2 ? "j" : "Down") : (attempt % 2 ? "k" : "Up"));
      ++moves;
      top.waitScreen([&](const Screen& sc) { return cursorRow(sc) != cur; }, scaled(2), &met);
      continue;
    }
    ASSERT_EQ(s[size_t(row) + 1].substr(0, 1), ">") << "the cursor marks both lines of the row\n"
                                                    << show(s);
    top.keys("Enter");
    s = top.waitScreen(
        [](const Screen& sc) {
          return !sc.empty() && sc[0].find("connections of PID") != std::string::npos;
        },
        scaled(5), &met);
    ASSERT_TRUE(met) << "Enter did not drill down\n" << show(s);
    drilled = s[0].find(title) != std::string::npos;
    if (!drilled) {
      ++wrong;
      top.keys("BSpace");  // drilled into another row: back and retry
      top.waitScreen(
          [](const Screen& sc) {
            return !sc.empty() && sc[0].find("  processes  ") != std::string::npos;
          },
          scaled(5), &met);
    }
  }
  ASSERT_TRUE(drilled) << "could not select the client's row\n" << show(s);
  verbose("selection: " + std::to_string(moves) + " moves, " + std::to_string(wrong) +
              " drills into another row",
          {});
  const std::string to = "to " + server.ep.str();
  s = top.waitScreen(
      [&](const Screen& sc) {
        int r = rowOf(sc, pid);
        return r >= 0 && sc[size_t(r) + 1].find(to) != std::string::npos;
      },
      scaled(5), &met);
  verbose("drilled into the client", s);
  EXPECT_TRUE(met) << "expected a row of PID " << pid << " with \"" << to << "\"\n" << show(s);

  // 3. After the client sent everything: cumulative mode, exact bytes.
  const Counts c = client.finish(), sv = server.child.finish();
  EXPECT_EQ(c.tx, kChunk * kChunks);
  EXPECT_EQ(sv.rx, c.tx);
  top.keys("c");
  const std::string exact = std::to_string(c.tx);
  auto totalOf = [&](const Screen& sc, pid_t p, const std::string& arrow) -> std::string {
    int r = rowOf(sc, p);
    if (r < 0) return "";
    auto nums = numbersAfter(sc[size_t(r) + (arrow == "=>" ? 0 : 1)], arrow);
    return nums.size() >= 4 ? nums[3] : "";  // 2s, 10s, 40s bytes, then TOTAL
  };
  s = top.waitScreen(
      [&](const Screen& sc) {
        return !sc.empty() && sc[0].find(title + "  bytes moved") != std::string::npos &&
               totalOf(sc, pid, "=>") == exact;
      },
      scaled(10), &met);
  verbose("connections view, cumulative", s);
  EXPECT_TRUE(met) << "connection TOTAL sent should be exactly " << exact << "\n" << show(s);

  top.keys("BSpace");  // back to the processes view, still cumulative
  s = top.waitScreen(
      [&](const Screen& sc) {
        return !sc.empty() && sc[0].find("  processes  bytes moved") != std::string::npos &&
               totalOf(sc, pid, "=>") == exact && totalOf(sc, server.child.pid(), "<=") == exact;
      },
      scaled(10), &met);
  verbose("processes view, cumulative", s);
  EXPECT_TRUE(met) << "process TOTALs should be exactly " << exact
                   << " (client sent, server received)\n"
                   << show(s);

  // 4. q quits and the terminal is as before.
  expectQuitRestoresTerminal(top, "q");
}

// Ctrl-C is a SIGINT to netacct (ISIG stays on): it quits cleanly too.
TEST_F(TopTmux, CtrlCQuitsAndRestoresTheTerminal) {
  const std::string tmux = findTmux();
  KT_REQUIRE_TMUX(tmux);
  TmuxTop top(tmux, testBackend());
  ASSERT_TRUE(waitHeader(top));
  expectQuitRestoresTerminal(top, "C-c");
}

// Batch mode when stdout is a pipe: plain frames, no escape codes at all.
TEST(TopBatch, PrintsExactlyCountPlainFrames) {
  KT_REQUIRE_KERNEL();
  Process na({"top", "--batch", "--count", "2", "--delay", "0.5", "--backend", testBackend()});
  auto status = na.waitExit(scaled(20));
  ASSERT_TRUE(status) << "netacct top --batch did not exit";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << na.err();
  const std::string out = na.out();
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << "escape character in batch output:\n" << out;
  EXPECT_EQ(out.rfind("netacct top ", 0), 0u) << out;
  // Frames: "netacct top ..." line, two more header lines, a blank line, the
  // column header, rows; a blank line after each frame.
  Screen l = lines(out);
  std::vector<size_t> starts;
  for (size_t i = 0; i < l.size(); ++i)
    if (l[i].rfind("netacct top ", 0) == 0) starts.push_back(i);
  ASSERT_EQ(starts.size(), 2u) << out;
  EXPECT_EQ(starts[0], 0u);
  EXPECT_EQ(l[starts[1] - 1], "") << "frames are separated by a blank line\n" << out;
  for (size_t st : starts) {
    ASSERT_LT(st + 4, l.size()) << out;
    EXPECT_EQ(l[st + 1].rfind("total  sent ", 0), 0u) << l[st + 1];
    EXPECT_EQ(l[st + 2].rfind("cost   ", 0), 0u) << l[st + 2];
    EXPECT_EQ(l[st + 3], "");
    EXPECT_NE(l[st + 4].find("PID USER"), std::string::npos) << l[st + 4];
  }
  EXPECT_TRUE(out.size() >= 2 && out.substr(out.size() - 2) == "\n\n")
      << "frame not closed by a blank line";
}

}  // namespace
}  // namespace kt
