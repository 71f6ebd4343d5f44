// The userspace side of one `netacct top` refresh, without the kernel read:
// attribution and TopModel::update with a window of N live connections, then
// what a frame needs (totals, the rows on screen of the processes view,
// render_frame at 80x24), as Live::refresh and Live::frame do in
// user/cli/top_cmd.cpp. Also the parts
// of a refresh around it: Accountant::advance (snapshot -> window), the
// procfs liveness check the poller made once per process per poll, and the
// pidfd watch that replaced it.
#include <malloc.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "bench.hpp"
#include "model/top_model.hpp"
#include "output/top_render.hpp"
#include "resolve/exit_watch.hpp"
#include "resolve/procfs.hpp"
#include "synthetic.hpp"

namespace netacct::bench {
namespace {

constexpr size_t kWidth = 80, kHeight = 24;

// A model that has seen 45 refreshes of the load (a full 40 s history), and
// the state of a screen on the processes view.
struct TopFixture {
  explicit TopFixture(size_t conns)
      : shape(Shape::of(conns)), w(window(shape)), model(0, 1.0) {  // start 0, -d 1
    header.backend = "tracepoint";
    header.clock = "15:40:01";
    for (int i = 0; i < 45; ++i) update();
  }
  void update() {
    now += 1;  // a refresh every second (-d 1, the default)
    w.start_mono = int64_t((now - 1) * 1e9);
    w.end_mono = int64_t(now * 1e9);
    model.update(attributor.attribute(w), now);
  }
  std::vector<std::string> frame() {
    header.totals = model.totals();
    state.query.spark_buckets = spark_width(kWidth);
    FrameRows rows = frame_rows(model, state, rows_room(kHeight, header));  // as Live::frame
    return render_frame(header, rows, state, kWidth, kHeight, true);
  }
  Shape shape;
  Window w;
  FakeResolver resolver;
  Attributor attributor{{}, resolver};
  TopModel model;
  TopHeader header;
  TopState state;
  double now = 0;
  double heap_mib = 0;
};

// Built once per size (45 refreshes take seconds at 65,536 connections) and
// shared: every benchmark on it only moves its clock on, a second a refresh.
TopFixture& fixture(size_t conns) {
  static std::map<size_t, std::unique_ptr<TopFixture>> cache;
  auto& f = cache[conns];
  if (!f) {
    size_t before = mallinfo2().uordblks;
    f = std::make_unique<TopFixture>(conns);
    // Heap held by the model (and the window) with a full 40 s history.
    f->heap_mib = double(mallinfo2().uordblks - before) / (1 << 20);
  }
  return *f;
}

void top_refresh(benchmark::State& st, size_t conns) {
  TopFixture& f = fixture(conns);
  for (auto _ : st) {
    f.update();
    auto lines = f.frame();
    benchmark::DoNotOptimize(lines.data());
  }
  st.counters["conns"] = double(f.shape.conns);
  st.counters["heap_MiB"] = f.heap_mib;
}

void top_update_only(benchmark::State& st, size_t conns) {
  TopFixture& f = fixture(conns);
  for (auto _ : st) {
    f.update();
    benchmark::ClobberMemory();
  }
}

void top_frame_only(benchmark::State& st, size_t conns) {
  TopFixture& f = fixture(conns);
  for (auto _ : st) {
    auto lines = f.frame();
    benchmark::DoNotOptimize(lines.data());
  }
}

// Snapshot -> window for N connections (the Poller's step after the read).
void accountant_advance(benchmark::State& st, size_t conns) {
  Shape s = Shape::of(conns);
  Snapshot a = snapshot(s, 1), b = snapshot(s, 2);
  Accountant acc;
  acc.prime(a);
  bool flip = false;
  for (auto _ : st) {
    flip = !flip;
    st.PauseTiming();
    Snapshot next = flip ? b : a;  // the poller hands its snapshot over, no copy
    st.ResumeTiming();
    Window w = acc.advance(std::move(next));
    benchmark::DoNotOptimize(w.conns.data());
  }
}

// One liveness check per process through procfs, as Poller::poll makes for
// every process of the snapshot it just read (once per process per refresh).
ProcId self_id() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  for (int i = 3; i <= 22; ++i) rest >> field;  // field 22: starttime in ticks
  return {uint32_t(getpid()),
          std::stoull(field) * (1000000000ull / uint64_t(sysconf(_SC_CLK_TCK)))};
}

void procfs_alive(benchmark::State& st, size_t procs) {
  ProcId self = self_id();
  ProcFs fs;
  if (!fs.alive(self)) {
    st.SkipWithError("procfs liveness check of this very process failed");
    return;
  }
  for (auto _ : st) {
    size_t alive = 0;
    for (size_t i = 0; i < procs; ++i) alive += fs.alive(self);
    benchmark::DoNotOptimize(alive);
  }
}

// The pidfd watch's share of a poll with `procs` processes watched and
// none ended: one epoll_wait, whatever their number. (The watched ids are
// this very process under as many exec generations: one pidfd each.)
void pidfd_ended(benchmark::State& st, size_t procs) {
  raise_open_files_limit();
  ProcId self = self_id();
  PidfdWatch watch;
  for (size_t i = 0; i < procs; ++i) watch.watch({self.tgid, self.start_ns, uint32_t(i)});
  if (watch.with_pidfd() != procs) {
    st.SkipWithError(("only " + std::to_string(watch.with_pidfd()) + " pidfds").c_str());
    return;
  }
  for (auto _ : st) {
    auto ended = watch.ended();
    benchmark::DoNotOptimize(ended.data());
  }
}

}  // namespace

void register_top_benchmarks() {
  common(benchmark::RegisterBenchmark("top/refresh/conns:10000", top_refresh, size_t(10000)));
  common(
      benchmark::RegisterBenchmark("top/model_update/conns:10000", top_update_only, size_t(10000)));
  common(
      benchmark::RegisterBenchmark("top/rows_render/conns:10000", top_frame_only, size_t(10000)));
  // The conns map's capacity (NA_MAX_CONNS): the most rows the model can get.
  common(benchmark::RegisterBenchmark("top/refresh/conns:65536", top_refresh, size_t(65536)));
  common(benchmark::RegisterBenchmark("top/refresh/conns:100000", top_refresh, size_t(100000)));
  for (size_t n : {size_t(10000), size_t(65536)})
    common(benchmark::RegisterBenchmark(
        ("poll/accountant_advance/conns:" + std::to_string(n)).c_str(), accountant_advance, n));
  common(benchmark::RegisterBenchmark("poll/procfs_alive/procs:500", procfs_alive, size_t(500)));
  // Finding the ended processes among 10,000: asking procfs for each (as
  // every poll did), or the pidfd watch (as it does now).
  common(
      benchmark::RegisterBenchmark("poll/procfs_alive/procs:10000", procfs_alive, size_t(10000)));
  common(benchmark::RegisterBenchmark("poll/pidfd_ended/procs:10000", pidfd_ended, size_t(10000)));
}

}  // namespace netacct::bench
