#include "model/accountant.hpp"

#include <gtest/gtest.h>

using namespace netacct;

namespace netacct {
void PrintTo(const ByteCounters& b, std::ostream* os) {
  *os << "{tx " << b.tx << ", rx " << b.rx << ", lo_tx " << b.lo_tx << ", lo_rx " << b.lo_rx << "}";
}
}  // namespace netacct

namespace {

const ProcId kA{100, 1'000};
const ProcId kB{200, 2'000};

ProcEntry proc(ProcId id, ByteCounters bytes, std::string comm = "app") {
  return {id, {std::move(comm), 1000, 7}, bytes};
}

ConnEntry conn(uint64_t cookie, ProcId p, uint64_t tx, uint64_t rx) {
  ConnEntry c;
  c.id = {cookie, p};
  c.info.family = 2;
  c.info.proto = 6;
  c.tx = tx;
  c.rx = rx;
  return c;
}

Snapshot snap(int64_t mono_s, std::vector<ProcEntry> procs = {}, std::vector<ConnEntry> conns = {},
              KernelStats stats = {}) {
  return {mono_s * 1'000'000'000, 1'700'000'000'000'000'000 + mono_s * 1'000'000'000,
          std::move(procs), std::move(conns), stats};
}

}  // namespace

TEST(Accountant, WindowSpansPreviousToCurrentSnapshot) {
  Accountant acc;
  acc.prime(snap(10));
  Window w = acc.advance(snap(15));
  EXPECT_EQ(w.start_mono, 10'000'000'000);
  EXPECT_EQ(w.end_mono, 15'000'000'000);
  EXPECT_EQ(w.start_wall, 1'700'000'010'000'000'000);
  EXPECT_EQ(w.end_wall, 1'700'000'015'000'000'000);
  EXPECT_DOUBLE_EQ(w.seconds(), 5.0);

  Window next = acc.advance(snap(17));
  EXPECT_EQ(next.start_mono, 15'000'000'000);
  EXPECT_DOUBLE_EQ(next.seconds(), 2.0);
}

TEST(Accountant, ReportsDeltasSincePrime) {
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {100, 200, 10, 20})}, {conn(1, kA, 50, 60)}));
  Window w = acc.advance(snap(1, {proc(kA, {150, 260, 11, 20})}, {conn(1, kA, 80, 100)}));

  ASSERT_EQ(w.procs.size(), 1u);
  EXPECT_EQ(w.procs[0].id, kA);
  EXPECT_EQ(w.procs[0].info.comm, "app");
  EXPECT_EQ(w.procs[0].bytes, (ByteCounters{50, 60, 1, 0}));
  ASSERT_EQ(w.conns.size(), 1u);
  EXPECT_EQ(w.conns[0].id, (ConnId{1, kA}));
  EXPECT_EQ(w.conns[0].tx, 30u);
  EXPECT_EQ(w.conns[0].rx, 40u);
}

TEST(Accountant, EachWindowStartsWhereThePreviousEnded) {
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {100, 0, 0, 0})}));
  acc.advance(snap(1, {proc(kA, {130, 0, 0, 0})}));
  Window w = acc.advance(snap(2, {proc(kA, {135, 0, 0, 0})}));
  ASSERT_EQ(w.procs.size(), 1u);
  EXPECT_EQ(w.procs[0].bytes, (ByteCounters{5, 0, 0, 0}));
}

TEST(Accountant, EntriesFirstSeenInWindowCountWhole) {
  Accountant acc;
  acc.prime(snap(0));
  Window w = acc.advance(snap(1, {proc(kB, {7, 8, 9, 10})}, {conn(5, kB, 3, 4)}));
  ASSERT_EQ(w.procs.size(), 1u);
  EXPECT_EQ(w.procs[0].bytes, (ByteCounters{7, 8, 9, 10}));
  ASSERT_EQ(w.conns.size(), 1u);
  EXPECT_EQ(w.conns[0].tx, 3u);
  EXPECT_EQ(w.conns[0].rx, 4u);
}

TEST(Accountant, ZeroDeltaEntriesAreOmitted) {
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {100, 200, 0, 0})}, {conn(1, kA, 50, 60)}));
  Window w = acc.advance(snap(1, {proc(kA, {100, 200, 0, 0}), proc(kB, {})},
                              {conn(1, kA, 50, 60), conn(2, kB, 0, 0)}));
  EXPECT_TRUE(w.procs.empty());
  EXPECT_TRUE(w.conns.empty());
}

TEST(Accountant, CounterThatDroppedCountsAsNew) {
  // The entry was evicted and re-created: its whole value is new.
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {1000, 0, 0, 0})}, {conn(1, kA, 500, 0)}));
  Window w = acc.advance(snap(1, {proc(kA, {40, 0, 0, 0})}, {conn(1, kA, 30, 0)}));
  ASSERT_EQ(w.procs.size(), 1u);
  EXPECT_EQ(w.procs[0].bytes, (ByteCounters{40, 0, 0, 0}));
  ASSERT_EQ(w.conns.size(), 1u);
  EXPECT_EQ(w.conns[0].tx, 30u);
}

// Regression (fixed): a re-created entry restarts *all* its counters, but since()
// treats each counter on its own: a counter that dropped counts whole while
// its siblings (already past their old values) count only the excess.
TEST(Accountant, RecreatedEntryCountsAllItsCountersWhole) {
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {1000, 200, 0, 0})}, {conn(1, kA, 1000, 200)}));
  Window w = acc.advance(snap(1, {proc(kA, {40, 500, 0, 0})}, {conn(1, kA, 40, 500)}));
  ASSERT_EQ(w.procs.size(), 1u);
  EXPECT_EQ(w.procs[0].bytes, (ByteCounters{40, 500, 0, 0}));  // actual: {40, 300, 0, 0}
  ASSERT_EQ(w.conns.size(), 1u);
  EXPECT_EQ(w.conns[0].rx, 500u);  // actual: 300
}

TEST(Accountant, ReusedPidIsADifferentProcess) {
  Accountant acc;
  const ProcId reused{kA.tgid, kA.start_ns + 1};
  acc.prime(snap(0, {proc(kA, {1000, 0, 0, 0})}));
  Window w = acc.advance(snap(1, {proc(reused, {1500, 0, 0, 0})}));
  ASSERT_EQ(w.procs.size(), 1u);
  EXPECT_EQ(w.procs[0].id, reused);
  EXPECT_EQ(w.procs[0].bytes.tx, 1500u);
}

TEST(Accountant, ConnsEvictedIsBasePlusCreatedMinusDeletedMinusLive) {
  Accountant acc;
  // 2 entries at start, conn_created already 10 then.
  acc.prime(snap(0, {}, {conn(1, kA, 1, 1), conn(2, kA, 1, 1)}, {10, 0, 0, 0}));
  // 3 created since: 5 expected, 4 live -> 1 evicted.
  Window w = acc.advance(
      snap(1, {}, {conn(1, kA, 1, 1), conn(2, kA, 1, 1), conn(3, kA, 1, 1), conn(4, kA, 1, 1)},
           {13, 0, 0, 0}));
  EXPECT_EQ(w.conns_evicted, 1u);

  // Userspace deletes 2 entries: they are not evictions. 5 - 2 expected, 1 live.
  acc.forget({}, 2);
  w = acc.advance(snap(2, {}, {conn(4, kA, 1, 1)}, {13, 0, 0, 0}));
  EXPECT_EQ(w.conns_evicted, 2u);

  // The count is since start, not per window.
  w = acc.advance(snap(3, {}, {conn(4, kA, 1, 1)}, {13, 0, 0, 0}));
  EXPECT_EQ(w.conns_evicted, 2u);
}

TEST(Accountant, NoEvictionsWhenEveryEntryIsAccountedFor) {
  Accountant acc;
  acc.prime(snap(0, {}, {conn(1, kA, 1, 1)}, {1, 0, 0, 0}));
  Window w = acc.advance(snap(1, {}, {conn(1, kA, 1, 1), conn(2, kA, 1, 1)}, {2, 0, 0, 0}));
  EXPECT_EQ(w.conns_evicted, 0u);
}

TEST(Accountant, ForgottenProcessCountsWholeIfSeenAgain) {
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {100, 0, 0, 0}), proc(kB, {100, 0, 0, 0})},
                 {conn(1, kA, 100, 0), conn(2, kB, 100, 0)}));
  acc.forget({kA}, 1);
  Window w = acc.advance(snap(1, {proc(kA, {120, 0, 0, 0}), proc(kB, {120, 0, 0, 0})},
                              {conn(1, kA, 120, 0), conn(2, kB, 120, 0)}));
  ASSERT_EQ(w.procs.size(), 2u);
  EXPECT_EQ(w.procs[0].bytes.tx, 120u);  // kA: baseline forgotten
  EXPECT_EQ(w.procs[1].bytes.tx, 20u);   // kB: unaffected
  ASSERT_EQ(w.conns.size(), 2u);
  EXPECT_EQ(w.conns[0].tx, 120u);
  EXPECT_EQ(w.conns[1].tx, 20u);
}

TEST(Accountant, InsertFailedIsPerWindow) {
  Accountant acc;
  acc.prime(snap(0, {}, {}, {0, 0, 5, 0}));
  EXPECT_EQ(acc.advance(snap(1, {}, {}, {0, 0, 8, 0})).insert_failed, 3u);
  EXPECT_EQ(acc.advance(snap(2, {}, {}, {0, 0, 8, 0})).insert_failed, 0u);
  EXPECT_EQ(acc.advance(snap(3, {}, {}, {0, 0, 12, 0})).insert_failed, 4u);
}
