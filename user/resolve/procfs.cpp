#include "resolve/procfs.hpp"

#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace netacct {

ProcFs::ProcFs(std::string root) : root_(std::move(root)) {
  long hz = sysconf(_SC_CLK_TCK);
  ns_per_tick_ = 1000000000ULL / uint64_t(hz > 0 ? hz : 100);
}

bool ProcFs::alive(const ProcId& id) const {
  std::ifstream in(root_ + "/" + std::to_string(id.tgid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  // comm may contain spaces and parentheses: fields resume after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 1));
  std::string state, field;
  rest >> state;
  if (state == "Z" || state == "X") return false;
  for (int i = 4; i <= 22 && rest >> field; ++i)
    if (i == 22) return std::stoull(field) == id.start_ns / ns_per_tick_;
  return false;
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

std::optional<std::string> user_name(uint32_t uid) {
  struct passwd pw {}, *result = nullptr;
  std::vector<char> buf(4096);
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &result) != 0 || !result) return std::nullopt;
  return std::string(result->pw_name);
}

}  // namespace netacct
