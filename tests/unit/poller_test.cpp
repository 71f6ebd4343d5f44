// The poll step without a kernel: a scripted snapshot source and a scripted
// process table. Liveness is asked once per tracked process per poll, a
// process found gone is reported at that poll and the next, and its entries
// are deleted only after one more read, so its last bytes are counted.
#include "cli/poller.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>

using namespace netacct;

namespace {

const ProcId kA{100, 1000}, kB{200, 2000};

class ScriptedMaps : public SnapshotSource {
 public:
  std::deque<Snapshot> script;  // one per read, in order
  std::vector<std::vector<ProcId>> removed;
  Snapshot read() override {
    Snapshot s = script.front();
    if (script.size() > 1) script.pop_front();
    return s;
  }
  // As the kernel would: later reads no longer see the deleted entries.
  uint64_t remove(const std::vector<ProcId>& gone, const Snapshot&) override {
    removed.push_back(gone);
    for (auto& s : script)
      std::erase_if(s.procs, [&](const ProcEntry& p) {
        return std::find(gone.begin(), gone.end(), p.id) != gone.end();
      });
    return 0;
  }
};

Snapshot snap(int64_t second, std::vector<std::pair<ProcId, uint64_t>> procs) {
  Snapshot s{.mono_ns = second * 1'000'000'000};
  for (auto [id, tx] : procs)
    s.procs.push_back({.id = id, .info = {.comm = "p"}, .bytes = {.tx = tx}});
  return s;
}

struct PollerTest : ::testing::Test {
  ScriptedMaps maps;
  std::set<ProcId> dead;
  std::map<ProcId, int> asked;
  Poller::Alive alive = [this](const ProcId& id) {
    ++asked[id];
    return !dead.count(id);
  };
};

TEST_F(PollerTest, ExitedAtTwoPollsDeletedAfterOneLastRead) {
  maps.script = {snap(0, {{kA, 0}, {kB, 0}}), snap(1, {{kA, 10}, {kB, 5}}),
                 snap(2, {{kA, 30}, {kB, 5}}), snap(3, {{kA, 30}})};
  Poller poller(maps, alive);
  Window w1 = poller.poll();
  EXPECT_TRUE(w1.exited.empty());
  dead.insert(kA);  // exits after moving 20 more bytes, before the next read
  Window w2 = poller.poll();
  ASSERT_EQ(w2.procs.size(), 1u);  // kB did not move
  EXPECT_EQ(w2.procs[0].bytes.tx, 20u);
  EXPECT_EQ(w2.exited, (std::vector<ProcId>{kA}));
  EXPECT_EQ(maps.removed.back(), (std::vector<ProcId>{}));  // not yet: one more read
  Window w3 = poller.poll();
  EXPECT_EQ(w3.exited, (std::vector<ProcId>{kA}));  // its entries go now
  EXPECT_EQ(maps.removed.back(), (std::vector<ProcId>{kA}));
  Window w4 = poller.poll();
  EXPECT_TRUE(w4.exited.empty());
  EXPECT_EQ(asked[kA], 2);  // polls 1 and 2; never again once gone
}

TEST_F(PollerTest, LivenessAskedOncePerProcessPerPoll) {
  maps.script = {snap(0, {{kA, 0}, {kB, 0}})};
  Poller poller(maps, alive);
  for (int i = 0; i < 5; ++i) poller.poll();
  EXPECT_EQ(asked[kA], 5);
  EXPECT_EQ(asked[kB], 5);
}

// The kernel's LRU may evict an idle process's entry; it is still watched,
// so its exit still reaches attribution and top.
TEST_F(PollerTest, EvictedProcessIsStillWatched) {
  maps.script = {snap(0, {}), snap(1, {{kB, 5}}), snap(2, {})};
  Poller poller(maps, alive);
  poller.poll();
  poller.poll();  // kB's entry is gone (evicted), kB still runs
  dead.insert(kB);
  Window w = poller.poll();
  EXPECT_EQ(w.exited, (std::vector<ProcId>{kB}));
}

// A program that execve()d another ends although its PID stays alive: the
// kernel marks its entry, and the new program is a newer exec generation of
// the same PID and start time, still running.
TEST_F(PollerTest, ExecEndsTheOldProgramNotTheNewOne) {
  const ProcId before{kA.tgid, kA.start_ns, 7}, after{kA.tgid, kA.start_ns, 8};
  Snapshot s0 = snap(0, {{before, 0}});
  Snapshot s1 = snap(1, {{before, 20}, {after, 100}});
  s1.procs[0].execed = true;
  Snapshot s2 = snap(2, {{after, 300}});
  maps.script = {s0, s1, s2};
  Poller poller(maps, alive);
  Window w = poller.poll();
  EXPECT_EQ(w.exited, (std::vector<ProcId>{before}));
  EXPECT_EQ(asked[before], 0);  // never asked: procfs would call it alive
  Window w2 = poller.poll();
  EXPECT_EQ(w2.exited, (std::vector<ProcId>{before}));  // its entries go now
  EXPECT_EQ(maps.removed.back(), (std::vector<ProcId>{before}));
  EXPECT_TRUE(poller.poll().exited.empty());
  EXPECT_EQ(asked[after], 3);
}

}  // namespace

namespace {

// With an exit watch, the poller asks nothing per process: it tells the
// watch which processes are new and which exec'd, and takes the exits it
// reports.
struct ScriptedExits : ExitWatch {
  std::vector<ProcId> watched, unwatched, to_end;
  void watch(const ProcId& id) override { watched.push_back(id); }
  bool unwatch(const ProcId& id) override {
    unwatched.push_back(id);
    return std::find(watched.begin(), watched.end(), id) != watched.end();
  }
  std::vector<ProcId> ended() override { return std::exchange(to_end, {}); }
};

TEST(PollerExits, WatchedOnceEndedWhenTheWatchSays) {
  ScriptedMaps maps;
  const ProcId before{kA.tgid, kA.start_ns, 7}, after{kA.tgid, kA.start_ns, 8};
  Snapshot s1 = snap(1, {{before, 20}, {after, 100}, {kB, 1}});
  s1.procs[0].execed = true;
  maps.script = {snap(0, {{before, 0}}), s1, snap(2, {{after, 300}, {kB, 2}})};
  ScriptedExits exits;
  Poller poller(maps, exits);
  EXPECT_EQ(exits.watched, (std::vector<ProcId>{before}));
  Window w = poller.poll();
  EXPECT_EQ(w.exited, (std::vector<ProcId>{before}));
  EXPECT_EQ(exits.watched, (std::vector<ProcId>{before, after, kB}));
  exits.to_end = {kB};
  w = poller.poll();
  EXPECT_EQ(w.exited, (std::vector<ProcId>{before, kB}));  // before's entries go now
  EXPECT_EQ(maps.removed.back(), (std::vector<ProcId>{before}));
  w = poller.poll();
  EXPECT_EQ(w.exited, (std::vector<ProcId>{kB}));
  EXPECT_EQ(exits.watched.size(), 3u);  // nobody watched twice
}

}  // namespace
