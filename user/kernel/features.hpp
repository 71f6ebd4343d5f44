// What this kernel and this process can do, probed once. Backend choice
// depends only on these probes, never on the kernel version string. The
// structs are plain data, so the go/no-go decision (kernel/assess.hpp) is
// tested on made-up kernels.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "kernel/backend.hpp"

namespace netacct {

struct Capabilities {
  bool known = false;  // capget worked
  bool bpf = false, perfmon = false, sys_admin = false;
  // CAP_BPF + CAP_PERFMON (Linux >= 5.8), or CAP_SYS_ADMIN, load tracing programs.
  bool enough() const { return sys_admin || (bpf && perfmon); }
  // "CAP_BPF and CAP_PERFMON", "CAP_BPF", "CAP_PERFMON" or "" when enough.
  std::string missing() const {
    if (enough()) return "";
    if (!bpf && !perfmon) return "CAP_BPF and CAP_PERFMON";
    return bpf ? "CAP_PERFMON" : "CAP_BPF";
  }
};

struct BackendStatus {
  Backend backend = Backend::automatic;
  bool available = false;
  // False when only loading could tell and this process may not load
  // programs: then the backend is neither available nor unavailable.
  bool checked = true;
  std::string reason;  // why not, when unavailable or unchecked
  std::string hooks;   // what it attaches to, when available (or would, unchecked)
  // "available", "unavailable" or "unknown".
  std::string state() const {
    return !checked ? "unknown" : available ? "available" : "unavailable";
  }
  // What doctor shows next to the backend's name.
  const std::string& detail() const { return available || !checked ? hooks : reason; }
};

// Remote names from DNS answers: a cgroup_skb program and a ring buffer,
// loaded with CAP_NET_ADMIN (else netacct runs without them).
struct DnsCaptureStatus {
  std::optional<bool> available;  // nullopt: this process may not check
  std::string detail;             // what it attaches to, or why not
};

struct Features {
  std::string kernel_release;
  bool btf = false;
  std::string lockdown;  // "none", "integrity", "confidentiality" or "unknown"
  Capabilities caps;
  bool root = false;
  bool has_inet_sendpage = false;  // sendfile path before Linux 6.5
  // tcp:tcp_retransmit_skb passes the transmit's error (and fires for failed
  // attempts too): its BTF prototype has the argument.
  bool retransmit_err = false;
  // Tracing programs (fexit, iterators) load: the fentry probe's load worked.
  bool loads_tracing = false;
  std::vector<BackendStatus> backends;  // tracepoint, fentry, kprobe: auto's order
  // The wire layer's TC attach: TCX links (Linux >= 6.6) or clsact filters;
  // nullopt when this process may not ask (CAP_NET_ADMIN).
  std::optional<bool> tcx;
  DnsCaptureStatus dns;

  const BackendStatus& status(Backend b) const {
    for (const auto& s : backends)
      if (s.backend == b) return s;
    static const BackendStatus none{.backend = Backend::automatic, .reason = "unknown backend"};
    return none;
  }
};

Features probe_features();

}  // namespace netacct
