// netacct top: the live view. One poll loop: wait for a key, a signal or the
// next refresh; refresh the model; render; draw in one write.
#include <poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <ctime>
#include <iostream>
#include <set>

#include "cli/commands.hpp"
#include "cli/poller.hpp"
#include "cli/preflight.hpp"
#include "cli/signals.hpp"
#include "cli/terminal.hpp"
#include "cli/top_keys.hpp"
#include "resolve/dns.hpp"
#include "resolve/system_resolver.hpp"

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
  ~CostMeter() {
    if (stats_fd_ >= 0) close(stats_fd_);
  }
  void update(TopHeader& h, int64_t now) {
    Session::RunStats run = session_.run_stats();
    double cpu = cpu_seconds(), wall = double(now - wall_) / 1e9;
    h.cpu_percent = wall > 0 ? 100 * (cpu - cpu_) / wall : 0;
    if (stats_fd_ >= 0 && run.runs > run_.runs)
      h.ns_per_event = double(run.ns - run_.ns) / double(run.runs - run_.runs);
    mark(now, cpu, run);  // the readings just taken: no second syscall round
  }

 private:
  const Session& session_;
  int stats_fd_;
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
  st.query.sort = o.sort;
  st.query.view = o.view;
  st.dns = o.resolve;
  return st;
}

void keep_pids(Window& w, const std::set<uint32_t>& pids) {
  if (pids.empty()) return;
  std::erase_if(w.procs, [&](const ProcDelta& d) { return !pids.count(d.id.tgid); });
  std::erase_if(w.conns, [&](const ConnDelta& d) { return !pids.count(d.id.proc.tgid); });
}

// Everything one `netacct top` run holds, from kernel to screen.
struct Live {
  Live(const Command& cmd, Session& s)
      : opts(cmd.top),
        session(s),
        poller(s),
        cost(s),
        model(double(poller.last_mono_ns()) / 1e9, cmd.top.delay_s, cmd.top.loopback),
        state(initial_state(cmd.top)),
        pids(cmd.top.pids.begin(), cmd.top.pids.end()) {
    header.backend = backend_name(s.backend());
  }
  const TopOptions& opts;
  Session& session;
  Poller poller;
  CostMeter cost;
  TopModel model;
  SystemResolver resolver;
  ReverseDns dns;
  TopState state;
  TopHeader header;
  std::set<uint32_t> pids;
  std::vector<TopRow> rows;  // as on screen (frozen while paused)
  size_t spark_buckets = 8;

  void refresh() {
    RefreshResolver once(resolver);
    Window w = poller.poll(once);
    header.evicted = w.conns_evicted;
    keep_pids(w, pids);
    int64_t now = mono_now_ns();
    model.update(w, once, double(w.end_mono) / 1e9);
    cost.update(header, now);
  }
  void select_rows() {
    header.clock = clock_text();
    header.totals = model.totals();
    TopQuery q = state.query;
    q.spark_buckets = spark_buckets;
    if (state.dns)
      q.name = [this](uint16_t f, const std::array<uint8_t, 16>& a) { return dns.lookup(f, a); };
    if (!state.paused) rows = model.rows(q);
    header.drill_name.clear();
    if (q.drill) header.drill_name = "PID " + std::to_string(q.drill->tgid);
    if (!rows.empty() && state.selected >= rows.size()) state.selected = rows.size() - 1;
  }
  std::vector<std::string> frame(size_t width, size_t height, bool utf8) {
    spark_buckets = spark_width(width);
    select_rows();
    return render_top(header, rows, state, width, height, utf8);
  }
};

size_t batch_width() {
  const char* cols = getenv("COLUMNS");
  long w = cols ? atol(cols) : 0;
  return w >= 40 ? size_t(w) : 100;
}

int run_batch(Live& live, const sigset_t& stop) {
  int64_t delay = int64_t(live.opts.delay_s * 1e9), deadline = live.poller.last_mono_ns() + delay;
  bool utf8 = utf8_locale();
  for (uint64_t n = 0; live.opts.count == 0 || n < live.opts.count; ++n, deadline += delay) {
    bool stopped = wait_until(deadline, stop);
    live.refresh();
    std::string out;
    for (auto& line : live.frame(batch_width(), 0, utf8)) {
      line.erase(line.find_last_not_of(' ') + 1);
      out += line + "\n";
    }
    std::cout << out << "\n" << std::flush;
    if (stopped) break;
  }
  return 0;
}

// The signals the interactive loop waits for besides keys.
int signal_fd() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGINT, SIGTERM, SIGWINCH, SIGHUP}) sigaddset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

// True to keep running.
bool take_signal(int fd) {
  signalfd_siginfo si{};
  while (read(fd, &si, sizeof si) == ssize_t(sizeof si))
    if (si.ssi_signo != SIGWINCH) return false;
  return true;
}

int run_interactive(Live& live, Terminal& term) {
  int sig_fd = signal_fd();
  bool utf8 = utf8_locale();
  int64_t delay = int64_t(live.opts.delay_s * 1e9), next = live.poller.last_mono_ns() + delay;
  std::string pending;
  for (bool running = true; running;) {
    term.draw(live.frame(term.width(), term.height(), utf8));
    int64_t left = std::max<int64_t>(0, next - mono_now_ns());
    pollfd fds[2] = {{term.input_fd(), POLLIN, 0}, {sig_fd, POLLIN, 0}};
    poll(fds, 2, int(left / 1000000) + 1);
    if (fds[1].revents & POLLIN) running = take_signal(sig_fd);
    if (fds[0].revents & (POLLHUP | POLLERR)) running = false;
    if (fds[0].revents & POLLIN) {
      pending += term.read_input();
      for (const Key& k : parse_keys(pending))
        running = running && apply_key(live.state, k, live.rows);
    }
    if (running && mono_now_ns() >= next) {
      live.refresh();
      // After a stall (Ctrl-Z, suspend) skip the missed refreshes instead of
      // catching up: back-to-back samples would squash the rate windows.
      next = std::max(next + delay, mono_now_ns());
    }
  }
  close(sig_fd);
  return 0;
}

}  // namespace

int run_top(const Command& cmd) {
  sigset_t stop;
  auto session = start_session(cmd, cmd.top.pids, &stop);
  if (!session) return 1;
  Live live(cmd, *session);
  std::cerr << "netacct: ready (backend " << live.header.backend << ")\n";
  std::unique_ptr<Terminal> term;
  if (!cmd.top.batch) term = Terminal::open(STDIN_FILENO, STDOUT_FILENO);
  return term ? run_interactive(live, *term) : run_batch(live, stop);
}

}  // namespace netacct
