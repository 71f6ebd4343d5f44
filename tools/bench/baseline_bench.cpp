// Same-run baselines, so that results read as ratios to something this
// machine did in the same run: an empty call (the harness's floor) and
// memcpy of as many bytes as the measured code reads.
#include <cstring>
#include <vector>

#include "bench.hpp"
#include "model/accountant.hpp"
#include "synthetic.hpp"

namespace netacct::bench {

size_t map_bytes(size_t conns);  // map_bench.cpp

// The top refresh's input: the window's entries.
size_t window_bytes(size_t conns) {
  Shape s = Shape::of(conns);
  return s.conns * sizeof(ConnDelta) + s.procs * sizeof(ProcDelta);
}

std::string memcpy_name(size_t bytes) { return "baseline/memcpy/bytes:" + std::to_string(bytes); }

namespace {

[[gnu::noinline]] void empty_function() { asm volatile(""); }

void empty_call(benchmark::State& st) {
  for (auto _ : st) empty_function();
}

void copy(benchmark::State& st, size_t bytes) {
  std::vector<char> src(bytes, 1), dst(bytes, 0);
  for (auto _ : st) {
    std::memcpy(dst.data(), src.data(), bytes);
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(int64_t(st.iterations() * bytes));
}

}  // namespace

void register_baseline_benchmarks() {
  common(benchmark::RegisterBenchmark("baseline/empty_call", empty_call))
      ->Unit(benchmark::kNanosecond);
  for (size_t bytes : {window_bytes(10000), map_bytes(10000), map_bytes(100000)})
    common(benchmark::RegisterBenchmark(memcpy_name(bytes).c_str(), copy, bytes));
}

}  // namespace netacct::bench
