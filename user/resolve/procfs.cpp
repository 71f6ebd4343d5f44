#include "resolve/procfs.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <vector>

namespace netacct {

ProcFs::ProcFs(std::string root) : root_(std::move(root)) {
  long hz = sysconf(_SC_CLK_TCK);
  ns_per_tick_ = 1000000000ULL / uint64_t(hz > 0 ? hz : 100);
}

bool ProcFs::alive(const ProcId& id) const {
  // Called for every known process at every refresh: one read(), no streams.
  std::string path = root_ + "/" + std::to_string(id.tgid) + "/stat";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  auto ticks = stat_start_ticks(std::string_view(buf, size_t(n)));
  return ticks && *ticks == id.start_ns / ns_per_tick_;
}

bool ProcFs::pid_exists(uint32_t pid) const {
  return std::filesystem::exists(root_ + "/" + std::to_string(pid));
}

std::optional<std::string> ProcFs::exe(uint32_t tgid) const {
  std::error_code ec;
  auto target = std::filesystem::read_symlink(root_ + "/" + std::to_string(tgid) + "/exe", ec);
  if (ec) return std::nullopt;
  return target.string();
}

std::optional<uint32_t> ProcFs::ns_pid(uint32_t tgid) const {
  std::ifstream in(root_ + "/" + std::to_string(tgid) + "/status");
  std::ostringstream text;
  text << in.rdbuf();
  return status_ns_pid(text.str());
}

std::optional<uint64_t> stat_start_ticks(std::string_view line) {
  // comm may contain spaces and parentheses: fields resume after the last ')'.
  auto close_paren = line.rfind(')');
  if (close_paren == std::string_view::npos) return std::nullopt;
  line.remove_prefix(close_paren + 1);
  // Fields 3 (state) .. 22 (starttime), separated by single spaces.
  std::string_view field;
  for (int i = 3; i <= 22; ++i) {
    line.remove_prefix(std::min(line.find_first_not_of(' '), line.size()));
    size_t len = std::min(line.find(' '), line.size());
    field = line.substr(0, len);
    line.remove_prefix(len);
    if (field.empty()) return std::nullopt;
    if (i == 3 && (field == "Z" || field == "X")) return std::nullopt;
  }
  uint64_t ticks = 0;
  auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), ticks);
  if (ec != std::errc()) return std::nullopt;
  return ticks;
}

std::optional<uint32_t> status_ns_pid(std::string_view status) {
  std::istringstream in{std::string(status)};
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("NSpid:")) continue;
    std::istringstream fields(line.substr(6));
    std::vector<uint64_t> pids;
    for (uint64_t p; fields >> p;) pids.push_back(p);
    // "NSpid: 4242 7": this namespace's PID first, the innermost last.
    if (pids.size() < 2 || pids.back() > UINT32_MAX) return std::nullopt;
    return uint32_t(pids.back());
  }
  return std::nullopt;
}

std::optional<std::string> user_name(uint32_t uid) {
  struct passwd pw {
  }, *result = nullptr;
  std::vector<char> buf(4096);
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) != 0 || !result) return std::nullopt;
  return std::string(result->pw_name);
}

}  // namespace netacct
