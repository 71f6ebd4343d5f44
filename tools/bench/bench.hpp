// netacct's benchmarks (Google Benchmark): registration shared by the files.
#pragma once
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>
#include <vector>

namespace netacct::bench {

// Milliseconds, and min/max next to Google Benchmark's mean, median, stddev
// and cv when repeated. Iterations are timed by the thread's CPU time
// (which includes the kernel's time in its syscalls): the cost netacct
// pays, whatever else the machine runs; wall time is reported too.
inline benchmark::internal::Benchmark* common(benchmark::internal::Benchmark* b) {
  return b->Unit(benchmark::kMillisecond)
      ->MinTime(0.3)
      ->ComputeStatistics(
          "min", [](const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); })
      ->ComputeStatistics("max", [](const std::vector<double>& v) {
        return *std::max_element(v.begin(), v.end());
      });
}

void register_top_benchmarks();       // top_bench.cpp
void register_map_benchmarks();       // map_bench.cpp
void register_baseline_benchmarks();  // baseline_bench.cpp
void register_refresh_benchmarks();   // refresh_bench.cpp
// refresh_bench.cpp's peak-RSS scenarios run in a child process started
// with this flag ("--netacct_rss=report:100000:1").
std::string rss_flag();
int run_rss_scenario(const std::string& spec);

}  // namespace netacct::bench
