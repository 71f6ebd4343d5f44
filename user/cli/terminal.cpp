#include "cli/terminal.hpp"

#include <fcntl.h>
#include <langinfo.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <clocale>
#include <cstring>

namespace netacct {
namespace {

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += size_t(n);
  }
}

winsize window_size(int fd) {
  winsize ws{};
  if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) ws = {24, 80, 0, 0};
  return ws;
}

}  // namespace

std::unique_ptr<Terminal> Terminal::open(int in_fd, int out_fd) {
  termios saved{};
  if (!isatty(in_fd) || !isatty(out_fd) || tcgetattr(in_fd, &saved) != 0) return nullptr;
  termios raw = saved;
  // No echo, no line buffering; ISIG stays so Ctrl-C is a SIGINT the loop handles.
  raw.c_lflag &= ~tcflag_t(ICANON | ECHO);
  raw.c_cc[VMIN] = 0;
  raw.c_cc[VTIME] = 0;
  tcsetattr(in_fd, TCSANOW, &raw);
  write_all(out_fd, "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J");  // alternate screen, hide cursor
  return std::unique_ptr<Terminal>(new Terminal(in_fd, out_fd, saved));
}

Terminal::~Terminal() {
  write_all(out_, "\x1b[?25h\x1b[?1049l");
  tcsetattr(in_, TCSANOW, &saved_);
}

size_t Terminal::width() const { return window_size(out_).ws_col; }
size_t Terminal::height() const { return window_size(out_).ws_row; }

void Terminal::draw(const std::vector<std::string>& lines) {
  std::string frame = "\x1b[H";
  for (size_t i = 0; i < lines.size(); ++i) {
    frame += lines[i];
    frame += "\x1b[K";
    if (i + 1 < lines.size()) frame += "\r\n";
  }
  write_all(out_, frame);
}

std::string Terminal::read_input() {
  std::string in;
  char buf[256];
  for (ssize_t n; (n = read(in_, buf, sizeof buf)) > 0;) in.append(buf, size_t(n));
  return in;
}

bool utf8_locale() {
  setlocale(LC_CTYPE, "");
  return strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

}  // namespace netacct
