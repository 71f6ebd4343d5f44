// netacct report: one window per interval, from attach to --count or a
// stop signal. Data flows one way: maps -> snapshot -> window -> report.
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <map>

#include "cli/commands.hpp"
#include "cli/preflight.hpp"
#include "kernel/loader.hpp"
#include "kernel/snapshot.hpp"
#include "model/report.hpp"
#include "resolve/cgroup.hpp"
#include "resolve/procfs.hpp"

namespace netacct {
namespace {

class SystemResolver : public Resolver {
 public:
  bool alive(const ProcId& id) override { return procfs_.alive(id); }
  std::optional<std::string> exe(uint32_t pid) override { return procfs_.exe(pid); }
  std::optional<std::string> cgroup(uint64_t id) override { return cgroups_.path(id); }
  std::optional<std::string> user(uint32_t uid) override {
    auto it = users_.find(uid);
    if (it == users_.end()) it = users_.emplace(uid, user_name(uid)).first;
    return it->second;
  }

 private:
  ProcFs procfs_;
  CgroupResolver cgroups_;
  std::map<uint32_t, std::optional<std::string>> users_;
};

// SIGINT and SIGTERM stay blocked and are taken only by sigtimedwait in the
// poll loop: no handler, no flag races, and the current window still prints.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Sleeps until the monotonic deadline; true when a stop signal came first.
bool wait_until(int64_t deadline_ns, const sigset_t& set) {
  for (;;) {
    int64_t left = deadline_ns - mono_now_ns();
    if (left <= 0) return false;
    timespec ts{time_t(left / 1000000000), long(left % 1000000000)};
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGINT || sig == SIGTERM) return true;
  }
}

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

void warn_missing_pids(const std::vector<uint32_t>& pids) {
  ProcFs procfs;
  for (uint32_t pid : pids)
    if (!procfs.pid_exists(pid))
      std::cerr << "netacct: warning: no process with PID " << pid << " (yet); watching for it\n";
}

// Processes from the last snapshot that have exited: their final bytes are
// already in the kernel maps, so after this report their entries can go.
std::vector<ProcId> exited(const Snapshot& last, Resolver& r) {
  std::vector<ProcId> gone;
  for (const auto& p : last.procs)
    if (!r.alive(p.id)) gone.push_back(p.id);
  return gone;
}

int poll_loop(const Command& cmd, Session& session, const sigset_t& stop_signals) {
  const auto& o = cmd.report;
  MapReader reader(session.procs_fd(), session.conns_fd(), session.stats_fd());
  Accountant accountant;
  Snapshot last = reader.read();
  accountant.prime(last);
  std::string backend = backend_name(session.backend());
  std::cerr << "netacct: ready (backend " << backend << ")\n";
  ReportWriter writer(std::cout, o.format, o.by);
  SystemResolver resolver;
  ReportFilter filter{o.loopback, {o.pids.begin(), o.pids.end()}};
  std::string host = host_name();
  int64_t interval_ns = int64_t(o.interval_s * 1e9);
  int64_t deadline = last.mono_ns + interval_ns;
  for (uint64_t n = 0; o.count == 0 || n < o.count; ++n, deadline += interval_ns) {
    bool stop = wait_until(deadline, stop_signals);
    auto gone = exited(last, resolver);
    last = reader.read();
    writer.write(assemble(accountant.advance(last), filter, resolver, host, backend));
    accountant.forget(gone, reader.remove(gone, last));
    if (stop) break;
  }
  return 0;
}

}  // namespace

int run_report(const Command& cmd) {
  Features features = probe_features();
  auto backend = preflight(features, cmd.backend);
  if (!backend) return 1;
  warn_missing_pids(cmd.report.pids);
  sigset_t stop_signals = block_stop_signals();
  std::string error;
  auto session = Session::open({*backend, cmd.verbose, features.has_inet_sendpage}, &error);
  if (!session) {
    std::cerr << "netacct: " << error << "\n";
    return 1;
  }
  return poll_loop(cmd, *session, stop_signals);
}

}  // namespace netacct
