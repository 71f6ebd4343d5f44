// The exporter's accumulator (netacct serve): every window's attributed
// traffic added to cumulative counters per label set, each metric kept
// within a series budget, and published as plain samples that the /metrics
// sink (output/prometheus) turns into the exposition. Pure: no kernel, no
// HTTP, no formatting (label values stay raw; the sink escapes them).
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "model/attribution.hpp"

namespace netacct {

using LabelValues = std::vector<std::string>;

struct LabelValuesHash {
  size_t operator()(const LabelValues& v) const noexcept {
    size_t h = v.size();
    for (const auto& s : v) h = (h ^ std::hash<std::string>()(s)) * 0x9e3779b97f4a7c15ull;
    return h;
  }
};

// What a fold leaves of a label set: "other" in every label but the kept
// ones (direction).
inline constexpr const char* kOtherLabel = "other";

// One metric's cumulative values per label set, within a budget. When more
// than `max_series` label sets hold values at the end of a window, the
// least active (lowest decayed activity; ties: the oldest) fold into the
// metric's `other` series: their labels become "other" except the kept
// ones, their values move there, and their later deltas go there too
// (sticky). So no series ever goes down, and the sum over the series is
// always the true total. A label set that is already all "other" is the
// other series itself.
class FoldedCounter {
 public:
  struct Config {
    std::vector<std::string> label_names;
    std::vector<bool> kept;  // by position: labels a fold keeps
    size_t max_series = 2000;
    double half_life_s = 60;  // of the activity score
    // Folded label sets remembered (sticky); beyond that the longest folded
    // are forgotten, so memory stays bounded when names churn without end.
    size_t remembered_folds = 100000;
    // A label set added with nothing yet gets its series at 0 (an
    // interface's receipt: every class shown, 0 included); else a series
    // starts with its first bytes (a program that only sends has no rx).
    bool zero_series = false;
  };
  struct Sample {
    LabelValues labels;
    int64_t value = 0;
  };

  explicit FoldedCounter(Config cfg);
  const std::vector<std::string>& label_names() const { return cfg_.label_names; }
  // Adds a window's delta (signed: a gauge summed over windows may fall).
  void add(const LabelValues& labels, int64_t delta);
  // Ends a window of `seconds`: decays every series' activity by it, then
  // folds down to the budget.
  void end_window(double seconds);
  // Every series, by labels (the other series among them).
  std::vector<Sample> samples() const;
  uint64_t folded() const { return folded_count_; }  // label sets folded so far
  size_t series() const { return live_.size(); }     // not counting other series
  int64_t sum() const;

 private:
  struct Series {
    int64_t value = 0;
    double score = 0;    // decayed activity (bytes), as of the last window end
    double pending = 0;  // activity in this window
    uint64_t born = 0;   // creation order: ties fold the oldest first
  };
  Config cfg_;
  std::unordered_map<LabelValues, Series, LabelValuesHash> live_;
  std::unordered_map<LabelValues, int64_t, LabelValuesHash> other_;
  std::unordered_set<LabelValues, LabelValuesHash> folded_;
  std::deque<LabelValues> fold_order_;  // folded_, oldest first
  uint64_t born_ = 0, folded_count_ = 0;

  LabelValues other_of(const LabelValues& labels) const;
  void fold(std::unordered_map<LabelValues, Series, LabelValuesHash>::iterator it);
  void remember_fold(const LabelValues& labels);
};

// What the exporter shows, as the command configures it.
struct ExporterConfig {
  size_t max_series = 2000;
  bool pid_labels = false;  // program series also by PID
  bool containers = false;  // per-cgroup series
  bool wire = false;        // the wire layer is counted
  std::string version, backend;
};

// netacct's own health at one refresh, read by the command.
struct ProgramRun {
  std::string program;
  uint64_t run_time_ns = 0, runs = 0;
};
struct MapFill {
  std::string map;
  uint64_t entries = 0, capacity = 0;
};
struct Health {
  bool run_stats = false;  // kernel run time statistics are on
  std::vector<ProgramRun> programs;
  std::vector<MapFill> maps;
  double refresh_s = 0;  // the last refresh: read, attribution, accumulation
};

enum class MetricType { counter, gauge };

// One metric as published: names and help for the sink, raw label values.
struct MetricData {
  std::string name, help;
  MetricType type = MetricType::counter;
  std::vector<std::string> label_names;
  struct Sample {
    LabelValues labels;
    double value = 0;
  };
  std::vector<Sample> samples;
};

struct ExporterState {
  std::vector<MetricData> metrics;
  const MetricData* find(const std::string& name) const;
};

class ExporterAccumulator {
 public:
  explicit ExporterAccumulator(ExporterConfig cfg);
  // One window, attributed and selected.
  void add(const Attributed& a);
  // Everything accumulated so far, with this refresh's health.
  ExporterState state(const Health& h) const;

 private:
  ExporterConfig cfg_;
  FoldedCounter programs_, containers_;
  FoldedCounter wire_bytes_, wire_packets_, retrans_, forwarded_, unattributed_, unexplained_;
  uint64_t tx_total_ = 0, rx_total_ = 0;
  uint64_t conns_evicted_ = 0, insert_failed_ = 0;

  void add_programs(const Attributed& a);
  void add_containers(const Attributed& a);
  void add_wire(const Attributed& a);
  std::vector<const FoldedCounter*> folded_metrics(std::vector<std::string>* names) const;
  void add_traffic_metrics(ExporterState& s) const;
  void add_health_metrics(ExporterState& s, const Health& h) const;
};

}  // namespace netacct
