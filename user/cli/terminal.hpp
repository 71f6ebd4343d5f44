// The interactive terminal: raw input, alternate screen, hidden cursor, all
// restored by the destructor (q, SIGINT, SIGTERM and errors unwind to it).
#pragma once
#include <termios.h>

#include <memory>
#include <string>
#include <vector>

namespace netacct {

class Terminal {
 public:
  // nullptr when fd is not a terminal.
  static std::unique_ptr<Terminal> open(int in_fd, int out_fd);
  ~Terminal();
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  size_t width() const;
  size_t height() const;
  // Draws a whole frame in one write: no clearing, so no flicker (every line
  // is already padded to the width).
  void draw(const std::vector<std::string>& lines);
  // Reads what is available on the input without blocking.
  std::string read_input();
  int input_fd() const { return in_; }

 private:
  Terminal(int in, int out, const termios& saved) : in_(in), out_(out), saved_(saved) {}
  int in_, out_;
  termios saved_;
};

// True when the locale's character set is UTF-8 (for block characters).
bool utf8_locale();

}  // namespace netacct
