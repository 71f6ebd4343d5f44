#include "model/accountant.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <tuple>

using namespace netacct;

namespace netacct {
void PrintTo(const ByteCounters& b, std::ostream* os) {
  *os << "{tx " << b.tx << ", rx " << b.rx << ", lo_tx " << b.lo_tx << ", lo_rx " << b.lo_rx << "}";
}
void PrintTo(const ProcId& p, std::ostream* os) {
  *os << "{pid " << p.tgid << ", start " << p.start_ns << ", exec " << p.exec_gen << "}";
}
void PrintTo(const ConnId& c, std::ostream* os) {
  *os << "{cookie " << c.cookie << ", ";
  PrintTo(c.proc, os);
  *os << ", lo " << int(c.dgram_lo) << "}";
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
  acc.prime(snap(0, {}, {conn(1, kA, 1, 1), conn(2, kA, 1, 1)}, {10, 0, 0}));
  // 3 created since: 5 expected, 4 live -> 1 evicted.
  Window w = acc.advance(
      snap(1, {}, {conn(1, kA, 1, 1), conn(2, kA, 1, 1), conn(3, kA, 1, 1), conn(4, kA, 1, 1)},
           {13, 0, 0}));
  EXPECT_EQ(w.conns_evicted, 1u);

  // Userspace deletes 2 entries: they are not evictions. 5 - 2 expected, 1 live.
  acc.forget({}, 2);
  w = acc.advance(snap(2, {}, {conn(4, kA, 1, 1)}, {13, 0, 0}));
  EXPECT_EQ(w.conns_evicted, 2u);

  // The count is since start, not per window.
  w = acc.advance(snap(3, {}, {conn(4, kA, 1, 1)}, {13, 0, 0}));
  EXPECT_EQ(w.conns_evicted, 2u);
}

TEST(Accountant, NoEvictionsWhenEveryEntryIsAccountedFor) {
  Accountant acc;
  acc.prime(snap(0, {}, {conn(1, kA, 1, 1)}, {1, 0, 0}));
  Window w = acc.advance(snap(1, {}, {conn(1, kA, 1, 1), conn(2, kA, 1, 1)}, {2, 0, 0}));
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
  acc.prime(snap(0, {}, {}, {0, 0, 5}));
  EXPECT_EQ(acc.advance(snap(1, {}, {}, {0, 0, 8})).insert_failed, 3u);
  EXPECT_EQ(acc.advance(snap(2, {}, {}, {0, 0, 8})).insert_failed, 0u);
  EXPECT_EQ(acc.advance(snap(3, {}, {}, {0, 0, 12})).insert_failed, 4u);
}

// A kernel map returns its entries in bucket order, which changes when
// entries come and go: the deltas must not depend on the order.
TEST(Accountant, OrderOfEntriesDoesNotMatter) {
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {10, 0, 0, 0}), proc(kB, {20, 0, 0, 0})},
                 {conn(1, kA, 1, 1), conn(2, kA, 2, 2), conn(3, kB, 3, 3)}));
  Window w = acc.advance(snap(1, {proc(kB, {25, 0, 0, 0}), proc(kA, {11, 0, 0, 0})},
                              {conn(3, kB, 4, 3), conn(1, kA, 1, 6), conn(2, kA, 9, 2)}));
  ASSERT_EQ(w.procs.size(), 2u);
  EXPECT_EQ(w.procs[0].bytes.tx, 5u);
  EXPECT_EQ(w.procs[1].bytes.tx, 1u);
  ASSERT_EQ(w.conns.size(), 3u);
  EXPECT_EQ(w.conns[0].id.cookie, 3u);
  EXPECT_EQ(w.conns[0].tx, 1u);
  EXPECT_EQ(w.conns[1].rx, 5u);
  EXPECT_EQ(w.conns[2].tx, 7u);
}

// An entry missing from a full snapshot is gone: if it comes back (evicted
// and re-created) all its bytes are new, even those above its old counters.
TEST(Accountant, EntryMissingFromAFullSnapshotIsGone) {
  Accountant acc;
  acc.prime(snap(0, {}, {conn(1, kA, 100, 0), conn(2, kA, 100, 0), conn(3, kA, 100, 0)}));
  acc.advance(snap(1, {}, {conn(1, kA, 100, 0), conn(3, kA, 100, 0)}));
  EXPECT_EQ(acc.conns_held(), 2u);
  Window w =
      acc.advance(snap(2, {}, {conn(1, kA, 100, 0), conn(2, kA, 150, 0), conn(3, kA, 100, 0)}));
  ASSERT_EQ(w.conns.size(), 1u);
  EXPECT_EQ(w.conns[0].id.cookie, 2u);
  EXPECT_EQ(w.conns[0].tx, 150u);
  EXPECT_EQ(acc.conns_held(), 3u);
}

TEST(Accountant, EveryEntryGoneAtOnce) {
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {1, 0, 0, 0})}, {conn(1, kA, 1, 0), conn(2, kA, 1, 0)}));
  Window w = acc.advance(snap(1));
  EXPECT_TRUE(w.procs.empty());
  EXPECT_EQ(acc.procs_held(), 0u);
  EXPECT_EQ(acc.conns_held(), 0u);
  w = acc.advance(snap(2, {proc(kA, {3, 0, 0, 0})}, {conn(2, kA, 2, 0)}));
  ASSERT_EQ(w.conns.size(), 1u);
  EXPECT_EQ(w.conns[0].tx, 2u);  // back: counted whole
  EXPECT_EQ(w.procs[0].bytes.tx, 3u);
}

// forget() drops a process and only its connections; entries_of() lists
// what userspace deletes from the maps for it.
TEST(Accountant, ForgetDropsOnlyThatProcesssEntries) {
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {1, 0, 0, 0}), proc(kB, {1, 0, 0, 0})},
                 {conn(1, kA, 1, 0), conn(2, kB, 1, 0), conn(3, kA, 1, 0)}, {3, 0, 0}));
  Snapshot held = acc.entries_of({kA});
  ASSERT_EQ(held.procs.size(), 1u);
  EXPECT_EQ(held.procs[0].id, kA);
  ASSERT_EQ(held.conns.size(), 2u);
  EXPECT_EQ(held.conns[0].id.cookie + held.conns[1].id.cookie, 4u);  // 1 and 3
  acc.forget({kA}, 2);
  EXPECT_EQ(acc.procs_held(), 1u);
  EXPECT_EQ(acc.conns_held(), 1u);
  EXPECT_TRUE(acc.entries_of({kA}).conns.empty());
  // The kernel deleted them: their absence is neither a loss nor an eviction.
  Window w = acc.advance(snap(1, {proc(kB, {1, 0, 0, 0})}, {conn(2, kB, 1, 0)}, {3, 0, 0}));
  EXPECT_TRUE(w.procs.empty());
  EXPECT_TRUE(w.conns.empty());
  EXPECT_EQ(w.conns_evicted, 0u);
}

// A connection that closed (gone from the snapshot) no longer belongs to its
// process's entries.
TEST(Accountant, ClosedConnectionLeavesItsProcesssEntries) {
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {1, 0, 0, 0})}, {conn(1, kA, 1, 0), conn(2, kA, 1, 0)}));
  acc.advance(snap(1, {proc(kA, {1, 0, 0, 0})}, {conn(2, kA, 1, 0)}));
  Snapshot held = acc.entries_of({kA});
  ASSERT_EQ(held.conns.size(), 1u);
  EXPECT_EQ(held.conns[0].id.cookie, 2u);
}

TEST(Accountant, NewProcsAreThoseFirstSeen) {
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {1, 0, 0, 0})}));
  EXPECT_EQ(acc.new_procs(), (std::vector<ProcId>{kA}));
  acc.advance(snap(1, {proc(kA, {2, 0, 0, 0}), proc(kB, {1, 0, 0, 0})}));
  EXPECT_EQ(acc.new_procs(), (std::vector<ProcId>{kB}));
  acc.advance(snap(2, {proc(kA, {2, 0, 0, 0}), proc(kB, {1, 0, 0, 0})}));
  EXPECT_TRUE(acc.new_procs().empty());
}

// Snapshots of changes: only what moved, and what left the maps.
Snapshot changes(int64_t mono_s, std::vector<ProcEntry> procs = {},
                 std::vector<ConnEntry> conns = {}, std::vector<ProcId> procs_gone = {},
                 std::vector<ConnId> conns_gone = {}, KernelStats stats = {}) {
  Snapshot s = snap(mono_s, std::move(procs), std::move(conns), stats);
  s.changes = true;
  s.procs_gone = std::move(procs_gone);
  s.conns_gone = std::move(conns_gone);
  return s;
}

TEST(AccountantChanges, UnlistedEntriesKeepTheirCounters) {
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {100, 0, 0, 0}), proc(kB, {50, 0, 0, 0})},
                 {conn(1, kA, 100, 0), conn(2, kB, 50, 0)}));
  Window w = acc.advance(changes(1, {proc(kA, {130, 0, 0, 0})}, {conn(1, kA, 130, 0)}));
  ASSERT_EQ(w.procs.size(), 1u);
  EXPECT_EQ(w.procs[0].bytes.tx, 30u);
  ASSERT_EQ(w.conns.size(), 1u);
  EXPECT_EQ(w.conns[0].tx, 30u);
  EXPECT_EQ(acc.conns_held(), 2u);  // kB's connection did not move, and stays
  w = acc.advance(changes(2, {proc(kB, {60, 0, 0, 0})}, {conn(2, kB, 60, 0)}));
  ASSERT_EQ(w.conns.size(), 1u);
  EXPECT_EQ(w.conns[0].tx, 10u);  // since prime: kB's baseline was kept
  EXPECT_EQ(w.procs[0].bytes.tx, 10u);
}

TEST(AccountantChanges, NewEntriesCountWhole) {
  Accountant acc;
  acc.prime(changes(0));
  Window w = acc.advance(changes(1, {proc(kB, {7, 8, 9, 10})}, {conn(5, kB, 3, 4)}));
  ASSERT_EQ(w.procs.size(), 1u);
  EXPECT_EQ(w.procs[0].bytes, (ByteCounters{7, 8, 9, 10}));
  ASSERT_EQ(w.conns.size(), 1u);
  EXPECT_EQ(w.conns[0].tx, 3u);
  EXPECT_EQ(acc.new_procs(), (std::vector<ProcId>{kB}));
}

TEST(AccountantChanges, GoneEntriesAreDropped) {
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {100, 0, 0, 0})}, {conn(1, kA, 100, 0), conn(2, kA, 100, 0)}));
  acc.advance(changes(1, {}, {}, {}, {{1, kA}}));
  EXPECT_EQ(acc.conns_held(), 1u);
  EXPECT_EQ(acc.entries_of({kA}).conns.size(), 1u);
  acc.advance(changes(2, {}, {}, {kA}, {}));
  EXPECT_EQ(acc.procs_held(), 0u);
}

// Gone and listed again: re-created since the last read. Its counters may
// already be above the old ones; every byte in them is new.
TEST(AccountantChanges, GoneAndBackCountsWhole) {
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {100, 0, 0, 0})}, {conn(1, kA, 100, 0)}));
  Window w =
      acc.advance(changes(1, {proc(kA, {150, 0, 0, 0})}, {conn(1, kA, 150, 0)}, {kA}, {{1, kA}}));
  ASSERT_EQ(w.procs.size(), 1u);
  EXPECT_EQ(w.procs[0].bytes.tx, 150u);
  ASSERT_EQ(w.conns.size(), 1u);
  EXPECT_EQ(w.conns[0].tx, 150u);
}

TEST(AccountantChanges, CounterThatDroppedCountsAsNew) {
  Accountant acc;
  acc.prime(snap(0, {proc(kA, {1000, 200, 0, 0})}, {conn(1, kA, 1000, 200)}));
  Window w = acc.advance(changes(1, {proc(kA, {40, 500, 0, 0})}, {conn(1, kA, 40, 500)}));
  EXPECT_EQ(w.procs[0].bytes, (ByteCounters{40, 500, 0, 0}));
  EXPECT_EQ(w.conns[0].rx, 500u);
}

TEST(AccountantChanges, EvictionsFromTheGoneList) {
  Accountant acc;
  acc.prime(snap(0, {}, {conn(1, kA, 1, 1), conn(2, kA, 1, 1)}, {10, 0, 0}));
  // 2 created, 1 listed gone (evicted): 4 - 1 live... 2 + 2 - 0 expected = 4, 3 held.
  Window w = acc.advance(
      changes(1, {}, {conn(3, kA, 1, 1), conn(4, kA, 1, 1)}, {}, {{1, kA}}, {12, 0, 0}));
  EXPECT_EQ(w.conns_evicted, 1u);
  // Deleted by userspace, then listed gone by the kernel: not an eviction.
  acc.forget({kA}, 3);
  w = acc.advance(changes(2, {}, {}, {kA}, {{2, kA}, {3, kA}, {4, kA}}, {12, 0, 0}));
  EXPECT_EQ(w.conns_evicted, 1u);
  EXPECT_EQ(acc.conns_held(), 0u);
}

// A full snapshot after snapshots of changes still drops what it lacks.
TEST(AccountantChanges, FullSnapshotAfterChanges) {
  Accountant acc;
  acc.prime(snap(0, {}, {conn(1, kA, 1, 0)}));
  acc.advance(changes(1, {}, {conn(2, kA, 5, 0)}));
  EXPECT_EQ(acc.conns_held(), 2u);
  Window w = acc.advance(snap(2, {}, {conn(2, kA, 7, 0)}));
  EXPECT_EQ(acc.conns_held(), 1u);
  ASSERT_EQ(w.conns.size(), 1u);
  EXPECT_EQ(w.conns[0].tx, 2u);
  w = acc.advance(snap(3, {}, {conn(1, kA, 4, 0), conn(2, kA, 7, 0)}));
  ASSERT_EQ(w.conns.size(), 1u);
  EXPECT_EQ(w.conns[0].tx, 4u);  // gone at 2, back at 3: whole
}

// The accountant against the plainest possible one (the previous
// implementation: two ordered maps refilled at every poll), over random
// polls with traffic, new and closed sockets, evictions, re-created entries,
// shuffled map order and exited processes; and the same polls as snapshots
// of changes. Every window must hold exactly the same deltas.
namespace {

class PlainAccountant {
 public:
  void prime(const Snapshot& s) {
    remember(s);
    base_ = s.stats;
    base_conns_ = s.conns.size();
  }
  Window advance(const Snapshot& s) {
    Window w;
    for (const auto& p : s.procs) {
      auto it = procs_.find(p.id);
      ByteCounters d = p.bytes;
      if (it != procs_.end()) {
        const ByteCounters& b = it->second;
        bool re = p.bytes.tx < b.tx || p.bytes.rx < b.rx || p.bytes.lo_tx < b.lo_tx ||
                  p.bytes.lo_rx < b.lo_rx;
        if (!re) d = p.bytes - b;
      }
      if (d != ByteCounters{}) w.procs.push_back({.id = p.id, .info = p.info, .bytes = d});
    }
    for (const auto& c : s.conns) {
      auto it = conns_.find(c.id);
      uint64_t tx = c.tx, rx = c.rx;
      if (it != conns_.end() && c.tx >= it->second.first && c.rx >= it->second.second) {
        tx -= it->second.first;
        rx -= it->second.second;
      }
      if (tx || rx) w.conns.push_back({.id = c.id, .info = c.info, .tx = tx, .rx = rx});
    }
    uint64_t expected = base_conns_ + (s.stats.conn_created - base_.conn_created) - deleted_;
    w.conns_evicted = expected > s.conns.size() ? expected - s.conns.size() : 0;
    remember(s);
    return w;
  }
  void forget(const ProcId& id, uint64_t deleted) {
    procs_.erase(id);
    std::erase_if(conns_, [&](const auto& kv) { return kv.first.proc == id; });
    deleted_ += deleted;
  }

 private:
  std::map<ProcId, ByteCounters> procs_;
  std::map<ConnId, std::pair<uint64_t, uint64_t>> conns_;
  KernelStats base_;
  size_t base_conns_ = 0;
  uint64_t deleted_ = 0;
  void remember(const Snapshot& s) {
    procs_.clear();
    conns_.clear();
    for (const auto& p : s.procs) procs_[p.id] = p.bytes;
    for (const auto& c : s.conns) conns_[c.id] = {c.tx, c.rx};
  }
};

using Deltas = std::vector<std::tuple<ConnId, uint64_t, uint64_t>>;
Deltas conn_deltas(const Window& w) {
  Deltas out;
  for (const auto& c : w.conns) out.emplace_back(c.id, c.tx, c.rx);
  std::sort(out.begin(), out.end());
  return out;
}
std::vector<std::pair<ProcId, std::array<uint64_t, 4>>> proc_deltas(const Window& w) {
  std::vector<std::pair<ProcId, std::array<uint64_t, 4>>> out;
  for (const auto& p : w.procs)
    out.push_back({p.id, {p.bytes.tx, p.bytes.rx, p.bytes.lo_tx, p.bytes.lo_rx}});
  std::sort(out.begin(), out.end());
  return out;
}

// The kernel maps of the random test: what is live, and what happened to
// entries since the last read (for the snapshot of changes).
struct RandomMaps {
  explicit RandomMaps(uint64_t seed) : rng(seed) {}
  std::mt19937_64 rng;
  std::map<ProcId, ProcEntry> procs;
  std::map<ConnId, ConnEntry> conns;
  KernelStats stats;
  std::set<ProcId> procs_gone;
  std::set<ConnId> conns_gone;
  std::map<ProcId, ProcEntry> last_procs;
  std::map<ConnId, ConnEntry> last_conns;
  uint64_t next_cookie = 1;
  uint32_t next_pid = 1;

  uint64_t pick(uint64_t n) { return n ? rng() % n : 0; }
  ProcId new_proc() {
    ProcId id{next_pid++, 1000 + pick(3)};
    procs[id] = {.id = id, .info = {.comm = "p"}, .bytes = {}};
    ++stats.proc_created;
    return id;
  }
  template <typename M>
  auto nth(M& m, uint64_t i) {
    auto it = m.begin();
    std::advance(it, i % m.size());
    return it;
  }
  void new_conn() {
    if (procs.empty()) return;
    ProcId owner = nth(procs, pick(procs.size()))->first;
    ConnId id{next_cookie++, owner, uint8_t(pick(4) == 0)};
    conns[id] = {.id = id, .info = {.family = 2, .proto = 6}};
    ++stats.conn_created;
  }
  void traffic() {
    for (auto& [id, c] : conns) {
      if (pick(3) != 0) continue;
      uint64_t tx = pick(1000), rx = pick(1000);
      c.tx += tx;
      c.rx += rx;
      auto p = procs.find(id.proc);
      if (p == procs.end()) continue;  // its process entry was evicted
      p->second.bytes.tx += tx;
      p->second.bytes.rx += rx;
      p->second.bytes.lo_tx += pick(2);
    }
  }
  // Evicted and created again within one poll: lower counters, so that a
  // full snapshot can tell too.
  void recreate_conn() {
    if (conns.empty()) return;
    auto it = nth(conns, pick(conns.size()));
    auto was = last_conns.find(it->first);
    if (was == last_conns.end() || was->second.tx < 2) return;
    it->second.tx = was->second.tx / 2;  // below the last read's counters
    it->second.rx = was->second.rx / 2;
    conns_gone.insert(it->first);
    ++stats.conn_created;
  }
  void evict_conn() {
    if (conns.empty()) return;
    auto it = nth(conns, pick(conns.size()));
    conns_gone.insert(it->first);
    conns.erase(it);
  }
  void evict_proc() {
    if (procs.empty()) return;
    auto it = nth(procs, pick(procs.size()));
    procs_gone.insert(it->first);
    procs.erase(it);
  }
  // Userspace deletes a process's entries: how many connection entries went.
  uint64_t remove(const ProcId& id) {
    if (procs.erase(id)) procs_gone.insert(id);
    uint64_t n = 0;
    for (auto it = conns.begin(); it != conns.end();)
      if (it->first.proc == id) {
        conns_gone.insert(it->first);
        it = conns.erase(it);
        ++n;
      } else {
        ++it;
      }
    return n;
  }
  Snapshot full(int64_t t) {
    Snapshot s;
    s.mono_ns = t;
    for (const auto& [id, p] : procs) s.procs.push_back(p);
    for (const auto& [id, c] : conns) s.conns.push_back(c);
    std::shuffle(s.procs.begin(), s.procs.end(), rng);
    // Mostly the same order as last time, as a hash map's buckets.
    if (pick(4) == 0) std::shuffle(s.conns.begin(), s.conns.end(), rng);
    s.stats = stats;
    return s;
  }
  Snapshot changed(int64_t t) {
    Snapshot s;
    s.mono_ns = t;
    s.changes = true;
    for (const auto& [id, p] : procs) {
      auto was = last_procs.find(id);
      if (was == last_procs.end() || was->second.bytes != p.bytes || procs_gone.count(id))
        s.procs.push_back(p);
    }
    for (const auto& [id, c] : conns) {
      auto was = last_conns.find(id);
      if (was == last_conns.end() || was->second.tx != c.tx || was->second.rx != c.rx ||
          conns_gone.count(id))
        s.conns.push_back(c);
    }
    s.procs_gone.assign(procs_gone.begin(), procs_gone.end());
    s.conns_gone.assign(conns_gone.begin(), conns_gone.end());
    std::shuffle(s.conns.begin(), s.conns.end(), rng);
    // Slots are hints: mostly where the entry was last time, but shared by
    // many entries (as a freed slot is reused), sometimes another, or none.
    for (auto& c : s.conns) c.slot = slot(c.id.cookie % 97);
    for (auto& p : s.procs) p.slot = slot(p.id.tgid % 13);
    s.stats = stats;
    return s;
  }
  uint32_t slot(uint64_t usual) {
    uint64_t r = pick(10);
    return r == 0 ? kNoSlot : uint32_t(r == 1 ? pick(50) : usual);
  }
  void read_done() {
    last_procs = procs;
    last_conns = conns;
    procs_gone.clear();
    conns_gone.clear();
  }
};

}  // namespace

void same_deltas_over_random_polls(uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  RandomMaps maps(seed);
  for (int i = 0; i < 30; ++i) maps.new_proc();
  for (int i = 0; i < 300; ++i) maps.new_conn();
  maps.traffic();
  PlainAccountant plain;
  Accountant full, changes;
  Snapshot first = maps.full(0);
  plain.prime(first);
  full.prime(first);
  changes.prime(first);
  maps.read_done();
  for (int poll = 1; poll <= 300; ++poll) {
    maps.traffic();
    for (uint64_t i = maps.pick(8); i > 0; --i) maps.new_conn();
    for (uint64_t i = maps.pick(6); i > 0; --i) maps.evict_conn();
    if (maps.pick(3) == 0) maps.recreate_conn();
    if (maps.pick(10) == 0) maps.evict_proc();
    if (maps.pick(4) == 0) maps.new_proc();
    Snapshot s = maps.full(poll), c = maps.changed(poll);
    maps.read_done();
    Window a = plain.advance(s), b = full.advance(s), d = changes.advance(c);
    ASSERT_EQ(proc_deltas(a), proc_deltas(b)) << "poll " << poll;
    ASSERT_EQ(conn_deltas(a), conn_deltas(b)) << "poll " << poll;
    ASSERT_EQ(proc_deltas(a), proc_deltas(d)) << "poll " << poll;
    {
      Deltas x = conn_deltas(a), y = conn_deltas(d), only_x, only_y;
      std::set_difference(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(only_x));
      std::set_difference(y.begin(), y.end(), x.begin(), x.end(), std::back_inserter(only_y));
      ASSERT_TRUE(only_x.empty() && only_y.empty())
          << "poll " << poll << ": only in the plain window " << ::testing::PrintToString(only_x)
          << ", only in the window of changes " << ::testing::PrintToString(only_y);
    }
    ASSERT_EQ(a.conns_evicted, b.conns_evicted) << "poll " << poll;
    ASSERT_EQ(a.conns_evicted, d.conns_evicted) << "poll " << poll;
    ASSERT_EQ(full.conns_held(), s.conns.size());
    ASSERT_EQ(changes.conns_held(), s.conns.size());
    // Now and then a process exits: its entries are deleted and forgotten.
    if (maps.pick(5) == 0 && !maps.procs.empty()) {
      ProcId dead = maps.nth(maps.procs, maps.pick(maps.procs.size()))->first;
      ASSERT_EQ(full.entries_of({dead}).conns.size(), changes.entries_of({dead}).conns.size());
      uint64_t n = maps.remove(dead);
      ASSERT_EQ(full.entries_of({dead}).conns.size(), n);
      plain.forget(dead, n);
      full.forget({dead}, n);
      changes.forget({dead}, n);
    }
  }
}

TEST(Accountant, SameDeltasAsThePlainAccountantOverRandomPolls) {
  for (uint64_t seed : {20240901u, 1u, 2u, 3u}) {
    same_deltas_over_random_polls(seed);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

// Per-cgroup counters: deltas since the last read; the bytes counted before
// prime are never reported, a cgroup first seen since counts whole, one that
// did not move is left out.
TEST(Accountant, CgroupDeltas) {
  Accountant acc;
  Snapshot s0 = snap(0);
  s0.cgroups = {{.id = 7, .bytes = {100, 200, 1, 2}}, {.id = 8, .bytes = {5, 5, 0, 0}}};
  acc.prime(s0);
  Snapshot s1 = snap(1);
  s1.cgroups = {{.id = 7, .bytes = {150, 200, 1, 3}},
                {.id = 8, .bytes = {5, 5, 0, 0}},
                {.id = 9, .bytes = {40, 0, 0, 0}}};
  Window w = acc.advance(s1);
  ASSERT_EQ(w.cgroups.size(), 2u);
  EXPECT_EQ(w.cgroups[0].id, 7u);
  EXPECT_EQ(w.cgroups[0].bytes, (ByteCounters{50, 0, 0, 1}));
  EXPECT_EQ(w.cgroups[1].id, 9u);
  EXPECT_EQ(w.cgroups[1].bytes, (ByteCounters{40, 0, 0, 0}));
}

// The wire layer's IP counters of a cgroup move on their own (a socket's
// ACKs, a container whose sockets' packets carry no payload this window).
TEST(Accountant, CgroupIpDeltas) {
  Accountant acc;
  Snapshot s0 = snap(0);
  s0.cgroups = {
      {.id = 7, .bytes = {100, 0, 0, 0}, .ip_bytes = {128, 52, 0, 0}, .ip_packets = {1, 1, 0, 0}}};
  acc.prime(s0);
  Snapshot s1 = snap(1);
  s1.cgroups = {{.id = 7,
                 .bytes = {100, 0, 0, 0},
                 .ip_bytes = {180, 104, 60, 0},
                 .ip_packets = {2, 2, 1, 0}}};
  Window w = acc.advance(s1);
  ASSERT_EQ(w.cgroups.size(), 1u);
  EXPECT_EQ(w.cgroups[0].bytes, (ByteCounters{}));
  EXPECT_EQ(w.cgroups[0].ip_bytes, (ByteCounters{52, 52, 60, 0}));
  EXPECT_EQ(w.cgroups[0].ip_packets, (ByteCounters{1, 1, 1, 0}));
  Snapshot s2 = snap(2);
  s2.cgroups = s1.cgroups;
  EXPECT_TRUE(acc.advance(s2).cgroups.empty()) << "nothing moved";
}
