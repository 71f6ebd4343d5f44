// SampleClock + RowHistory on a synthetic clock: the process starts at 0 and
// ticks at `delay`, 2*delay, ... seconds.
#include "model/history.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using namespace netacct;

namespace {

using D3 = std::array<double, 3>;
using U3 = std::array<uint64_t, 3>;

// One row on its own clock. step(tx, rx) ends the next sample and adds the
// row's bytes to it; idle() ends a sample in which the row moved nothing.
struct Row {
  explicit Row(double delay = 1) : clock(0, delay), delay(delay) {}
  SampleClock clock;
  RowHistory h;
  double delay;
  void step(uint64_t tx, uint64_t rx = 0) {
    clock.tick(double(clock.seq() + 1) * delay);
    h.add(clock, tx, rx);
  }
  void idle(size_t n = 1) {
    for (size_t i = 0; i < n; ++i) clock.tick(double(clock.seq() + 1) * delay);
  }
  Rates rates() const { return h.rates(clock); }
  const Totals& totals() const { return h.totals(); }
  RowHistory::Spark spark(size_t buckets) const { return h.sparkline(clock, buckets); }
};

TEST(SampleClock, SpanOfEachWindowWhileStarting) {
  SampleClock c(0, 1);
  EXPECT_EQ(c.samples_within(2), 0u);
  EXPECT_EQ(c.span(0), 0);
  c.tick(1);
  EXPECT_EQ(c.samples_within(2), 1u);
  EXPECT_EQ(c.span(1), 1);
  for (int t = 2; t <= 50; ++t) c.tick(t);
  EXPECT_EQ(c.samples_within(2), 2u);
  EXPECT_EQ(c.samples_within(10), 10u);
  EXPECT_EQ(c.samples_within(40), 40u);
  EXPECT_EQ(c.span(40), 40);
  EXPECT_EQ(c.duration(50), 1);
  EXPECT_EQ(c.capacity(), 42u);  // 40 s at 1 s + 2
}

TEST(RowHistory, FirstSampleDividesByTheSecondActuallyCovered) {
  Row r;
  r.step(100, 50);
  Rates x = r.rates();
  EXPECT_EQ(x.tx, (D3{100, 100, 100}));
  EXPECT_EQ(x.rx, (D3{50, 50, 50}));
  EXPECT_EQ(x.tx_bytes, (U3{100, 100, 100}));
  EXPECT_EQ(x.rx_bytes, (U3{50, 50, 50}));
  EXPECT_EQ(r.totals().last_active, 1);
}

TEST(RowHistory, BeforeTenAndFortySeconds) {
  Row r;
  for (uint64_t t = 1; t <= 5; ++t) r.step(t, 2 * t);  // 1, 2, 3, 4, 5 bytes
  Rates x = r.rates();
  EXPECT_EQ(x.tx_bytes, (U3{9, 15, 15}));
  EXPECT_EQ(x.tx, (D3{4.5, 3, 3}));  // 9/2, 15/5, 15/5
  EXPECT_EQ(x.rx, (D3{9, 6, 6}));
}

TEST(RowHistory, TwoTenFortySecondWindows) {
  Row r;
  for (uint64_t t = 1; t <= 50; ++t) r.step(t, 2 * t);  // sample t moves t bytes
  Rates x = r.rates();
  EXPECT_EQ(x.tx_bytes, (U3{49 + 50, 455, 1220}));  // 41..50, 11..50
  EXPECT_EQ(x.tx, (D3{49.5, 45.5, 30.5}));
  EXPECT_EQ(x.rx_bytes, (U3{198, 910, 2440}));
  EXPECT_EQ(x.rx, (D3{99, 91, 61}));
  EXPECT_EQ(r.totals().peak_tx, 50);
  EXPECT_EQ(r.totals().peak_rx, 100);
  EXPECT_EQ(r.totals().total_tx, 1275u);
  EXPECT_EQ(r.totals().total_rx, 2550u);
}

TEST(RowHistory, PeakIsTheHighestSampleSinceStart) {
  Row r;
  r.step(10, 1);
  r.step(7000, 3);
  r.idle(60);  // long gone from every window
  r.step(20, 2);
  Rates x = r.rates();
  EXPECT_EQ(r.totals().peak_tx, 7000);
  EXPECT_EQ(r.totals().peak_rx, 3);
  EXPECT_EQ(x.tx, (D3{10, 2, 0.5}));
}

TEST(RowHistory, IdleRowDecaysToZeroButKeepsTotals) {
  Row r;
  for (int t = 1; t <= 10; ++t) r.step(100, 10);
  r.idle(1);                                           // now = 11
  EXPECT_EQ(r.rates().tx, (D3{50, 90, 1000 / 11.0}));  // 10 s: samples 2..11
  r.idle(1);                                           // 12
  EXPECT_EQ(r.rates().tx, (D3{0, 80, 1000 / 12.0}));
  r.idle(8);  // 20
  EXPECT_EQ(r.rates().tx, (D3{0, 0, 50}));
  r.idle(29);  // 49: sample 10 ended 39 s ago
  EXPECT_EQ(r.rates().tx_bytes, (U3{0, 0, 100}));
  r.idle(1);  // 50
  Rates x = r.rates();
  EXPECT_EQ(x.tx, (D3{0, 0, 0}));
  EXPECT_EQ(x.rx, (D3{0, 0, 0}));
  EXPECT_EQ(r.totals().total_tx, 1000u);
  EXPECT_EQ(r.totals().total_rx, 100u);
  EXPECT_EQ(r.totals().last_active, 10);
}

TEST(RowHistory, SampleWithoutBytesIsNotActivity) {
  Row r;
  r.step(5);
  r.step(0, 0);
  EXPECT_EQ(r.totals().last_active, 1);
}

TEST(RowHistory, GapLongerThanTheRing) {
  Row r;  // ring of 42 samples
  r.step(100, 100);
  r.idle(98);
  r.step(7, 3);  // sample 100 (100 % 42 != 1, but 85 % 42 == 1: must be zero)
  Rates x = r.rates();
  EXPECT_EQ(x.tx_bytes, (U3{7, 7, 7}));
  EXPECT_EQ(x.rx_bytes, (U3{3, 3, 3}));
  EXPECT_EQ(r.totals().total_tx, 107u);
  r.idle(1);
  EXPECT_EQ(r.rates().tx_bytes, (U3{7, 7, 7}));
  auto s = r.spark(8);
  EXPECT_EQ(s.tx, (std::vector<double>{0, 0, 0, 0, 0, 0, 0, 7 / 5.0}));
}

TEST(RowHistory, GapOfExactlyTheRing) {
  Row r;
  r.step(100);
  r.idle(41);
  r.step(1);  // sample 43 reuses sample 1's slot
  EXPECT_EQ(r.rates().tx_bytes, (U3{1, 1, 1}));
}

// Sample s at now = 40 ended 40 - s seconds ago; 8 buckets of 5 s, 20 of 2 s.
TEST(RowHistory, SparklineBucketPlacement) {
  Row r;
  for (uint64_t s = 1; s <= 40; ++s) {
    uint64_t tx = s == 3 ? 50 : s == 35 || s == 36 ? 5 : s == 40 ? 10 : 0;
    r.step(tx, s == 20 ? 40 : 0);
  }
  auto s8 = r.spark(8);
  //                                  35-40 s ago           5 s ago    0-4 s ago
  EXPECT_EQ(s8.tx, (std::vector<double>{10, 0, 0, 0, 0, 0, 1, 3}));
  EXPECT_EQ(s8.rx, (std::vector<double>{0, 0, 0, 8, 0, 0, 0, 0}));  // ended 20 s ago
  auto s20 = r.spark(20);
  std::vector<double> tx20(20, 0), rx20(20, 0);
  tx20[1] = 25;  // ended 37 s ago
  tx20[17] = 5;  // ended 5 and 4 s ago
  tx20[19] = 5;  // newest
  rx20[9] = 20;  // 20 s ago: bucket 20-22 s ago
  EXPECT_EQ(s20.tx, tx20);
  EXPECT_EQ(s20.rx, rx20);
  EXPECT_EQ(r.spark(0).tx.size(), 0u);
}

TEST(RowHistory, SparklineWhileStartingAndAfterBytesAge) {
  Row r;
  r.step(10);
  r.step(20);
  r.step(30);
  EXPECT_EQ(r.spark(8).tx, (std::vector<double>{0, 0, 0, 0, 0, 0, 0, 12}));
  r.idle(37);  // now 40: sample 1 ended 39 s ago
  EXPECT_EQ(r.spark(8).tx, (std::vector<double>{12, 0, 0, 0, 0, 0, 0, 0}));
  r.idle(3);  // all three are older than 40 s
  EXPECT_EQ(r.spark(8).tx, (std::vector<double>(8, 0)));
}

TEST(RowHistory, HalfSecondDelay) {
  Row r(0.5);
  EXPECT_EQ(r.clock.capacity(), 82u);
  r.step(10, 5);
  r.step(10, 5);
  r.step(10, 5);  // 1.5 s covered
  EXPECT_EQ(r.rates().tx, (D3{20, 20, 20}));
  for (int i = 3; i < 100; ++i) r.step(10, 5);  // now = 50
  Rates x = r.rates();
  EXPECT_EQ(x.tx_bytes, (U3{40, 200, 800}));
  EXPECT_EQ(x.tx, (D3{20, 20, 20}));
  EXPECT_EQ(x.rx, (D3{10, 10, 10}));
  EXPECT_EQ(r.totals().peak_tx, 20);
  EXPECT_EQ(r.spark(8).tx, (std::vector<double>(8, 20)));
  EXPECT_EQ(r.spark(20).rx, (std::vector<double>(20, 10)));
}

TEST(RowHistory, TwoSecondDelay) {
  Row r(2);
  r.step(200);  // now 2
  EXPECT_EQ(r.rates().tx, (D3{100, 100, 100}));
  for (int i = 1; i < 25; ++i) r.step(200);  // now 50
  Rates x = r.rates();
  EXPECT_EQ(x.tx_bytes, (U3{200, 1000, 4000}));
  EXPECT_EQ(x.tx, (D3{100, 100, 100}));
  EXPECT_EQ(r.totals().peak_tx, 100);
  EXPECT_EQ(r.spark(20).tx, (std::vector<double>(20, 100)));
}

// Regression (fixed): a sample is put whole into the bucket where it ended. With a 2 s delay
// and 5 s buckets, buckets alternately hold 3 and 2 samples, so a steady
// 100 B/s draws a sawtooth (80, 120, 80, ...) instead of a flat line.
TEST(RowHistory, SteadyTrafficDrawsAFlatSparklineAtTwoSecondDelay) {
  Row r(2);
  for (int i = 0; i < 25; ++i) r.step(200);
  EXPECT_EQ(r.spark(8).tx, (std::vector<double>(8, 100)));
}

// Regression (fixed): --delay accepts any positive value, but the clock keeps at most
// 40/0.05 + 2 sample ends. With more samples than that inside a window, the
// oldest kept sample's start is unknown and span() falls back to the start
// of the run, so the 40 s rate divides 25 s of bytes by the whole run time.
TEST(RowHistory, WindowNeverSpansMoreThanItsLengthAtTinyDelays) {
  Row r(1.0 / 32);                               // 32 samples/s; exact in binary
  for (int i = 0; i < 32 * 100; ++i) r.step(1);  // 32 B/s for 100 s
  EXPECT_EQ(r.rates().tx[0], 32);
  EXPECT_EQ(r.rates().tx[1], 32);
  EXPECT_DOUBLE_EQ(r.rates().tx[2], 32);
  EXPECT_LE(r.clock.span(r.clock.samples_within(40)), 40);
}

// Regression (fixed): after a stall the live loop refreshes back to back to
// catch up (next += delay), so many samples end within a few ms.
TEST(RowHistory, CatchUpBurstDoesNotStretchTheWindow) {
  Row r(1);
  for (int t = 1; t <= 100; ++t) r.step(100);
  for (int i = 1; i <= 50; ++i) {  // 50 refreshes 10 ms apart after 100 s
    r.clock.tick(100 + i / 100.0);
    r.h.add(r.clock, 100, 0);
  }
  EXPECT_LE(r.clock.span(r.clock.samples_within(2)), 2);
  EXPECT_GT(r.rates().tx[0], 1000);  // 100 B every 10 ms; not 5000 B / 100.5 s
}

}  // namespace

namespace {

// A row idle for the whole history gives its samples back; its totals stay
// and it counts on from them when it moves again.
TEST(RowHistory, ReleasedRowKeepsTotalsAndStartsAfresh) {
  Row r;
  r.step(100, 10);
  r.idle(45);
  EXPECT_TRUE(r.h.holds_samples());
  r.h.release();
  EXPECT_FALSE(r.h.holds_samples());
  EXPECT_EQ(r.rates().tx_bytes, (U3{0, 0, 0}));
  EXPECT_EQ(r.spark(8).tx, (std::vector<double>(8, 0)));
  EXPECT_EQ(r.totals().total_tx, 100u);
  r.step(7, 3);
  EXPECT_TRUE(r.h.holds_samples());
  EXPECT_EQ(r.rates().tx_bytes, (U3{7, 7, 7}));
  EXPECT_EQ(r.rates().rx_bytes, (U3{3, 3, 3}));
  EXPECT_EQ(r.totals().total_tx, 107u);
  EXPECT_EQ(r.totals().peak_tx, 100);
  EXPECT_EQ(r.totals().last_active, 47);
}

// Samples are kept in 32 bits until one does not fit; then every sample is
// kept in 64 bits, exactly.
TEST(RowHistory, SamplesAboveFourGibibytesAreExact) {
  Row r;
  for (int t = 1; t <= 5; ++t) r.step(1000, 2000);
  const uint64_t big = 5'000'000'000ull;
  r.step(big, 1);
  r.step(big + 1, 2);
  Rates x = r.rates();
  EXPECT_EQ(x.tx_bytes, (U3{2 * big + 1, 2 * big + 1 + 5000, 2 * big + 1 + 5000}));
  EXPECT_EQ(x.rx_bytes, (U3{3, 10003, 10003}));
  EXPECT_EQ(r.totals().total_tx, 2 * big + 1 + 5000);
  EXPECT_EQ(r.totals().peak_tx, double(big + 1));
  // Two adds to one sample (rows fed by several connections) that together
  // pass 32 bits.
  SampleClock clock(0, 1);
  RowHistory h;
  clock.tick(1);
  h.add(clock, 3'000'000'000ull, 0);
  h.add(clock, 3'000'000'000ull, 0);
  EXPECT_EQ(h.rates(clock).tx_bytes[0], 6'000'000'000ull);
}

}  // namespace

namespace {

// The first RowHistory: a ring of 64-bit samples for every row. The current
// one (few samples, 32-bit ring, released when idle) must answer the same.
class PlainHistory {
 public:
  void add(const SampleClock& clock, uint64_t tx, uint64_t rx) {
    if (ring_.empty()) ring_.resize(clock.capacity());
    uint64_t seq = clock.seq();
    uint64_t oldest = seq >= ring_.size() ? seq - ring_.size() + 1 : 1;
    for (uint64_t s = std::max(last_seq_ + 1, oldest); s < seq; ++s) ring_[s % ring_.size()] = {};
    auto& slot = ring_[seq % ring_.size()];
    if (seq != last_seq_) slot = {};
    slot.first += tx;
    slot.second += rx;
    last_seq_ = seq;
    totals.total_tx += tx;
    totals.total_rx += rx;
    double d = clock.duration(seq);
    totals.peak_tx = std::max(totals.peak_tx, double(slot.first) / d);
    totals.peak_rx = std::max(totals.peak_rx, double(slot.second) / d);
    if (tx || rx) totals.last_active = clock.now();
  }
  std::pair<uint64_t, uint64_t> at(uint64_t seq) const {
    bool stored = seq > 0 && seq <= last_seq_ && last_seq_ - seq < ring_.size();
    return stored ? ring_[seq % ring_.size()] : std::pair<uint64_t, uint64_t>{};
  }
  Rates rates(const SampleClock& clock) const {
    Rates r;
    for (size_t w = 0; w < kRateWindows.size(); ++w) {
      size_t n = clock.samples_within(kRateWindows[w]);
      uint64_t tx = 0, rx = 0;
      for (size_t i = 0; i < n; ++i) {
        tx += at(clock.seq() - i).first;
        rx += at(clock.seq() - i).second;
      }
      double span = clock.span(n);
      r.tx_bytes[w] = tx;
      r.rx_bytes[w] = rx;
      r.tx[w] = span > 0 ? double(tx) / span : 0;
      r.rx[w] = span > 0 ? double(rx) / span : 0;
    }
    return r;
  }
  RowHistory::Spark sparkline(const SampleClock& clock, size_t buckets) const {
    RowHistory::Spark out{.tx = std::vector<double>(buckets, 0),
                          .rx = std::vector<double>(buckets, 0)};
    size_t n = clock.samples_within(kHistorySeconds);
    double width = kHistorySeconds / double(buckets);
    for (size_t i = 0; i < n; ++i) {
      auto [stx, srx] = at(clock.seq() - i);
      if (!stx && !srx) continue;
      double d = clock.duration(clock.seq() - i), ago = clock.span(i);
      double end = std::min(ago + d, kHistorySeconds);
      for (size_t k = size_t(ago / width); k < buckets && double(k) * width < end; ++k) {
        double share =
            (std::min(end, double(k + 1) * width) - std::max(ago, double(k) * width)) / d;
        if (share <= 0) continue;
        out.tx[buckets - 1 - k] += double(stx) * share / width;
        out.rx[buckets - 1 - k] += double(srx) * share / width;
      }
    }
    return out;
  }
  Totals totals;

 private:
  std::vector<std::pair<uint64_t, uint64_t>> ring_;
  uint64_t last_seq_ = 0;
};

// Rows of every kind (rare, bursty, steady, huge, several adds per sample),
// at several delays, released as the live view releases them (idle for the
// whole 40 s): every rate, sparkline and total must be what the plain
// history gives.
TEST(RowHistory, SameAnswersAsThePlainHistory) {
  std::mt19937_64 rng(7);
  for (double delay : {1.0, 0.5, 2.0, 0.3}) {
    for (int kind = 0; kind < 5; ++kind) {
      SCOPED_TRACE("delay " + std::to_string(delay) + ", kind " + std::to_string(kind));
      SampleClock clock(0, delay);
      RowHistory h;
      PlainHistory plain;
      double now = 0;
      for (int step = 0; step < 400; ++step) {
        // Mostly on time, sometimes late or in a catch-up burst.
        now += rng() % 10 == 0 ? delay * double(1 + rng() % 3) : rng() % 20 == 0 ? 0.01 : delay;
        clock.tick(now);
        int adds = kind == 4 ? int(rng() % 4) : 1;
        for (int a = 0; a < adds; ++a) {
          bool moves = kind == 0   ? rng() % 30 == 0
                       : kind == 1 ? (step / 20) % 3 == 0 && rng() % 2 == 0
                       : kind == 2 ? true
                                   : rng() % 3 == 0;
          uint64_t tx = moves ? rng() % 5000 : 0, rx = moves ? rng() % 100 : 0;
          if (kind == 3 && moves && rng() % 4 == 0) tx = 3'000'000'000ull + rng() % 1000;
          if (!moves && rng() % 2) continue;  // a zero add, or none
          h.add(clock, tx, rx);
          plain.add(clock, tx, rx);
        }
        // The live view's release: nothing for the whole history.
        if (h.last_active() >= 0 && !(clock.now() - h.last_active() < kHistorySeconds - 1e-6))
          h.release();
        Rates a = h.rates(clock), b = plain.rates(clock);
        ASSERT_EQ(a.tx_bytes, b.tx_bytes) << "step " << step;
        ASSERT_EQ(a.rx_bytes, b.rx_bytes) << "step " << step;
        ASSERT_EQ(a.tx, b.tx) << "step " << step;
        for (size_t buckets : {8, 20}) {
          ASSERT_EQ(h.sparkline(clock, buckets).tx, plain.sparkline(clock, buckets).tx)
              << "step " << step;
          ASSERT_EQ(h.sparkline(clock, buckets).rx, plain.sparkline(clock, buckets).rx)
              << "step " << step;
        }
        ASSERT_EQ(h.totals().total_tx, plain.totals.total_tx);
        ASSERT_EQ(h.totals().peak_tx, plain.totals.peak_tx) << "step " << step;
        ASSERT_EQ(h.totals().peak_rx, plain.totals.peak_rx) << "step " << step;
        for (size_t w = 0; w < 3; ++w) {
          ASSERT_EQ(h.rate(clock, w).first, a.tx[w]);
          ASSERT_EQ(h.rate(clock, w).second, a.rx[w]);
        }
      }
    }
  }
}

}  // namespace
