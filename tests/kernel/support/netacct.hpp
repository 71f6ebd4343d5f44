// Runs the netacct binary under test (NETACCT_BIN) with its stdout and stderr
// drained by a thread, so a chatty report can never block it on a full pipe.
#pragma once

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

// A spawned netacct process (any arguments).
class Process {
 public:
  explicit Process(const std::vector<std::string>& args);
  ~Process();  // stops a process still running (SIGTERM, then SIGKILL)
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Waits until pred(stdout, stderr) holds or both streams closed; returns pred.
  bool waitOutput(const std::function<bool(const std::string&, const std::string&)>& pred,
                  std::chrono::milliseconds timeout);
  // Wait status, or nullopt on timeout.
  std::optional<int> waitExit(std::chrono::milliseconds timeout);
  std::string out();
  std::string err();

 private:
  void drain();

  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string out_, err_;
  bool closed_ = false;
  std::thread reader_;
};

struct NetacctOptions {
  double interval = 1.0;
  bool loopback = false;
  std::vector<pid_t> pids;
  std::string backend = testBackend();
};

// Everything a stopped `netacct report` produced.
struct NetacctRun {
  std::optional<int> wait_status;  // nullopt: did not exit, was killed
  double stop_seconds = 0;         // SIGINT -> exit
  std::vector<std::string> lines;  // stdout, one report per line
  std::vector<nlohmann::json> reports;
  std::string err;
  bool exitedZero() const;
  std::string describe() const;  // for failure messages
};

std::vector<std::string> reportArgs(const NetacctOptions& o);

// `netacct report --format json ...`, started and ready on construction.
class Netacct {
 public:
  explicit Netacct(const NetacctOptions& opts = {});  // throws if never ready
  pid_t pid() const { return proc_.pid(); }
  size_t reportLines();
  void waitReportLines(size_t n, std::chrono::milliseconds timeout);  // throws on timeout
  // SIGINT, wait for exit, parse every line (an invalid line is a test failure).
  NetacctRun stop();

 private:
  Process proc_;
};

}  // namespace kt
