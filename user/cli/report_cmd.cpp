// netacct report: one window per interval, from attach to --count or a
// stop signal. Data flows one way: maps -> window -> attributed -> report.
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>

#include "cli/commands.hpp"
#include "cli/event_loop.hpp"
#include "cli/pipeline.hpp"
#include "cli/preflight.hpp"
#include "kernel/loader.hpp"
#include "model/report.hpp"

namespace netacct {
namespace {

std::string host_name() {
  char buf[256] = {};
  gethostname(buf, sizeof(buf) - 1);
  return buf;
}

// A report that cannot be written ends the run: a reader that went away
// (EPIPE, when SIGPIPE is ignored; else SIGPIPE ends netacct, status 141)
// quietly, exit 0, as `| head` expects; anything else (a full disk,
// /dev/full) with one line, exit 1.
int write_failed(int err) {
  if (err == EPIPE) return 0;
  std::cerr << "netacct: cannot write the report: " << std::strerror(err ? err : EIO) << "\n";
  return 1;
}

int poll_loop(const Command& cmd, Session& session, const sigset_t& stop_signals) {
  const auto& o = cmd.report;
  Pipeline pipeline(session, cmd.selection);
  std::string backend = backend_name(session.backend());
  std::cerr << "netacct: ready (backend " << backend << ")\n";
  ReportWriter writer(std::cout, o.format, o.by);
  std::string host = host_name();
  std::optional<int> failed;  // errno of the write that failed
  auto report_window = [&] {
    if (!writer.write(assemble(pipeline.next(), host, backend, writer.tables()))) failed = errno;
  };
  SystemClock clock;
  EventLoop loop(clock, stop_signals);
  int64_t interval_ns = int64_t(o.interval_s * 1e9);
  loop.every(interval_ns, pipeline.last_mono_ns() + interval_ns,
             [&, tick = up_to(o.count, report_window)]() mutable {
               EventLoop::Flow flow = tick();
               return failed ? EventLoop::Flow::stop : flow;
             });
  // A stop signal: the window so far is a report too.
  if (loop.run() == EventLoop::Ended::by_signal && !failed) report_window();
  return failed ? write_failed(*failed) : 0;
}

}  // namespace

int run_report(const Command& cmd) {
  sigset_t stop_signals;
  int failed = 1;
  auto session = start_session(cmd, &stop_signals, &failed);
  return session ? poll_loop(cmd, *session, stop_signals) : failed;
}

}  // namespace netacct
