#include "resolve/cgroup.hpp"

#include <sys/stat.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace netacct {

namespace {

// mountinfo writes space, tab, newline and backslash as \ooo octal escapes.
std::string unescape_mount(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    bool octal = s[i] == '\\' && i + 3 < s.size() &&
                 std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
                 std::isdigit(static_cast<unsigned char>(s[i + 2])) &&
                 std::isdigit(static_cast<unsigned char>(s[i + 3]));
    if (octal) {
      out += char((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> find_cgroup2_mount(const std::string& mountinfo) {
  std::ifstream in(mountinfo);
  std::ostringstream text;
  text << in.rdbuf();
  return cgroup2_mount_in(text.str());
}

std::optional<std::string> cgroup2_mount_in(std::string_view mountinfo) {
  std::istringstream in{std::string(mountinfo)};
  std::string line;
  while (std::getline(in, line)) {
    // "... mountpoint options [optional fields] - fstype source superoptions"
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream tail(line.substr(dash + 3));
    std::string fstype;
    tail >> fstype;
    if (fstype != "cgroup2") continue;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, devno, root, mountpoint;
    head >> id >> parent >> devno >> root >> mountpoint;
    return unescape_mount(mountpoint);
  }
  return std::nullopt;
}

CgroupResolver::CgroupResolver(std::optional<std::string> mount, std::size_t max_retired)
    : mount_(std::move(mount)), max_retired_(max_retired) {}

// Walks the whole tree. Paths of ids no longer in it are kept (cgroup ids
// are never reused), so a deleted cgroup keeps its name in every report
// that covers it; the newest max_retired_ of them are kept.
void CgroupResolver::rescan() {
  if (missing_.size() > 4096) missing_.clear();  // bounded memory
  if (!mount_) return;
  ++walk_;
  std::error_code ec;
  struct stat st {};
  if (::stat(mount_->c_str(), &st) == 0) paths_[st.st_ino] = {"/", walk_};
  auto opts = fs::directory_options::skip_permission_denied;
  for (fs::recursive_directory_iterator it(*mount_, opts, ec), end; it != end; it.increment(ec)) {
    if (ec) break;
    if (!it->is_directory(ec)) continue;
    if (::stat(it->path().c_str(), &st) == 0)
      paths_[st.st_ino] = {"/" + fs::relative(it->path(), *mount_).string(), walk_};
  }
  retire_gone();
}

// Ids seen by the previous walk and not by this one were deleted since.
void CgroupResolver::retire_gone() {
  for (const auto& [id, known] : paths_)
    if (known.walk == walk_ - 1) retired_.push_back(id);
  while (retired_.size() > max_retired_) {
    auto it = paths_.find(retired_.front());
    if (it != paths_.end() && it->second.walk != walk_) paths_.erase(it);
    retired_.pop_front();
  }
}

std::optional<std::string> CgroupResolver::path(uint64_t cgroup_id) {
  auto it = paths_.find(cgroup_id);
  if (it == paths_.end() && !missing_.count(cgroup_id)) {
    rescan();  // a new cgroup since the last walk
    it = paths_.find(cgroup_id);
    // A cgroup removed before we saw it never comes back: do not walk the
    // tree for it again.
    if (it == paths_.end()) missing_.insert(cgroup_id);
  }
  if (it == paths_.end()) return std::nullopt;
  return it->second.path;
}

}  // namespace netacct
