#include "cli/preflight.hpp"

#include <iostream>

#include "cli/signals.hpp"
#include "resolve/procfs.hpp"

namespace netacct {

std::optional<Backend> preflight(const Features& f, Backend requested) {
  if (f.caps.known && !f.caps.enough()) {
    std::cerr << "netacct: missing " << f.caps.missing()
              << " (or CAP_SYS_ADMIN) to load BPF programs; run as root, e.g. 'sudo netacct ...'\n";
    return std::nullopt;
  }
  if (!f.btf) {
    std::cerr << "netacct: this kernel has no BTF (/sys/kernel/btf/vmlinux); netacct needs a "
                 "kernel built with CONFIG_DEBUG_INFO_BTF=y\n";
    return std::nullopt;
  }
  if (f.lockdown == "confidentiality") {
    std::cerr << "netacct: kernel lockdown is 'confidentiality', which forbids BPF programs from "
                 "reading kernel memory; boot with lockdown=integrity or none\n";
    return std::nullopt;
  }
  std::string why;
  auto backend = choose_backend(f, requested, &why);
  if (!backend) std::cerr << "netacct: " << why << " (see 'netacct doctor')\n";
  return backend;
}

void warn_missing_pids(const std::vector<uint32_t>& pids) {
  ProcFs procfs;
  for (uint32_t pid : pids)
    if (!procfs.pid_exists(pid))
      std::cerr << "netacct: warning: no process with PID " << pid << " (yet); watching for it\n";
}

std::unique_ptr<Session> start_session(const Command& cmd, const std::vector<uint32_t>& pids,
                                       sigset_t* stop_signals) {
  Features features = probe_features();
  auto backend = preflight(features, cmd.backend);
  if (!backend) return nullptr;
  warn_missing_pids(pids);
  *stop_signals = block_stop_signals();
  std::string error;
  auto session = Session::open({*backend, cmd.verbose, features.has_inet_sendpage}, &error);
  if (!session) std::cerr << "netacct: " << error << "\n";
  return session;
}

}  // namespace netacct
