// Runs the netacct binary under test (NETACCT_BIN) with its stdout and stderr
// drained by a thread, so a chatty report can never block it on a full pipe.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "env.hpp"

namespace kt {

using namespace std::chrono_literals;

// How a Process is started, beyond its arguments. Everything here is done in
// the forked child before exec, so the test process itself is unchanged.
struct Spawn {
  std::vector<std::string> env;  // "NAME=value" added or replaced; "NAME" alone unsets
  std::optional<rlim_t> nofile;  // RLIMIT_NOFILE (soft and hard)
  int stderr_fd = -1;            // netacct's stderr goes here (not drained); err() stays empty
  int stdout_fd = -1;            // netacct's stdout goes here (not drained); out() stays empty
  std::string netns;             // run in this network namespace (name under /run/netns)
  // (file, over) pairs bind-mounted in a private mount namespace: e.g. a
  // test's own resolv.conf over /etc/resolv.conf, seen by netacct alone.
  std::vector<std::pair<std::string, std::string>> binds;
  // Every write netacct makes to its stderr first stops for a seccomp user
  // notification (support/stderr_watch.hpp), so a test can look at the
  // kernel while netacct is about to print a given line.
  bool watch_stderr = false;
  // Capabilities netacct must not have (CAP_* numbers; every one when
  // `drop_every_cap`): removed from the bounding and inheritable sets and the
  // ambient set cleared, after the binds, as `setpriv --inh-caps=-CAP
  // --bounding-set=-CAP` would, so even root starts netacct without them.
  std::vector<int> drop_caps;
  bool drop_every_cap = false;
};

// A spawned netacct process (any arguments).
class Process {
 public:
  explicit Process(const std::vector<std::string>& args, const Spawn& how = {});
  ~Process();  // stops a process still running (SIGTERM, then SIGKILL)
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // The seccomp listener of a Spawn::watch_stderr process (owned by the caller).
  int takeStderrListener() {
    int fd = listener_fd_;
    listener_fd_ = -1;
    return fd;
  }
  // Waits until pred(stdout, stderr) holds or both streams closed; returns pred.
  bool waitOutput(const std::function<bool(const std::string&, const std::string&)>& pred,
                  std::chrono::milliseconds timeout);
  // Wait status, or nullopt on timeout.
  std::optional<int> waitExit(std::chrono::milliseconds timeout);
  // Wait status if it has exited (reaps it), without waiting.
  std::optional<int> exited() { return waitExit(std::chrono::milliseconds(0)); }
  // Steady-clock times at which each chunk of stdout arrived, with the
  // stdout length after it (for pacing checks: when did a frame appear?).
  std::vector<std::pair<std::chrono::steady_clock::time_point, size_t>> outArrivals();
  std::string out();
  std::string err();

 private:
  void drain();

  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  int out_fd_ = -1;
  int err_fd_ = -1;
  int listener_fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string out_, err_;
  std::vector<std::pair<std::chrono::steady_clock::time_point, size_t>> arrivals_;
  bool closed_ = false;
  std::thread reader_;
};

struct NetacctOptions {
  double interval = 1.0;
  bool loopback = false;
  std::vector<pid_t> pids;
  std::string backend = testBackend();
  std::string format = "json";     // Netacct parses only json; others via Process
  std::vector<std::string> extra;  // more arguments (e.g. --by connection)
};

// Everything a stopped `netacct report` produced.
struct NetacctRun {
  std::optional<int> wait_status;  // nullopt: did not exit, was killed
  double stop_seconds = 0;         // SIGINT -> exit
  std::vector<std::string> lines;  // stdout, one report per line
  std::vector<nlohmann::json> reports;
  std::string out;  // stdout as printed
  std::string err;
  bool exitedZero() const;
  std::string describe() const;  // for failure messages
};

std::vector<std::string> reportArgs(const NetacctOptions& o);

// `netacct report --format json ...` (or another format), started and ready
// on construction.
class Netacct {
 public:
  explicit Netacct(const NetacctOptions& opts = {},
                   const Spawn& how = {});  // throws if never ready
  pid_t pid() const { return proc_.pid(); }
  Process& process() { return proc_; }
  size_t reportLines();
  void waitReportLines(size_t n, std::chrono::milliseconds timeout);  // throws on timeout
  // `sig` (SIGINT or SIGTERM), wait for exit (bounded), and with the json
  // format parse every line (an invalid line is a test failure). netacct must
  // exit 0.
  NetacctRun stop(int sig = SIGINT);

 private:
  Process proc_;
  bool json_ = true;
};

}  // namespace kt
