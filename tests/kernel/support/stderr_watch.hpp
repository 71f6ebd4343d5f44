// Looks at the kernel at the moment a process writes to its stderr. The
// process is started with Spawn::watch_stderr: every write(2, ...) or
// writev(2, ...) it makes stops on a seccomp user notification until this
// watcher lets it through, after calling `at_line` whenever the write begins
// a new line. So "everything is unloaded before the error is printed" can be
// checked while netacct is about to print the error, not after it exited
// (when the kernel would have closed every fd anyway).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "netacct.hpp"

namespace kt {

class StderrWatch {
 public:
  // `at_line(text_so_far)` runs on the watcher's thread while the writer is
  // stopped before the first byte of each line; what it returns is kept with
  // the line (e.g. a description of what is still loaded).
  using AtLine = std::function<std::string(const std::string& text_so_far)>;
  StderrWatch(Process& p, AtLine at_line);
  ~StderrWatch();  // keeps answering until the process exits, then stops
  StderrWatch(const StderrWatch&) = delete;
  StderrWatch& operator=(const StderrWatch&) = delete;

  struct Line {
    std::string text;  // the whole line (without '\n', once complete)
    std::string at;    // what at_line returned before it was written
  };
  std::vector<Line> lines();  // so far
  std::string text();         // everything written to stderr so far

 private:
  void run();
  Process& proc_;
  AtLine at_line_;
  int listener_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::string text_;
  std::vector<Line> lines_;
  std::thread thread_;
};

}  // namespace kt
