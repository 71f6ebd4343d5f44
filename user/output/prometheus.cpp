#include "output/prometheus.hpp"

#include <chrono>

#include "output/format.hpp"

namespace netacct {
namespace {

prometheus::ClientMetric sample(const MetricData& m, const MetricData::Sample& s) {
  prometheus::ClientMetric out;
  for (size_t i = 0; i < m.label_names.size() && i < s.labels.size(); ++i)
    out.label.push_back({m.label_names[i], escape_visible(s.labels[i])});
  if (m.type == MetricType::counter)
    out.counter.value = s.value;
  else
    out.gauge.value = s.value;
  return out;
}

prometheus::MetricFamily family(const MetricData& m) {
  prometheus::MetricFamily f{.name = m.name,
                             .help = m.help,
                             .type = m.type == MetricType::counter ? prometheus::MetricType::Counter
                                                                   : prometheus::MetricType::Gauge,
                             .metric = {}};
  f.metric.reserve(m.samples.size());
  for (const auto& s : m.samples) f.metric.push_back(sample(m, s));
  return f;
}

prometheus::MetricFamily scrape_duration(double seconds) {
  prometheus::MetricFamily f{.name = "netacct_scrape_duration_seconds",
                             .help = "Time the previous scrape took to build its metrics",
                             .type = prometheus::MetricType::Gauge,
                             .metric = {prometheus::ClientMetric{}}};
  f.metric[0].gauge.value = seconds;
  return f;
}

}  // namespace

std::vector<prometheus::MetricFamily> to_families(const ExporterState& state) {
  std::vector<prometheus::MetricFamily> out;
  out.reserve(state.metrics.size() + 1);
  for (const auto& m : state.metrics) out.push_back(family(m));
  return out;
}

void MetricsCollectable::publish(std::shared_ptr<const ExporterState> state) {
  std::lock_guard lock(mu_);
  state_.swap(state);
  // The previous state (now in `state`) is freed after the lock is released.
}

std::shared_ptr<const ExporterState> MetricsCollectable::latest() const {
  std::lock_guard lock(mu_);
  return state_;
}

std::vector<prometheus::MetricFamily> MetricsCollectable::Collect() const {
  auto start = std::chrono::steady_clock::now();
  auto families = to_families(*latest());
  families.push_back(scrape_duration(last_scrape_s_.load()));
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  last_scrape_s_.store(took.count());
  return families;
}

}  // namespace netacct
