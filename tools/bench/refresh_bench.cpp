// The userspace side of one refresh at 1,000, 10,000 and 100,000 live
// sockets (a tenth as many processes: 10,000 at 100,000 sockets), with 1 %
// or 100 % of the sockets moving bytes in each window (issue 9: the cost of
// a refresh follows activity, not state). No kernel: a synthetic map
// content, read in full at every poll, or as the entries that moved (what
// MapReader's change feed hands over); the read itself (building the
// Snapshot) is not timed, it is the kernel read's budget (kernel/map_read).
//
//   refresh/report/...     Poller::poll (snapshot -> window, exits) +
//                          Attributor::attribute + assemble (report rows)
//   refresh/report_changes/...  the same with snapshots of changes (only
//                          the entries that moved: the product's form)
//   refresh/report_text_changes/...  the same, assembling the process
//                          table alone (`netacct report`'s text sink)
//   refresh/top/...        TopModel::update + one frame at 80x24 (totals,
//                          the rows on screen, render_frame), given the window
//   refresh/top_whole/...  poll + attribution + update + frame (also _changes)
//   rss/...                peak RSS of a fresh process that runs the whole
//                          userspace pipeline (report with its text sink,
//                          or top with its frames) over the load
//
// Processes and connections are named as on a real host (an executable
// path, a user, a cgroup path and a unit name per process) so that copies
// of identities cost what they cost in the product.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <sstream>

#include "bench.hpp"
#include "cli/poller.hpp"
#include "model/report.hpp"
#include "model/top_model.hpp"
#include "output/report.hpp"
#include "output/top_render.hpp"
#include "synthetic.hpp"

namespace netacct::bench {

std::string rss_flag() { return "--netacct_rss="; }

namespace {

constexpr size_t kWidth = 80, kHeight = 24;

uint64_t mix(uint64_t x) {  // splitmix64: a fixed pseudo-random choice per socket
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

struct LoadShape {
  size_t socks = 0;
  size_t percent = 100;  // of the sockets moving bytes in each window
  size_t procs() const { return std::max<size_t>(socks / 10, 1); }
  size_t remotes() const { return std::max<size_t>(socks / 5, 1); }
  std::string name() const {
    return "socks:" + std::to_string(socks) + "/active:" + std::to_string(percent);
  }
};

// The kernel maps' content: every socket and process live, their counters
// monotonic; at each step the active sockets (a fixed pseudo-random
// `percent` of them) and their processes move bytes. Entries come in a
// fixed pseudo-random order, as a hash map's batch lookup returned them
// (the previous design's reader). Or, with `changes`, the entries that
// changed since the last read in slot order, each with its slot, as
// MapReader's change feed gives them.
class Load : public SnapshotSource {
 public:
  Load(LoadShape shape, bool changes) : shape_(shape), changes_(changes) {
    Shape s{.conns = shape.socks, .procs = shape.procs(), .remotes = shape.remotes()};
    for (size_t i = 0; i < s.procs; ++i)
      snap_.procs.push_back({.id = proc_id(i), .info = proc_info(i), .bytes = {.tx = 1, .rx = 1}});
    for (size_t j = 0; j < s.conns; ++j)
      snap_.conns.push_back({.id = {.cookie = j + 1, .proc = proc_id(j % s.procs)},
                             .info = conn_info(j, s),
                             .tx = 1,
                             .rx = 1});
    if (changes) {
      // The change feed reads the kernel's slots in index order and says
      // where each entry lives (slots are taken in order of first use).
      for (uint32_t i = 0; i < snap_.procs.size(); ++i) snap_.procs[i].slot = i;
      for (uint32_t j = 0; j < snap_.conns.size(); ++j) snap_.conns[j].slot = j;
    } else {
      std::mt19937_64 rng(42);
      std::shuffle(snap_.procs.begin(), snap_.procs.end(), rng);
      std::shuffle(snap_.conns.begin(), snap_.conns.end(), rng);
    }
    std::vector<size_t> at(s.procs);
    for (size_t i = 0; i < snap_.procs.size(); ++i) at[snap_.procs[i].id.tgid - 100000] = i;
    std::vector<bool> has_one(s.procs);
    for (size_t k = 0; k < snap_.conns.size(); ++k) {
      size_t j = snap_.conns[k].id.cookie - 1, p = at[snap_.conns[k].id.proc.tgid - 100000];
      slices_[mix(j) % 100].push_back({k, p, j});
      if (!has_one[p]) one_per_proc_.push_back({k, p, j});
      has_one[p] = true;
    }
    snap_.stats.conn_created = s.conns;
    snap_.stats.proc_created = s.procs;
    conn_dirty_.assign(snap_.conns.size(), false);
    proc_dirty_.assign(snap_.procs.size(), false);
  }
  const LoadShape& shape() const { return shape_; }
  // The bytes of one window: the sockets of slices [from, to) of 100 move
  // (the load's own activity is slices [0, percent)).
  void step(size_t from, size_t to) {
    tick();
    for (size_t k = from; k < to; ++k)
      for (const Mover& m : slices_[k]) move(m);
  }
  void step() { step(0, shape_.percent); }
  // One socket of every tenth process moves (`tenth` 0..9).
  void step_processes(size_t tenth) {
    tick();
    size_t n = one_per_proc_.size();
    for (size_t i = tenth * n / 10; i < (tenth + 1) * n / 10; ++i) move(one_per_proc_[i]);
  }
  // The kernel read's cost is not this benchmark's: timing pauses while
  // the Snapshot is built (copied).
  benchmark::State* timing = nullptr;
  Snapshot read() override {
    if (timing) timing->PauseTiming();
    Snapshot s = changes_ && primed_ ? changed() : snap_;
    primed_ = true;
    if (timing) timing->ResumeTiming();
    return s;
  }
  uint64_t remove(const std::vector<ProcId>&, const Snapshot&) override { return 0; }

 private:
  struct Mover {
    size_t conn, proc, j;
  };
  LoadShape shape_;
  bool changes_, primed_ = false;
  Snapshot snap_;
  std::array<std::vector<Mover>, 100> slices_;
  std::vector<Mover> one_per_proc_;
  std::vector<bool> conn_dirty_, proc_dirty_;
  std::vector<size_t> conns_changed_, procs_changed_;

  void tick() {
    snap_.mono_ns += 1'000'000'000;
    snap_.wall_ns = 1'700'000'000'000'000'000 + snap_.mono_ns;
  }
  void move(const Mover& m) {
    uint64_t tx = 1000 + (m.j * 37) % 50000, rx = 500 + (m.j * 91) % 200000;
    snap_.conns[m.conn].tx += tx;
    snap_.conns[m.conn].rx += rx;
    snap_.procs[m.proc].bytes.tx += tx;
    snap_.procs[m.proc].bytes.rx += rx;
    if (!changes_) return;
    if (!conn_dirty_[m.conn]) conns_changed_.push_back(m.conn);
    if (!proc_dirty_[m.proc]) procs_changed_.push_back(m.proc);
    conn_dirty_[m.conn] = proc_dirty_[m.proc] = true;
  }
  Snapshot changed() {
    Snapshot s{.mono_ns = snap_.mono_ns, .wall_ns = snap_.wall_ns, .stats = snap_.stats};
    s.changes = true;
    std::sort(procs_changed_.begin(), procs_changed_.end());  // in slot order
    std::sort(conns_changed_.begin(), conns_changed_.end());
    for (size_t k : procs_changed_) s.procs.push_back(snap_.procs[k]);
    for (size_t k : conns_changed_) s.conns.push_back(snap_.conns[k]);
    for (size_t k : procs_changed_) proc_dirty_[k] = false;
    for (size_t k : conns_changed_) conn_dirty_[k] = false;
    procs_changed_.clear();
    conns_changed_.clear();
    return s;
  }
};

// Names as a host has them: most are longer than a short string's inline
// buffer, as paths and unit names are.
class HostResolver : public Resolver {
 public:
  std::optional<std::string> exe(uint32_t pid) override {
    return "/opt/service-" + std::to_string(pid % 50) + "/bin/worker";
  }
  std::optional<std::string> user(uint32_t uid) override { return "user" + std::to_string(uid); }
  CgroupName cgroup(uint64_t id) override {
    std::string unit = "worker-" + std::to_string(id) + ".service";
    return {.path = "/system.slice/" + unit, .container = unit};
  }
};

// Nobody exits here. The product's watch (PidfdWatch) costs one epoll_wait
// per poll when nobody exited (poll/pidfd_ended), and a pidfd per new
// process, of which a steady load has none.
struct NoExits : ExitWatch {
  void watch(const ProcId&) override {}
  bool unwatch(const ProcId&) override { return false; }
  std::vector<ProcId> ended() override { return {}; }
};

// One pipeline over one load: poller, attribution, and top's model and
// screen. The poller's first read is the baseline; warm() makes every
// process move bytes once, a tenth of them per window (one socket each: as
// on a host where every process has moved bytes at some point, not all at
// once), then runs 45 windows of the load's own activity (a full 40 s
// history, after which the processes not in it are idle rows).
struct Pipeline {
  Pipeline(LoadShape shape, bool changes)
      : load(shape, changes), poller(load, exits), attributor({}, resolver), model(0, 1.0) {
    header.backend = "tracepoint";
    header.clock = "15:40:01";
  }
  Attributed next() {
    load.step();
    return attributor.attribute(poller.poll());
  }
  template <typename F>
  void warm(F&& each) {
    for (size_t tenth = 0; tenth < 10 && load.shape().percent < 100; ++tenth) {
      load.step_processes(tenth);
      each(attributor.attribute(poller.poll()));
    }
    for (int i = 0; i < 45; ++i) each(next());
  }
  void warm(bool top) {
    warm([&](const Attributed& a) {
      if (top) update(a);
    });
  }
  void update(const Attributed& a) { model.update(a, double(a.end_mono) / 1e9); }
  std::vector<std::string> frame() {
    header.totals = model.totals();
    state.query.spark_buckets = spark_width(kWidth);
    FrameRows rows = frame_rows(model, state, rows_room(kHeight, header));  // as Live::frame
    return render_frame(header, rows, state, kWidth, kHeight, true);
  }
  Load load;
  NoExits exits;
  Poller poller;
  HostResolver resolver;
  Attributor attributor;
  TopModel model;
  TopHeader header;
  TopState state;
};

// Built once per shape and kind (warming up 100,000 sockets takes seconds)
// and shared by the repetitions, which only move its clock on.
Pipeline& pipeline(LoadShape shape, bool top, bool changes) {
  static std::map<std::string, std::unique_ptr<Pipeline>> cache;
  auto& p = cache[shape.name() + (top ? "/top" : "") + (changes ? "/changes" : "")];
  if (!p) {
    p = std::make_unique<Pipeline>(shape, changes);
    p->warm(top);
  }
  return *p;
}

// `kinds`: the tables assembled (every grouping: a JSON report; the
// process table alone: `netacct report`'s default text sink).
void report_refresh(benchmark::State& st, LoadShape shape, bool changes,
                    std::vector<GroupKind> kinds) {
  Pipeline& p = pipeline(shape, false, changes);
  p.load.timing = &st;
  for (auto _ : st) {
    st.PauseTiming();
    p.load.step();
    st.ResumeTiming();
    Report r = assemble(p.attributor.attribute(p.poller.poll()), "host", "tracepoint", kinds);
    benchmark::DoNotOptimize(r.tables.data());
  }
  p.load.timing = nullptr;
  st.counters["socks"] = double(shape.socks);
}

void top_refresh(benchmark::State& st, LoadShape shape) {
  Pipeline& p = pipeline(shape, true, false);
  for (auto _ : st) {
    st.PauseTiming();
    Attributed a = p.next();
    st.ResumeTiming();
    p.update(a);
    auto lines = p.frame();
    benchmark::DoNotOptimize(lines.data());
  }
  st.counters["socks"] = double(shape.socks);
}

void top_whole(benchmark::State& st, LoadShape shape, bool changes) {
  Pipeline& p = pipeline(shape, true, changes);
  p.load.timing = &st;
  for (auto _ : st) {
    st.PauseTiming();
    p.load.step();
    st.ResumeTiming();
    p.update(p.attributor.attribute(p.poller.poll()));
    auto lines = p.frame();
    benchmark::DoNotOptimize(lines.data());
  }
  p.load.timing = nullptr;
  st.counters["socks"] = double(shape.socks);
}

// Peak resident set of this process (VmHWM), in bytes.
uint64_t peak_rss() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}

// A fresh process runs the scenario and prints its peak RSS: what one
// `netacct report` (text sink) or `netacct top` (frames) holds over this
// load, with no benchmark fixture in the same address space.
void rss(benchmark::State& st, const std::string& scenario) {
  char exe[4096] = {};
  if (readlink("/proc/self/exe", exe, sizeof exe - 1) <= 0) {
    st.SkipWithError("readlink /proc/self/exe");
    return;
  }
  uint64_t bytes = 0;
  for (auto _ : st) {
    std::string cmd = std::string(exe) + " " + rss_flag() + scenario;
    FILE* f = popen(cmd.c_str(), "r");
    unsigned long long got = 0;
    bool ok = f && std::fscanf(f, "peak_rss %llu", &got) == 1;
    if (f) pclose(f);
    if (!ok) {
      st.SkipWithError(("no answer from " + cmd).c_str());
      return;
    }
    bytes = got;
  }
  st.counters["peak_RSS_MiB"] = double(bytes) / (1 << 20);
}

class NullBuf : public std::streambuf {
 protected:
  int overflow(int c) override { return c; }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

}  // namespace

// "report:100000:1": the scenario run by rss() in a child process.
int run_rss_scenario(const std::string& spec) {
  std::istringstream in(spec);
  std::string kind, socks, percent, mode;
  std::getline(in, kind, ':');
  std::getline(in, socks, ':');
  std::getline(in, percent, ':');
  std::getline(in, mode, ':');
  LoadShape shape{.socks = std::stoul(socks), .percent = std::stoul(percent)};
  Pipeline p(shape, mode == "changes");
  NullBuf null;
  std::ostream sink(&null);
  ReportWriter writer(sink, Format::text, GroupKind::process);
  p.warm([&](const Attributed& a) {
    if (kind == "top") {
      p.update(a);
      auto lines = p.frame();
      benchmark::DoNotOptimize(lines.data());
    } else {
      writer.write(assemble(a, "host", "tracepoint", writer.tables()));  // as report_cmd
    }
  });
  std::printf("peak_rss %llu\n", (unsigned long long)peak_rss());
  return 0;
}

void register_refresh_benchmarks() {
  for (size_t percent : {size_t(1), size_t(100)})
    for (size_t socks : {size_t(1000), size_t(10000), size_t(100000)}) {
      LoadShape s{.socks = socks, .percent = percent};
      common(benchmark::RegisterBenchmark(("refresh/report/" + s.name()).c_str(), report_refresh, s,
                                          false, every_grouping()));
      common(benchmark::RegisterBenchmark(("refresh/report_changes/" + s.name()).c_str(),
                                          report_refresh, s, true, every_grouping()));
      if (socks == 100000)
        common(benchmark::RegisterBenchmark(("refresh/report_text_changes/" + s.name()).c_str(),
                                            report_refresh, s, true,
                                            std::vector<GroupKind>{GroupKind::process}));
      common(benchmark::RegisterBenchmark(("refresh/top/" + s.name()).c_str(), top_refresh, s));
    }
  for (size_t percent : {size_t(1), size_t(100)}) {
    LoadShape s{.socks = 100000, .percent = percent};
    common(benchmark::RegisterBenchmark(("refresh/top_whole/" + s.name()).c_str(), top_whole, s,
                                        false));
    common(benchmark::RegisterBenchmark(("refresh/top_whole_changes/" + s.name()).c_str(),
                                        top_whole, s, true));
  }
  for (const char* kind : {"report", "top"})
    for (const char* load : {"1", "100", "1:changes", "100:changes"}) {
      std::string spec = std::string(kind) + ":100000:" + load;
      std::string pct(load), mode;
      if (auto colon = pct.find(':'); colon != std::string::npos) {
        mode = "/" + pct.substr(colon + 1);
        pct.resize(colon);
      }
      std::string name = std::string("rss/") + kind + "/socks:100000/active:" + pct + mode;
      benchmark::RegisterBenchmark(name.c_str(), rss, spec)
          ->Iterations(1)
          ->Repetitions(1)
          ->Unit(benchmark::kMillisecond);
    }
}

}  // namespace netacct::bench
