#include "cli/preflight.hpp"

#include <iostream>

#include "cli/error_line.hpp"
#include "cli/privilege.hpp"
#include "cli/signals.hpp"
#include "resolve/cgroup.hpp"
#include "resolve/procfs.hpp"

namespace netacct {

void warn_missing_pids(const std::set<uint32_t>& pids) {
  ProcFs procfs;
  for (uint32_t pid : pids)
    if (!procfs.pid_exists(pid))
      std::cerr << "netacct: warning: no process with PID " << pid << " (yet); watching for it\n";
}

std::unique_ptr<Session> start_session(const Command& cmd, sigset_t* stop_signals, int* exit_code) {
  *exit_code = 1;
  Features features = probe_features();
  auto backend = preflight(features, cmd.backend, std::cerr);
  if (!backend) return nullptr;
  if (cmd.wire.enabled)
    if (auto error = missing_interface(cmd.wire.interfaces)) {
      std::cerr << error_line(*error);
      *exit_code = 2;
      return nullptr;
    }
  warn_missing_pids(cmd.selection.pids);
  *stop_signals = block_stop_signals();
  std::string error;
  WireConfig wire = cmd.wire;
  wire.loopback = cmd.selection.loopback;
  wire.in_guard = drop_to_guard;
  auto session = Session::open({.backend = *backend,
                                .verbose = cmd.verbose,
                                .has_inet_sendpage = features.has_inet_sendpage,
                                .retransmit_err = features.retransmit_err,
                                .loads_tracing = features.loads_tracing,
                                .attach = true,
                                .cgroup2_mount = find_cgroup2_mount().value_or(""),
                                .wire = wire,
                                .dns_names = cmd.dns.enabled},
                               &error);
  if (!session) std::cerr << error_line(error);
  if (session && !session->warning().empty())
    std::cerr << error_line("warning: " + session->warning());
  return session;
}

}  // namespace netacct
