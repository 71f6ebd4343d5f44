// A cgroup v2 path, as the cgroup walk or a dead cgroup's kernel record
// gives it: any bytes a container owner or a runtime put in directory names.
#include <algorithm>
#include <string>

#include "check.hpp"
#include "resolve/cgroup.hpp"
#include "resolve/containers.hpp"

namespace {

using netacct::fuzz::check;

bool is_hex_id(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The id is joined into a state file's path: for every runtime whose files
// are read it must be 64 hex digits, nothing that walks out of the root.
void check_info(const std::string& path, const netacct::ContainerInfo& c) {
  if (c.runtime.empty()) {
    check(c.name == path && c.id.empty(), "a plain cgroup named other than by its path");
    return;
  }
  bool read_state = c.runtime == "docker" || c.runtime == "containerd" || c.runtime == "crio" ||
                    c.runtime == "podman" || c.runtime == "cri";
  if (read_state) {
    check(is_hex_id(c.id), "a runtime id that is not 64 hex digits");
    check(c.name == c.id.substr(0, 12), "a container not named by its short id");
  } else {
    check(c.runtime == "lxc" || c.runtime == "systemd", "an unknown runtime");
    check(!c.id.empty() && c.id.find('/') == std::string::npos, "an LXC or unit id with a '/'");
  }
  check(path.find(c.id) != std::string::npos, "an id that is not in the path");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path(netacct::fuzz::text(data, size));
  netacct::ContainerInfo c = netacct::classify_cgroup(path);
  check_info(path, c);
  auto old = netacct::container_name(path);
  check(!old || !c.runtime.empty(), "an old-style name for a plain cgroup");
  return 0;
}
