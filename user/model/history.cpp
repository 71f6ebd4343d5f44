#include "model/history.hpp"

#include <algorithm>
#include <cmath>

namespace netacct {

SampleClock::SampleClock(double start, double delay)
    : start_(start), capacity_(size_t(std::ceil(kHistorySeconds / std::max(delay, 0.05))) + 2) {}

void SampleClock::tick(double now) {
  ++seq_;
  ends_.push_back(now);
  if (ends_.size() > capacity_) ends_.erase(ends_.begin());
}

double SampleClock::end_of(uint64_t seq) const {
  if (seq == 0) return start_;
  size_t back = size_t(seq_ - seq);  // 0 = newest
  if (back >= ends_.size()) return start_;
  return ends_[ends_.size() - 1 - back];
}

double SampleClock::duration(uint64_t seq) const {
  double start = seq <= 1 ? start_ : end_of(seq - 1);
  return std::max(end_of(seq) - start, 1e-9);
}

size_t SampleClock::samples_within(double window) const {
  size_t n = 0;
  double now = this->now();
  // Once older ends were dropped, the oldest kept end only starts the next
  // sample: the sample it ends began at an unknown time.
  size_t known = seq_ > ends_.size() ? ends_.size() - 1 : ends_.size();
  // A sample counts when it ended inside the window (its start may be just
  // before it: delays rarely divide the windows exactly).
  while (n < known && now - ends_[ends_.size() - 1 - n] < window - 1e-6) ++n;
  return std::max<size_t>(n, ends_.empty() ? 0 : 1);
}

double SampleClock::span(size_t samples) const {
  if (samples == 0) return 0;
  return now() - end_of(seq_ - samples);
}

RowHistory::Sample RowHistory::slot(size_t i) const {
  if (wide_) return {wide_[2 * i], wide_[2 * i + 1]};
  if (narrow_) return {narrow_[2 * i], narrow_[2 * i + 1]};
  return {};
}

void RowHistory::put(size_t i, Sample s) {
  if (!wide_ && (s.tx > UINT32_MAX || s.rx > UINT32_MAX)) {
    wide_ = std::make_unique<uint64_t[]>(2 * size_t(slots_));
    for (size_t k = 0; k < 2 * size_t(slots_); ++k) wide_[k] = narrow_[k];
    narrow_.reset();
  }
  if (wide_) {
    wide_[2 * i] = s.tx;
    wide_[2 * i + 1] = s.rx;
  } else {
    narrow_[2 * i] = uint32_t(s.tx);
    narrow_[2 * i + 1] = uint32_t(s.rx);
  }
}

RowHistory::Sample RowHistory::at(uint64_t seq) const {
  bool stored = slots_ && seq > 0 && seq <= last_seq_ && last_seq_ - seq < slots_;
  if (!stored) return {};
  if (ring()) return slot(seq % slots_);
  for (uint8_t i = 0; i < few_n_; ++i)
    if (few_[i].seq == seq) return {few_[i].tx, few_[i].rx};
  return {};
}

void RowHistory::release() {
  few_.reset();
  few_n_ = few_cap_ = 0;
  narrow_.reset();
  wide_.reset();
}

// Keeps the bytes among the few samples; false when they do not fit there
// (too many samples, or more than 32 bits): the row needs a ring.
bool RowHistory::add_few(uint64_t seq, uint64_t tx, uint64_t rx) {
  uint8_t keep = 0;  // samples that left the history are dropped
  for (uint8_t i = 0; i < few_n_; ++i)
    if (seq - few_[i].seq < slots_) few_[keep++] = few_[i];
  few_n_ = keep;
  bool same = few_n_ && few_[few_n_ - 1].seq == seq;
  uint64_t t = tx + (same ? few_[few_n_ - 1].tx : 0), r = rx + (same ? few_[few_n_ - 1].rx : 0);
  if (!t && !r) return true;
  if (t > UINT32_MAX || r > UINT32_MAX || (!same && few_n_ == kFew)) return false;
  if (!same) {
    if (few_n_ == few_cap_) {
      uint8_t cap = few_cap_ ? uint8_t(2 * few_cap_) : 1;
      auto grown = std::make_unique<Few[]>(cap);
      std::copy(few_.get(), few_.get() + few_n_, grown.get());
      few_ = std::move(grown);
      few_cap_ = cap;
    }
    few_[few_n_++].seq = seq;
  }
  few_[few_n_ - 1].tx = uint32_t(t);
  few_[few_n_ - 1].rx = uint32_t(r);
  return true;
}

void RowHistory::to_ring() {
  narrow_ = std::make_unique<uint32_t[]>(2 * size_t(slots_));  // zeroed
  for (uint8_t i = 0; i < few_n_; ++i) put(few_[i].seq % slots_, {few_[i].tx, few_[i].rx});
  few_.reset();
  few_n_ = few_cap_ = 0;
}

void RowHistory::add_ring(uint64_t seq, uint64_t tx, uint64_t rx) {
  // Samples skipped since this row's last bytes were idle: zero them.
  uint64_t oldest = seq >= slots_ ? seq - slots_ + 1 : 1;
  for (uint64_t s = std::max(last_seq_ + 1, oldest); s < seq; ++s) put(s % slots_, {});
  Sample now = seq == last_seq_ ? slot(seq % slots_) : Sample{};
  now.tx += tx;
  now.rx += rx;
  put(seq % slots_, now);
}

void RowHistory::add(const SampleClock& clock, uint64_t tx, uint64_t rx) {
  slots_ = uint32_t(clock.capacity());
  uint64_t seq = clock.seq();
  if (!ring() && !add_few(seq, tx, rx)) to_ring();
  if (ring()) add_ring(seq, tx, rx);
  last_seq_ = seq;
  totals_.total_tx += tx;
  totals_.total_rx += rx;
  Sample now = at(seq);
  double d = clock.duration(seq);
  totals_.peak_tx = std::max(totals_.peak_tx, double(now.tx) / d);
  totals_.peak_rx = std::max(totals_.peak_rx, double(now.rx) / d);
  if (tx || rx) totals_.last_active = clock.now();
}

std::pair<uint64_t, uint64_t> RowHistory::bytes_within(const SampleClock& clock,
                                                       size_t samples) const {
  uint64_t tx = 0, rx = 0;
  if (holds_samples())
    for (size_t i = 0; i < samples; ++i) {
      Sample s = at(clock.seq() - i);
      tx += s.tx;
      rx += s.rx;
    }
  return {tx, rx};
}

std::pair<double, double> RowHistory::rate(const SampleClock& clock, size_t window) const {
  size_t n = clock.samples_within(kRateWindows[window]);
  auto [tx, rx] = bytes_within(clock, n);
  double span = clock.span(n);
  return {span > 0 ? double(tx) / span : 0, span > 0 ? double(rx) / span : 0};
}

Rates RowHistory::rates(const SampleClock& clock) const {
  Rates r;
  for (size_t w = 0; w < kRateWindows.size(); ++w) {
    size_t n = clock.samples_within(kRateWindows[w]);
    auto [tx, rx] = bytes_within(clock, n);
    double span = clock.span(n);
    r.tx_bytes[w] = tx;
    r.rx_bytes[w] = rx;
    r.tx[w] = span > 0 ? double(tx) / span : 0;
    r.rx[w] = span > 0 ? double(rx) / span : 0;
  }
  return r;
}

RowHistory::Spark RowHistory::sparkline(const SampleClock& clock, size_t buckets) const {
  Spark out{.tx = std::vector<double>(buckets, 0), .rx = std::vector<double>(buckets, 0)};
  if (buckets == 0 || !holds_samples()) return out;
  size_t n = clock.samples_within(kHistorySeconds);
  double width = kHistorySeconds / double(buckets);
  for (size_t i = 0; i < n; ++i) {
    Sample s = at(clock.seq() - i);
    if (!s.tx && !s.rx) continue;
    // The sample covers [ago, ago + d) seconds ago: spread it over the
    // buckets it overlaps, in proportion; rate over the bucket.
    double d = clock.duration(clock.seq() - i), ago = clock.span(i);
    double end = std::min(ago + d, kHistorySeconds);
    for (size_t k = size_t(ago / width); k < buckets && double(k) * width < end; ++k) {
      double share = (std::min(end, double(k + 1) * width) - std::max(ago, double(k) * width)) / d;
      if (share <= 0) continue;
      out.tx[buckets - 1 - k] += double(s.tx) * share / width;
      out.rx[buckets - 1 - k] += double(s.rx) * share / width;
    }
  }
  return out;
}

}  // namespace netacct
