// cgroup id -> path -> container or unit name. A cgroup v2 id is the inode
// number of its directory, so the mount is walked once and cached.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace netacct {

// The cgroup2 mount point from a mountinfo file, or nullopt. Read from
// /proc/self/mountinfo, not assumed: hybrid hosts mount it at
// /sys/fs/cgroup/unified and `ip netns exec` hides /sys mounts entirely.
std::optional<std::string> find_cgroup2_mount(
    const std::string& mountinfo = "/proc/self/mountinfo");
// The same from a mountinfo file's text (tests/fuzz feeds it).
std::optional<std::string> cgroup2_mount_in(std::string_view mountinfo);

// Name a cgroup path the way its runtime does: "docker:0123456789ab",
// "containerd:...", "podman:...", "crio:...", "cri:..." (a Kubernetes
// container under the cgroupfs driver), "lxc:<name>", or a systemd service
// ("nginx.service"). nullopt for anything else (user sessions, the root).
// The path alone, no state read: resolve/containers.hpp's ContainerNamer
// gives the names operators know. Defined in containers.cpp.
std::optional<std::string> container_name(const std::string& cgroup_path);

class CgroupResolver {
 public:
  // Deleted cgroups whose paths are kept; the oldest are forgotten first.
  static constexpr std::size_t kMaxRetired = 8192;

  explicit CgroupResolver(std::optional<std::string> mount = find_cgroup2_mount(),
                          std::size_t max_retired = kMaxRetired);
  // Path relative to the cgroup2 root ("/system.slice/ssh.service"); a
  // cgroup deleted after it was seen keeps its path.
  std::optional<std::string> path(uint64_t cgroup_id);

 private:
  struct Known {
    std::string path;
    uint64_t walk;  // the last rescan that found it
  };
  std::optional<std::string> mount_;
  std::size_t max_retired_;
  std::unordered_map<uint64_t, Known> paths_;
  std::deque<uint64_t> retired_;  // ids gone from the tree, oldest first
  uint64_t walk_ = 0;
  std::unordered_set<uint64_t> missing_;
  void rescan();
  void retire_gone();
};

}  // namespace netacct
