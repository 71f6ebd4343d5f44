// Per-row traffic history for the live view: the last 40 s of samples,
// rates over iftop's 2 s / 10 s / 40 s windows, peak rate and the
// cumulative bytes since start. Pure: the clock is the caller's.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace netacct {

constexpr double kHistorySeconds = 40;
constexpr std::array<double, 3> kRateWindows = {2, 10, 40};

// Averages over the rate windows.
struct Rates {
  std::array<double, 3> tx{}, rx{};                // bytes/s over kRateWindows
  std::array<uint64_t, 3> tx_bytes{}, rx_bytes{};  // bytes moved in them
};

// Since start.
struct Totals {
  double peak_tx = 0, peak_rx = 0;  // highest single-sample rate
  uint64_t total_tx = 0, total_rx = 0;
  double last_active = -1;  // time of the last sample with bytes
};

// The sample clock shared by every row: sample i covers (end[i-1], end[i]].
class SampleClock {
 public:
  // `delay`: the expected time between samples; the clock keeps enough of
  // them to cover the 40 s history (and rows size their rings to match).
  SampleClock(double start, double delay);
  // Starts sample number seq() ending at `now` (seconds, monotonic).
  void tick(double now);
  uint64_t seq() const { return seq_; }
  double now() const { return ends_.empty() ? start_ : ends_.back(); }
  // Samples (newest first) ending within the last `window` seconds; the
  // span they cover, no longer than the window or than netacct has run.
  size_t samples_within(double window) const;
  double span(size_t samples) const;
  double duration(uint64_t seq) const;  // length of one sample
  size_t capacity() const { return capacity_; }

 private:
  double start_;
  size_t capacity_;
  uint64_t seq_ = 0;
  std::vector<double> ends_;  // ends_[i] = end of sample i+1 (bounded)
  double end_of(uint64_t seq) const;
};

// A row's samples and totals. The samples take memory only while the row
// has moved bytes within the history (release() frees them once it has
// not): an idle row costs its totals alone. A row that moved in a few
// samples of the history keeps those few (sample number and bytes); one
// that moves more often keeps a ring of every sample, 32-bit until one
// does not fit.
class RowHistory {
 public:
  void add(const SampleClock& clock, uint64_t tx, uint64_t rx);
  Rates rates(const SampleClock& clock) const;
  // The rate over one of kRateWindows, as rates() computes it: what rows
  // are sorted by.
  std::pair<double, double> rate(const SampleClock& clock, size_t window) const;
  const Totals& totals() const { return totals_; }
  double last_active() const { return totals_.last_active; }  // -1: never
  // Rate per bucket over the last 40 s, oldest first, `buckets` long.
  struct Spark {
    std::vector<double> tx, rx;
  };
  Spark sparkline(const SampleClock& clock, size_t buckets) const;
  // Frees the samples of a row that moved nothing within the last 40 s:
  // none of them is inside any window any more. Totals stay.
  void release();
  bool holds_samples() const { return few_n_ || narrow_ || wide_; }

 private:
  static constexpr uint8_t kFew = 8;
  struct Sample {
    uint64_t tx = 0, rx = 0;
  };
  struct Few {
    uint64_t seq = 0;
    uint32_t tx = 0, rx = 0;
  };
  std::unique_ptr<Few[]> few_;          // the samples with bytes, oldest first
  std::unique_ptr<uint32_t[]> narrow_;  // ring: tx, rx per slot
  std::unique_ptr<uint64_t[]> wide_;    // the same, once a sample needed 64 bits
  uint8_t few_n_ = 0, few_cap_ = 0;
  uint32_t slots_ = 0;  // samples the history spans (the clock's capacity)
  uint64_t last_seq_ = 0;
  Totals totals_;
  bool ring() const { return narrow_ || wide_; }
  Sample at(uint64_t seq) const;
  Sample slot(size_t i) const;
  void put(size_t i, Sample s);
  bool add_few(uint64_t seq, uint64_t tx, uint64_t rx);
  void add_ring(uint64_t seq, uint64_t tx, uint64_t rx);
  void to_ring();
  std::pair<uint64_t, uint64_t> bytes_within(const SampleClock& clock, size_t samples) const;
};

}  // namespace netacct
