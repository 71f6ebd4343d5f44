// Files of the test's own bind-mounted over /etc (a hosts file, a
// resolv.conf) in a private mount namespace, seen by one process alone:
// netacct (Spawn::binds) or a traffic child that resolves names.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace kt {

using Binds = std::vector<std::pair<std::string, std::string>>;  // (file, over)

// In a freshly forked process: unshares the mount namespace, makes it
// private, and bind-mounts each file over its target. Only syscalls (safe
// between fork and exec); false on failure, with errno set.
bool bindPrivately(const Binds& binds);

// A file to bind-mount over: created empty when it does not exist (the qemu
// guest has no resolv.conf), and then removed again.
class MountTarget {
 public:
  explicit MountTarget(std::string path);
  ~MountTarget();
  MountTarget(const MountTarget&) = delete;
  MountTarget& operator=(const MountTarget&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool created_ = false;
};

}  // namespace kt
