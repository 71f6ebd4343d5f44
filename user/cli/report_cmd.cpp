// netacct report: one window per interval, from attach to --count or a
// stop signal. Data flows one way: maps -> window -> attributed -> report.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/event_loop.hpp"
#include "cli/pipeline.hpp"
#include "cli/preflight.hpp"
#include "cli/privilege.hpp"
#include "cli/write_error.hpp"
#include "kernel/loader.hpp"
#include "model/report.hpp"
#include "resolve/dns.hpp"

namespace netacct {
namespace {

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

// --resolve: connections no DNS answer named are named by reverse DNS. A
// window's new remotes are asked for at its end, and the report waits for
// their answers, at most kPtrWait (a resolver that never answers costs each
// report that long, not its lookup timeout).
constexpr auto kPtrWait = std::chrono::seconds(1);

void name_by_ptr(Attributed& a, ReverseDns& dns) {
  PtrLookup ptr = [&dns](const RemoteKey& k) { return dns.lookup(k.family, k.addr); };
  if (name_by_ptr(a.conns, ptr) == 0) return;
  dns.settle(std::chrono::steady_clock::now() + kPtrWait);
  name_by_ptr(a.conns, ptr);
}

int poll_loop(const Command& cmd, Session& session, const sigset_t& stop_signals) {
  const auto& o = cmd.report;
  Pipeline pipeline(session, cmd.selection, cmd.dns.cache);
  std::string backend = backend_name(session.backend());
  std::cerr << "netacct: ready (backend " << backend << ")\n";
  ReportWriter writer(std::cout, o.format, o.by);
  std::string host = host_name();
  WriteError output;
  // Its thread starts after the capability drop (run_report), so holds no more.
  std::unique_ptr<ReverseDns> dns = o.resolve ? std::make_unique<ReverseDns>() : nullptr;
  auto report_window = [&] {
    Attributed a = pipeline.next();
    if (dns) name_by_ptr(a, *dns);
    output.check(writer.write(assemble(a, host, backend, writer.tables())));
  };
  SystemClock clock;
  EventLoop loop(clock, stop_signals);
  pipeline.watch(loop);
  int64_t interval_ns = int64_t(o.interval_s * 1e9);
  loop.every(interval_ns, pipeline.last_mono_ns() + interval_ns,
             output.stopping(up_to(o.count, report_window)));
  // A stop signal: the window so far is a report too.
  if (loop.run() == EventLoop::Ended::by_signal && !output.failed()) report_window();
  return output.exit_status("report");
}

}  // namespace

int run_report(const Command& cmd) {
  sigset_t stop_signals;
  int failed = 1;
  auto session = start_session(cmd, &stop_signals, &failed);
  if (!session) return failed;
  if (!drop_for_run(run_needs(*session))) return 1;
  return poll_loop(cmd, *session, stop_signals);
}

}  // namespace netacct
