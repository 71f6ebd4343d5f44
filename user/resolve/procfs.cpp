#include "resolve/procfs.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <sstream>
#include <string_view>
#include <vector>

namespace netacct {

ProcIo ProcIo::system() {
  return {.read = [](const std::string& path, size_t max, int* err) -> std::optional<std::string> {
            int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
              *err = errno;
              return std::nullopt;
            }
            std::string text(max, '\0');
            size_t got = 0;
            ssize_t n = 0;
            while (got < max && (n = ::read(fd, text.data() + got, max - got)) > 0)
              got += size_t(n);
            if (n < 0) *err = errno;
            ::close(fd);
            if (n < 0) return std::nullopt;
            text.resize(got);
            return text;
          },
          .readlink = [](const std::string& path, int* err) -> std::optional<std::string> {
            char buf[4096];
            ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
            if (n < 0) *err = errno;
            if (n < 0) return std::nullopt;
            return std::string(buf, size_t(n));
          }};
}

ProcFs::ProcFs(std::string root, ProcIo io) : root_(std::move(root)), io_(std::move(io)) {
  long hz = sysconf(_SC_CLK_TCK);
  ns_per_tick_ = 1000000000ULL / uint64_t(hz > 0 ? hz : 100);
}

bool ProcFs::alive(const ProcId& id) const {
  // Called for every known process at every refresh: one read(), no streams.
  int err = 0;
  auto text = io_.read(root_ + "/" + std::to_string(id.tgid) + "/stat", 1023, &err);
  if (!text) return err != ENOENT && err != ESRCH;
  std::optional<StatFacts> stat = parse_stat(*text);
  if (!stat) return true;  // unreadable: says nothing about the process
  return !stat->dead && stat->start_ticks == id.start_ns / ns_per_tick_;
}

bool ProcFs::pid_exists(uint32_t pid) const {
  return std::filesystem::exists(root_ + "/" + std::to_string(pid));
}

std::optional<std::string> ProcFs::exe(uint32_t tgid) const {
  int err = 0;
  return io_.readlink(root_ + "/" + std::to_string(tgid) + "/exe", &err);
}

std::optional<uint32_t> ProcFs::ns_pid(uint32_t tgid) const {
  auto text = status(tgid);
  return text ? status_ns_pid(*text) : std::nullopt;
}

std::vector<uint32_t> ProcFs::named(const std::string& comm) const {
  std::vector<uint32_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(root_, ec)) {
    std::string name = entry.path().filename().string();
    uint32_t pid = 0;
    auto [end, err] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (err != std::errc() || end != name.data() + name.size()) continue;
    int read_err = 0;
    auto text = io_.read(entry.path() / "comm", 256, &read_err);
    if (text && *text == comm + "\n") out.push_back(pid);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> ProcFs::status(uint32_t pid) const {
  int err = 0;
  return io_.read(root_ + "/" + std::to_string(pid) + "/status", 64 * 1024, &err);
}

std::optional<std::string> ProcFs::command_line(uint32_t pid) const {
  int err = 0;
  auto text = io_.read(root_ + "/" + std::to_string(pid) + "/cmdline", 64 * 1024, &err);
  if (!text) return std::nullopt;
  while (!text->empty() && text->back() == '\0') text->pop_back();
  std::replace(text->begin(), text->end(), '\0', ' ');
  return text;
}

std::optional<StatusPrivileges> status_privileges(std::string_view status) {
  StatusPrivileges out;
  int seen = 0;
  auto hex = [](std::string_view v, uint64_t* mask) {
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), *mask, 16);
    return ec == std::errc() && end == v.data() + v.size() && !v.empty();
  };
  while (!status.empty()) {
    size_t eol = std::min(status.find('\n'), status.size());
    std::string_view line = status.substr(0, eol);
    status.remove_prefix(std::min(eol + 1, status.size()));
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon), value = line.substr(colon + 1);
    value.remove_prefix(std::min(value.find_first_not_of(" \t"), value.size()));
    if (key == "Uid") {
      // real, effective, saved, filesystem: the effective one
      size_t tab = value.find_first_of(" \t");
      if (tab == std::string_view::npos) return std::nullopt;
      value.remove_prefix(tab);
      value.remove_prefix(std::min(value.find_first_not_of(" \t"), value.size()));
      value = value.substr(0, std::min(value.find_first_of(" \t"), value.size()));
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out.uid);
      if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
      seen |= 1;
    } else if (key == "CapEff") {
      if (!hex(value, &out.effective)) return std::nullopt;
      seen |= 2;
    } else if (key == "CapPrm") {
      if (!hex(value, &out.permitted)) return std::nullopt;
      seen |= 4;
    } else if (key == "CapBnd") {
      if (!hex(value, &out.bounding)) return std::nullopt;
      seen |= 8;
    } else if (key == "NoNewPrivs") {
      out.no_new_privs = value == "1";
    }
  }
  if (seen != 15) return std::nullopt;
  return out;
}

std::optional<uint64_t> stat_start_ticks(std::string_view line) {
  std::optional<StatFacts> stat = parse_stat(line);
  if (!stat || stat->dead) return std::nullopt;
  return stat->start_ticks;
}

std::optional<StatFacts> parse_stat(std::string_view line) {
  // comm may contain spaces and parentheses: fields resume after the last ')'.
  auto close_paren = line.rfind(')');
  if (close_paren == std::string_view::npos) return std::nullopt;
  line.remove_prefix(close_paren + 1);
  // Fields 3 (state) .. 22 (starttime), separated by single spaces.
  StatFacts facts;
  std::string_view field;
  for (int i = 3; i <= 22; ++i) {
    line.remove_prefix(std::min(line.find_first_not_of(' '), line.size()));
    size_t len = std::min(line.find(' '), line.size());
    field = line.substr(0, len);
    line.remove_prefix(len);
    if (field.empty()) return std::nullopt;
    if (i == 3) facts.dead = field == "Z" || field == "X";
  }
  auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), facts.start_ticks);
  if (ec != std::errc() || ptr != field.data() + field.size()) return std::nullopt;
  return facts;
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
