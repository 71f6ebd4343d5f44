// netacct report: one window per interval, from attach to --count or a
// stop signal. Data flows one way: maps -> window -> attributed -> report.
#include <unistd.h>

#include <iostream>

#include "cli/commands.hpp"
#include "cli/event_loop.hpp"
#include "cli/pipeline.hpp"
#include "cli/preflight.hpp"
#include "cli/write_error.hpp"
#include "kernel/loader.hpp"
#include "model/report.hpp"

namespace netacct {
namespace {

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

int poll_loop(const Command& cmd, Session& session, const sigset_t& stop_signals) {
  const auto& o = cmd.report;
  Pipeline pipeline(session, cmd.selection, cmd.dns.cache);
  std::string backend = backend_name(session.backend());
  std::cerr << "netacct: ready (backend " << backend << ")\n";
  ReportWriter writer(std::cout, o.format, o.by);
  std::string host = host_name();
  WriteError output;
  auto report_window = [&] {
    output.check(writer.write(assemble(pipeline.next(), host, backend, writer.tables())));
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
  return session ? poll_loop(cmd, *session, stop_signals) : failed;
}

}  // namespace netacct
