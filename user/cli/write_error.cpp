#include "cli/write_error.hpp"

#include <cerrno>
#include <cstring>
#include <iostream>

namespace netacct {

void WriteError::check(bool stream_ok) {
  if (!stream_ok && !err_) err_ = errno ? errno : EIO;
}

EventLoop::Callback WriteError::stopping(EventLoop::Callback tick) {
  return [this, tick = std::move(tick)] {
    EventLoop::Flow flow = tick();
    return failed() ? EventLoop::Flow::stop : flow;
  };
}

int WriteError::exit_status(const char* what) const {
  if (!err_ || *err_ == EPIPE) return 0;
  std::cerr << "netacct: cannot write the " << what << ": " << std::strerror(*err_) << "\n";
  return 1;
}

}  // namespace netacct
