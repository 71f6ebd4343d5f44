// What a command does when its output cannot be written, decided once for
// report and top's batch frames.
#pragma once
#include <optional>

#include "cli/event_loop.hpp"

namespace netacct {

// Notes a failed write (the stream's state after a flush) and stops the
// loop at the next tick; the command's exit status comes from exit_status().
class WriteError {
 public:
  // Call after each flush with the stream's state; errno is the write's.
  void check(bool stream_ok);
  bool failed() const { return err_.has_value(); }
  // Wraps a tick so that the loop stops once a write failed.
  EventLoop::Callback stopping(EventLoop::Callback tick);
  // A reader that went away (EPIPE, where SIGPIPE is ignored; else SIGPIPE
  // has ended netacct, status 141): 0, quietly, as `| head` expects.
  // Anything else (a full disk, /dev/full): one line on stderr, 1.
  int exit_status(const char* what) const;

 private:
  std::optional<int> err_;
};

}  // namespace netacct
