#include "kernel/privilege.hpp"

#include <algorithm>

namespace netacct {

std::vector<int> capabilities_needed(const RunNeeds& needs) {
  std::vector<int> caps{CAP_SYS_PTRACE};
  if (needs.other_user) caps.push_back(CAP_DAC_READ_SEARCH);
  if (needs.wire) caps.push_back(CAP_NET_ADMIN);
  if (needs.bpf_gated) caps.push_back(needs.cap_bpf ? kCapBpf : CAP_SYS_ADMIN);
  if (needs.bind_port) caps.push_back(CAP_NET_BIND_SERVICE);
  std::sort(caps.begin(), caps.end());
  return caps;
}

std::vector<int> bounding_set(const RunNeeds& needs) {
  RunNeeds bound = needs;
  bound.bind_port = false;
  return capabilities_needed(bound);
}

std::vector<int> guard_capabilities() { return {CAP_NET_ADMIN}; }

uint64_t capability_mask(const std::vector<int>& caps) {
  uint64_t mask = 0;
  for (int c : caps) mask |= uint64_t(1) << c;
  return mask;
}

}  // namespace netacct
