#include "cli/write_error.hpp"

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

#include "cli/error_line.hpp"

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
  std::cerr << error_line(std::string("cannot write the ") + what + ": " + std::strerror(*err_));
  return 1;
}

}  // namespace netacct
