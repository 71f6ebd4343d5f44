// /proc/self/mountinfo: where the cgroup2 hierarchy is mounted (a mount
// point may hold \ooo escapes).
#include "check.hpp"
#include "resolve/cgroup.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto mountinfo = netacct::fuzz::text(data, size);
  auto mount = netacct::cgroup2_mount_in(mountinfo);
  netacct::fuzz::check(!mount || mountinfo.find("cgroup2") != std::string_view::npos,
                       "a cgroup2 mount from a file that names none");
  netacct::fuzz::check(!mount || mount->size() <= mountinfo.size(),
                       "a mount point longer than the file");
  return 0;
}
