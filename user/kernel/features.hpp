// What this kernel and this process can do, probed once. Backend choice
// depends only on these probes, never on the kernel version string.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "cli/options.hpp"

namespace netacct {

struct Capabilities {
  bool known = false;  // capget worked
  bool bpf = false, perfmon = false, sys_admin = false;
  // CAP_BPF + CAP_PERFMON (Linux >= 5.8), or CAP_SYS_ADMIN, load tracing programs.
  bool enough() const { return sys_admin || (bpf && perfmon); }
  std::string missing() const;  // "CAP_BPF and CAP_PERFMON" or ""
};

struct BackendStatus {
  Backend backend;
  bool available = false;
  std::string why;  // reason when unavailable, hooks when available
};

struct Features {
  std::string kernel_release;
  bool btf = false;
  std::string lockdown;  // "none", "integrity", "confidentiality" or "unknown"
  Capabilities caps;
  bool root = false;
  bool has_inet_sendpage = false;       // sendfile path before Linux 6.5
  std::vector<BackendStatus> backends;  // tracepoint, fentry, kprobe
  const BackendStatus& status(Backend b) const;
};

Features probe_features();

// The backend to use, or nullopt with the reason in *why.
std::optional<Backend> choose_backend(const Features& f, Backend requested, std::string* why);

}  // namespace netacct
