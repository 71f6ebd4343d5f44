// What a loaded and attached netacct still needs of root's powers, decided
// in one place. Loading and attaching take CAP_BPF + CAP_PERFMON (or
// CAP_SYS_ADMIN) and CAP_NET_ADMIN; once every program is attached, the
// running phase needs far less (cli/privilege.cpp drops the rest):
//  - reading the counters: nothing: the map fds are held, and a held BPF
//    object needs no capability (except where every bpf() command is gated,
//    see RunNeeds::bpf_gated);
//  - closing links at exit (programs, cgroup and TCX attachments): nothing;
//  - /proc/PID/exe of another user's process: ptrace read access, so
//    CAP_SYS_PTRACE (the other /proc files read, stat, status and cgroup,
//    are world-readable);
//  - container runtimes' state files (/var/lib/docker, /run/containerd...:
//    root's own, mode 0700 or 0600): nothing as root; after `serve --user`,
//    CAP_DAC_READ_SEARCH (read and search only, never write);
//  - the wire layer: CAP_NET_ADMIN, to attach to interfaces that appear later
//    (a TCX link or a clsact filter) and to remove legacy clsact filters at
//    exit;
//  - serve binding a port below net.ipv4.ip_unprivileged_port_start:
//    CAP_NET_BIND_SERVICE, until it has bound.
// Inheritable and ambient sets are emptied; the bounding set is the kept set.
#pragma once
#include <linux/capability.h>

#include <cstdint>
#include <vector>

namespace netacct {

// uapi headers older than Linux 5.8 lack CAP_BPF and CAP_PERFMON; the numbers
// are kernel ABI and never change, so a build on such headers still asks for
// the right bits.
#ifdef CAP_BPF
inline constexpr int kCapBpf = CAP_BPF;
#else
inline constexpr int kCapBpf = 39;
#endif
#ifdef CAP_PERFMON
inline constexpr int kCapPerfmon = CAP_PERFMON;
#else
inline constexpr int kCapPerfmon = 38;
#endif

// What the running phase does that the kernel checks.
struct RunNeeds {
  bool wire = false;        // the wire layer is attached
  bool other_user = false;  // runs as another user than root (serve --user)
  // Every bpf() command, map reads included, needs CAP_BPF (or
  // CAP_SYS_ADMIN): kernel.unprivileged_bpf_disabled on Linux < 5.19.
  bool bpf_gated = false;
  bool cap_bpf = true;     // the kernel knows CAP_BPF (Linux >= 5.8)
  bool bind_port = false;  // a port below ip_unprivileged_port_start is still to bind
};

// The capabilities to keep, ascending: the effective and permitted sets
// after the drop.
std::vector<int> capabilities_needed(const RunNeeds& needs);
// The bounding set after the drop: the same but CAP_NET_BIND_SERVICE (only
// binding needs it, and the bounding set, which only limits what execve may
// grant, cannot grow back once the capability to shrink it is gone).
std::vector<int> bounding_set(const RunNeeds& needs);

// The legacy TC path's guard process (kernel/wire.cpp), which only ever
// removes netacct's filters over netlink: CAP_NET_ADMIN, in every set.
std::vector<int> guard_capabilities();

// The /proc/PID/status mask of a set of capabilities.
uint64_t capability_mask(const std::vector<int>& caps);

}  // namespace netacct
