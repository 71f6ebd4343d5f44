// The /metrics sink: the exporter's published state as prometheus-cpp
// metric families. The accumulator runs on the event loop and publishes a
// new state after each refresh; HTTP threads (prometheus-cpp's Exposer)
// only take the latest one, under a lock held for a pointer copy, so a slow
// or stalled client never holds up accounting.
#pragma once
#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "model/exporter.hpp"

namespace netacct {

// The families of `state`, in its order. Label values that processes
// control (program names, users, container names) are escaped the way
// every sink escapes them (escape_visible: valid UTF-8, no control
// characters); prometheus-cpp then escapes \, " and newlines for the
// exposition.
std::vector<prometheus::MetricFamily> to_families(const ExporterState& state);

class MetricsCollectable final : public prometheus::Collectable {
 public:
  MetricsCollectable() : state_(std::make_shared<const ExporterState>()) {}
  // The event loop's side: the state to serve from now on.
  void publish(std::shared_ptr<const ExporterState> state);
  // An HTTP thread's side: the latest state's families, and
  // netacct_scrape_duration_seconds (the previous scrape's time to build them).
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const ExporterState> state_;
  mutable std::atomic<double> last_scrape_s_{0};
  std::shared_ptr<const ExporterState> latest() const;
};

}  // namespace netacct
