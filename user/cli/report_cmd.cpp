// netacct report: one window per interval, from attach to --count or a
// stop signal. Data flows one way: maps -> snapshot -> window -> report.
#include <signal.h>
#include <unistd.h>

#include <iostream>

#include "cli/commands.hpp"
#include "cli/poller.hpp"
#include "cli/preflight.hpp"
#include "cli/signals.hpp"
#include "kernel/loader.hpp"
#include "model/report.hpp"
#include "resolve/procfs.hpp"
#include "resolve/system_resolver.hpp"

namespace netacct {
namespace {

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

int poll_loop(const Command& cmd, Session& session, const sigset_t& stop_signals) {
  const auto& o = cmd.report;
  Poller poller(session);
  std::string backend = backend_name(session.backend());
  std::cerr << "netacct: ready (backend " << backend << ")\n";
  ReportWriter writer(std::cout, o.format, o.by);
  SystemResolver resolver;
  ReportFilter filter{o.loopback, {o.pids.begin(), o.pids.end()}};
  std::string host = host_name();
  int64_t interval_ns = int64_t(o.interval_s * 1e9);
  int64_t deadline = poller.last_mono_ns() + interval_ns;
  for (uint64_t n = 0; o.count == 0 || n < o.count; ++n, deadline += interval_ns) {
    bool stop = wait_until(deadline, stop_signals);
    RefreshResolver once(resolver);
    writer.write(assemble(poller.poll(once), filter, once, host, backend));
    if (stop) break;
  }
  return 0;
}

}  // namespace

int run_report(const Command& cmd) {
  sigset_t stop_signals;
  auto session = start_session(cmd, cmd.report.pids, &stop_signals);
  return session ? poll_loop(cmd, *session, stop_signals) : 1;
}

}  // namespace netacct
