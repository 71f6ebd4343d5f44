// The one go/no-go decision: can netacct run on this kernel with these
// privileges, with which backend, and if not, the first thing to fix.
// report and top (cli/preflight) and doctor all print this one Assessment,
// so they always name the same problem in the same words.
#pragma once
#include <optional>
#include <string>

#include "kernel/backend.hpp"
#include "kernel/features.hpp"

namespace netacct {

// In the order they are checked: what no privilege can fix comes first, so
// a user without root on a kernel that cannot work is not sent to sudo
// for nothing.
enum class Problem {
  none,
  no_btf,           // no /sys/kernel/btf/vmlinux: CO-RE cannot relocate
  lockdown,         // lockdown=confidentiality: no reading kernel memory
  no_capabilities,  // neither CAP_BPF + CAP_PERFMON nor CAP_SYS_ADMIN
  no_backend,       // the requested backend (or, for auto, every one) is unavailable
};

struct Assessment {
  // The backend that would be loaded: set whenever one is available, even
  // when another problem stops netacct (doctor shows it as "selected").
  std::optional<Backend> backend;
  Problem problem = Problem::none;
  std::string message;  // one line, what is wrong and what to do; "" when none

  bool can_run() const { return problem == Problem::none; }
};

// Pure: reads only `f`, so every verdict is unit-tested on made-up kernels.
Assessment assess(const Features& f, Backend requested);

}  // namespace netacct
