// netacct top: the live view, on the event loop: a key redraws at once, a
// tick refreshes the model and redraws, a resize redraws, a stop signal quits.
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <iostream>
#include <set>

#include "cli/commands.hpp"
#include "cli/event_loop.hpp"
#include "cli/fd.hpp"
#include "cli/pipeline.hpp"
#include "cli/preflight.hpp"
#include "cli/terminal.hpp"
#include "cli/top_keys.hpp"
#include "cli/write_error.hpp"
#include "model/clock.hpp"
#include "resolve/dns.hpp"

namespace netacct {
namespace {

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// netacct's own cost between two refreshes: its CPU share and the mean run
// time of its kernel programs.
class CostMeter {
 public:
  explicit CostMeter(const Session& s) : session_(s), stats_fd_(enable_run_time_stats()) {
    mark(mono_now_ns(), cpu_seconds(), session_.run_stats());
  }
  void update(TopHeader& h, int64_t now) {
    Session::RunStats run = session_.run_stats();
    double cpu = cpu_seconds(), wall = double(now - wall_) / 1e9;
    h.cpu_percent = wall > 0 ? 100 * (cpu - cpu_) / wall : 0;
    if (stats_fd_ && run.runs > run_.runs)
      h.ns_per_event = double(run.ns - run_.ns) / double(run.runs - run_.runs);
    mark(now, cpu, run);  // the readings just taken: no second syscall round
  }

 private:
  const Session& session_;
  UniqueFd stats_fd_;  // run time stats stay on while it is open
  double cpu_ = 0;
  int64_t wall_ = 0;
  Session::RunStats run_;
  void mark(int64_t now, double cpu, Session::RunStats run) {
    cpu_ = cpu;
    wall_ = now;
    run_ = run;
  }
};

std::string clock_text() {
  time_t t = time(nullptr);
  tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

TopState initial_state(const TopOptions& o) {
  TopState st;
  st.sort = o.sort;
  st.query.view = o.view;
  st.query.layer = o.layer;
  st.dns = o.resolve;
  return st;
}

// Everything one `netacct top` run holds, from kernel to screen.
struct Live {
  Live(const Command& cmd, Session& s)
      : opts(cmd.top),
        session(s),
        pipeline(s, cmd.selection, cmd.dns.cache),
        cost(s),
        model(double(pipeline.last_mono_ns()) / 1e9, cmd.top.delay_s),
        state(initial_state(cmd.top)) {
    header.backend = backend_name(s.backend());
    state.wire_layer = s.wire() != nullptr;
    state.name = [this](uint16_t f, const std::array<uint8_t, 16>& a) { return dns.lookup(f, a); };
  }
  const TopOptions& opts;
  Session& session;
  Pipeline pipeline;
  CostMeter cost;
  TopModel model;
  ReverseDns dns;
  TopState state;
  TopHeader header;
  FrameRows rows;  // as on screen (frozen while paused)
  size_t spark_buckets = 8;
  size_t room = SIZE_MAX;  // rows the screen shows

  void refresh() {
    Attributed a = pipeline.next();
    header.evicted = a.loss.conns_evicted;
    header.wire = a.receipt;
    header.wire_seconds = a.seconds();
    int64_t now = mono_now_ns();
    model.update(a, double(a.end_mono) / 1e9);
    cost.update(header, now);
  }
  // Only the rows on screen are made; while paused, the frozen view has
  // them all (made once, from the model as it was when paused), so that
  // scrolling shows what was there.
  void select_rows() {
    header.clock = clock_text();
    header.totals = model.totals(state.query.layer);
    state.query.spark_buckets = spark_buckets;
    if (!state.paused)
      rows = frame_rows(model, state, room);
    else if (!rows.complete())
      rows = frame_rows(model, state, SIZE_MAX);
    header.drill_name.clear();
    if (state.query.drill) {
      header.drill_name = "PID " + std::to_string(state.query.drill->tgid);
    } else if (state.query.cgroup) {
      const ContainerTraffic* c = model.container(*state.query.cgroup);
      header.drill_name = c && c->name && !c->name->name.empty()
                              ? c->name->name
                              : "cgroup " + std::to_string(*state.query.cgroup);
    }
    if (rows.count && state.selected >= rows.count) state.selected = rows.count - 1;
  }
  std::vector<std::string> frame(size_t width, size_t height, bool utf8) {
    spark_buckets = spark_width(width);
    room = rows_room(height, header);
    select_rows();
    return render_frame(header, rows, state, width, height, utf8);
  }
};

size_t batch_width() {
  const char* cols = getenv("COLUMNS");
  long w = cols ? atol(cols) : 0;
  return w >= 40 ? size_t(w) : 100;
}

// False when stdout failed; errno is the write's.
bool print_frame(std::vector<std::string> lines) {
  std::string out;
  for (auto& line : lines) {
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  errno = 0;
  std::cout << out << "\n" << std::flush;
  return bool(std::cout);
}

// The first refresh comes one delay after the loop starts.
void refresh_every(EventLoop& loop, const Clock& clock, double delay_s, EventLoop::Callback tick) {
  int64_t delay = int64_t(delay_s * 1e9);
  loop.every(delay, clock.mono_ns() + delay, std::move(tick));
}

int run_batch(Live& live, const sigset_t& stop) {
  bool utf8 = utf8_locale();
  WriteError output;
  auto refresh_and_print = [&] {
    live.refresh();
    output.check(print_frame(live.frame(batch_width(), 0, utf8)));
  };
  SystemClock clock;
  EventLoop loop(clock, stop);
  live.pipeline.watch(loop);
  refresh_every(loop, clock, live.opts.delay_s,
                output.stopping(up_to(live.opts.count, refresh_and_print)));
  // A stop signal: one last frame with what moved since the previous one.
  if (loop.run() == EventLoop::Ended::by_signal && !output.failed()) refresh_and_print();
  return output.exit_status("frame");
}

// Keys change the view and redraw at once; a terminal that hung up or
// failed quits (the loop would otherwise wake on it forever).
EventLoop::Flow take_keys(Live& live, Terminal& term, std::string& pending, short revents) {
  if (revents & (POLLHUP | POLLERR | POLLNVAL)) return EventLoop::Flow::stop;
  pending += term.read_input();
  for (const Key& k : parse_keys(pending)) {
    // Keys read together may move the selection off the rows last made.
    if (k.kind == Key::enter && !live.rows.at(live.state.selected)) live.select_rows();
    if (!apply_key(live.state, k, live.rows)) return EventLoop::Flow::stop;
  }
  return EventLoop::Flow::keep_going;
}

// Ends on q, a stop signal or a dead terminal; the caller's Terminal
// restores the screen.
int run_interactive(Live& live, Terminal& term, const sigset_t& stop) {
  bool utf8 = utf8_locale();
  auto draw = [&] {
    term.draw(live.frame(term.width(), term.height(), utf8));
    return EventLoop::Flow::keep_going;
  };
  SystemClock clock;
  EventLoop loop(clock, stop);
  live.pipeline.watch(loop);
  refresh_every(loop, clock, live.opts.delay_s, [&] {
    live.refresh();
    return draw();
  });
  loop.on_resize(draw);
  std::string pending;
  loop.watch(term.input_fd(), [&](short revents) {
    auto flow = take_keys(live, term, pending, revents);
    return flow == EventLoop::Flow::stop ? flow : draw();
  });
  draw();
  loop.run();
  return 0;
}

}  // namespace

int run_top(const Command& cmd) {
  sigset_t stop;
  int failed = 1;
  auto session = start_session(cmd, &stop, &failed);
  if (!session) return failed;
  Live live(cmd, *session);
  std::cerr << "netacct: ready (backend " << live.header.backend << ")\n";
  std::unique_ptr<Terminal> term;
  if (!cmd.top.batch) term = Terminal::open(STDIN_FILENO, STDOUT_FILENO);
  return term ? run_interactive(live, *term, stop) : run_batch(live, stop);
}

}  // namespace netacct
