// SlotReader (kernel/slot_reader) over plain memory: a fake kernel that
// does, per event, what bpf/netacct.bpf.c does (conn_entry, proc_entry,
// account, touch, slot_take, slot_publish) on slot arrays, a change feed, two
// "hash maps" (key -> slot) and two free queues. The reader's snapshots of
// changes are checked directly, through the Accountant and through the
// Poller: only touched slots are read, counters are cumulative, the slots of
// ended processes go back to the kernel one read after their removal,
// eviction takes the connections idle the longest and reports every byte of
// them before reporting them gone, and a byte added while a poll runs is
// counted exactly once.
#include "kernel/slot_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cli/poller.hpp"
#include "model/accountant.hpp"

using namespace netacct;

namespace {

// ---- The fake kernel ----

template <typename K>
std::string key_bytes(const K& k) {
  return std::string(reinterpret_cast<const char*>(&k), sizeof k);
}

na_proc_key pkey(const ProcId& p) {
  na_proc_key k;
  std::memset(&k, 0, sizeof k);
  k.tgid = p.tgid;
  k.exec_gen = p.exec_gen;
  k.start_ns = p.start_ns;
  return k;
}

na_conn_key ckey(const ProcId& p, uint64_t cookie) {
  na_conn_key k;
  std::memset(&k, 0, sizeof k);
  k.cookie = cookie;
  k.proc = pkey(p);
  k.dgram_lo = 0;
  return k;
}

ConnId cid(const ProcId& p, uint64_t cookie) { return {.cookie = cookie, .proc = p}; }

struct Counts {
  uint64_t tx = 0, rx = 0;
  bool operator==(const Counts&) const = default;
};

class FakeKernel : public SlotOps {
 public:
  FakeKernel(uint32_t max_conns, uint32_t max_procs)
      : max_conns(max_conns),
        max_procs(max_procs),
        conns(max_conns),
        procs(max_procs),
        touched(max_conns / 64 + max_procs / 64, 0) {
    std::memset(conns.data(), 0, conns.size() * sizeof(na_conn_slot));
    std::memset(procs.data(), 0, procs.size() * sizeof(na_proc_slot));
  }

  SlotArrays mem() {
    return {.conns = conns.data(),
            .procs = procs.data(),
            .touched = touched.data(),
            .max_conns = max_conns,
            .max_procs = max_procs};
  }

  // ---- SlotOps (what snapshot.cpp does with libbpf) ----
  bool take_conn(const na_conn_key& key, uint32_t* slot) override {
    auto it = conn_hash.find(key_bytes(key));
    if (it == conn_hash.end()) return false;
    *slot = it->second;
    conn_hash.erase(it);
    taken_conns.push_back({.cookie = key.cookie,
                           .proc = {key.proc.tgid, key.proc.start_ns, key.proc.exec_gen},
                           .dgram_lo = uint8_t(key.dgram_lo)});
    return true;
  }
  bool take_proc(const na_proc_key& key, uint32_t* slot) override {
    auto it = proc_hash.find(key_bytes(key));
    if (it == proc_hash.end()) return false;
    *slot = it->second;
    proc_hash.erase(it);
    taken_procs.push_back({key.tgid, key.start_ns, key.exec_gen});
    return true;
  }
  void free_conn(uint32_t slot) override {
    free_conn_q.push_back(slot);
    freed_conns.push_back(slot);
    if (on_free_conn) on_free_conn(slot);  // the kernel runs meanwhile
  }
  void free_proc(uint32_t slot) override {
    free_proc_q.push_back(slot);
    freed_procs.push_back(slot);
  }
  KernelStats stats() override { return st; }

  // ---- bpf/netacct.bpf.c ----
  void touch(uint32_t word_base, uint32_t idx) {
    touched[word_base + idx / 64] |= 1ull << (idx & 63);
  }
  void touch_conn(uint32_t idx) { touch(0, idx); }
  void touch_proc(uint32_t idx) { touch(max_conns / 64, idx); }

  int64_t slot_take(std::deque<uint32_t>& q, uint64_t& next, uint64_t max) {
    if (!q.empty()) {
      uint32_t i = q.front();  // BPF_MAP_TYPE_QUEUE: FIFO
      q.pop_front();
      return i;
    }
    uint64_t n = next++;
    return n < max ? int64_t(n) : -1;
  }
  void slot_publish(__u64* id) { *id += ++last_entry_id; }

  // The first half of proc_entry's create path: a slot taken, filled and its
  // key inserted, not yet published (id 0). -1: no slot.
  int64_t begin_proc(const ProcId& p) {
    int64_t got = slot_take(free_proc_q, next_proc, max_procs);
    if (got < 0) {
      ++st.insert_failed;
      return -1;
    }
    uint32_t i = uint32_t(got);
    na_proc_slot& s = procs[i];
    s.key = pkey(p);
    std::memset(&s.val, 0, sizeof s.val);
    s.val.uid = 1000;
    s.val.cgroup_id = 7;
    std::snprintf(s.val.comm, sizeof s.val.comm, "p%u", p.tgid);
    if (proc_hash.size() >= max_procs || proc_hash.count(key_bytes(s.key))) {
      free_proc_q.push_back(i);
      ++st.insert_failed;
      return -1;
    }
    proc_hash[key_bytes(s.key)] = i;
    return i;
  }
  void finish_proc(uint32_t i) {
    slot_publish(&procs[i].id);
    touch_proc(i);
    ++st.proc_created;
  }
  na_proc_slot* proc_entry(const ProcId& p, uint32_t* idx) {
    if (auto it = proc_hash.find(key_bytes(pkey(p))); it != proc_hash.end()) {
      *idx = it->second;
      return &procs[it->second];
    }
    int64_t got = begin_proc(p);
    if (got < 0) return nullptr;
    finish_proc(uint32_t(got));
    *idx = uint32_t(got);
    return &procs[got];
  }

  int64_t begin_conn(const ProcId& p, uint64_t cookie) {
    int64_t got = slot_take(free_conn_q, next_conn, max_conns);
    if (got < 0) {
      ++st.insert_failed;
      return -1;
    }
    uint32_t i = uint32_t(got);
    na_conn_slot& s = conns[i];
    s.key = ckey(p, cookie);
    std::memset(&s.val, 0, sizeof s.val);
    // fill_tuple
    s.val.family = 2;  // AF_INET
    s.val.proto = 6;   // IPPROTO_TCP
    s.val.lport = uint16_t(10000 + cookie);
    s.val.rport = 443;
    s.val.netns = 4026531840u;
    s.val.laddr[0] = 10;
    s.val.raddr[0] = 192;
    if (conn_hash.size() >= max_conns || conn_hash.count(key_bytes(s.key))) {
      free_conn_q.push_back(i);
      ++st.insert_failed;
      return -1;
    }
    conn_hash[key_bytes(s.key)] = i;
    return i;
  }
  void finish_conn(uint32_t i) {
    slot_publish(&conns[i].id);
    touch_conn(i);
    ++st.conn_created;
  }
  na_conn_slot* conn_entry(const ProcId& p, uint64_t cookie, uint32_t* idx) {
    if (auto it = conn_hash.find(key_bytes(ckey(p, cookie))); it != conn_hash.end()) {
      *idx = it->second;
      return &conns[it->second];
    }
    int64_t got = begin_conn(p, cookie);
    if (got < 0) return nullptr;
    finish_conn(uint32_t(got));
    *idx = uint32_t(got);
    return &conns[got];
  }

  // account(): the connection's entry, then the process's; bytes to the
  // process first, then to the connection, each followed by its bit.
  void account(const ProcId& p, uint64_t cookie, uint64_t bytes, bool tx) {
    uint32_t ci = 0, pi = 0;
    na_conn_slot* c = conn_entry(p, cookie, &ci);
    na_proc_slot* pr = proc_entry(p, &pi);
    if (pr) {
      (tx ? pr->val.tx_bytes : pr->val.rx_bytes) += bytes;
      touch_proc(pi);
      Counts& t = proc_truth[p];
      (tx ? t.tx : t.rx) += bytes;
    }
    if (c) {
      (tx ? c->val.tx_bytes : c->val.rx_bytes) += bytes;
      touch_conn(ci);
      Counts& t = conn_truth[cid(p, cookie)];
      (tx ? t.tx : t.rx) += bytes;
    }
  }
  void send(const ProcId& p, uint64_t cookie, uint64_t bytes) { account(p, cookie, bytes, true); }
  void recv(const ProcId& p, uint64_t cookie, uint64_t bytes) { account(p, cookie, bytes, false); }

  // A program that found the slot (through the hash) before userspace took
  // its key adds to it afterwards: the slot, not the hash. `set_bit` false
  // stops between the add and the bit (the bit comes with touch_conn).
  void add_to_conn_slot(uint32_t i, uint64_t tx_bytes, bool set_bit = true) {
    conns[i].val.tx_bytes += tx_bytes;
    const na_conn_key& k = conns[i].key;
    conn_truth[cid({k.proc.tgid, k.proc.start_ns, k.proc.exec_gen}, k.cookie)].tx += tx_bytes;
    if (set_bit) touch_conn(i);
  }

  bool has_conn(const ProcId& p, uint64_t cookie) const {
    return conn_hash.count(key_bytes(ckey(p, cookie))) > 0;
  }
  uint32_t conn_slot(const ProcId& p, uint64_t cookie) const {
    return conn_hash.at(key_bytes(ckey(p, cookie)));
  }
  uint32_t proc_slot(const ProcId& p) const { return proc_hash.at(key_bytes(pkey(p))); }
  bool feed_empty() const {
    return std::all_of(touched.begin(), touched.end(), [](uint64_t w) { return w == 0; });
  }

  uint32_t max_conns, max_procs;
  std::vector<na_conn_slot> conns;
  std::vector<na_proc_slot> procs;
  std::vector<uint64_t> touched;
  std::map<std::string, uint32_t> conn_hash, proc_hash;
  std::deque<uint32_t> free_conn_q, free_proc_q;
  uint64_t next_conn = 0, next_proc = 0, last_entry_id = 0;
  KernelStats st;
  // Ground truth: every byte counted into a slot, per key.
  std::map<ConnId, Counts> conn_truth;
  std::map<ProcId, Counts> proc_truth;
  // What userspace asked for.
  std::vector<ConnId> taken_conns;
  std::vector<ProcId> taken_procs;
  std::vector<uint32_t> freed_conns, freed_procs;
  std::function<void(uint32_t)> on_free_conn;
};

// ---- Helpers over snapshots and windows ----

std::map<ConnId, Counts> conns_of(const Snapshot& s) {
  std::map<ConnId, Counts> m;
  for (const auto& c : s.conns) {
    EXPECT_FALSE(m.count(c.id)) << "cookie " << c.id.cookie << " twice in one snapshot";
    m[c.id] = {c.tx, c.rx};
  }
  return m;
}

std::map<ConnId, Counts> conns_of(const Window& w) {
  std::map<ConnId, Counts> m;
  for (const auto& c : w.conns) {
    EXPECT_FALSE(m.count(c.id)) << "cookie " << c.id.cookie << " twice in one window";
    m[c.id] = {c.tx, c.rx};
  }
  return m;
}

std::map<ProcId, ByteCounters> procs_of(const Window& w) {
  std::map<ProcId, ByteCounters> m;
  for (const auto& p : w.procs) m[p.id] = p.bytes;
  return m;
}

std::set<uint64_t> cookies(const std::vector<ConnId>& ids) {
  std::set<uint64_t> s;
  for (const auto& c : ids) s.insert(c.cookie);
  return s;
}

std::set<uint64_t> cookie_range(uint64_t from, uint64_t to) {  // [from, to]
  std::set<uint64_t> s;
  for (uint64_t c = from; c <= to; ++c) s.insert(c);
  return s;
}

const ProcId kA{100, 1'000, 1}, kB{200, 2'000, 1}, kC{300, 3'000, 1}, kD{400, 4'000, 1};

// ---- 1. Only touched slots, cumulative counters, unpublished slots ----

TEST(SlotReader, ReadsOnlyTouchedSlotsWithCumulativeCounters) {
  FakeKernel k(128, 64);
  SlotReader reader(k.mem(), k);

  k.send(kA, 1, 100);
  k.recv(kA, 2, 50);
  k.send(kB, 3, 30);
  Snapshot s1 = reader.read();
  EXPECT_TRUE(s1.changes);
  EXPECT_TRUE(k.feed_empty());  // every word swapped with 0
  ASSERT_EQ(s1.conns.size(), 3u);
  // Slot order: the kernel took slots 0, 1, 2.
  EXPECT_EQ(s1.conns[0].id, cid(kA, 1));
  EXPECT_EQ(s1.conns[1].id, cid(kA, 2));
  EXPECT_EQ(s1.conns[2].id, cid(kB, 3));
  EXPECT_EQ(s1.conns[2].slot, 2u);  // where the accountant finds it next time
  EXPECT_EQ(s1.conns[0].tx, 100u);
  EXPECT_EQ(s1.conns[0].rx, 0u);
  EXPECT_EQ(s1.conns[1].tx, 0u);
  EXPECT_EQ(s1.conns[1].rx, 50u);
  EXPECT_EQ(s1.conns[2].tx, 30u);
  EXPECT_EQ(s1.conns[0].info.local.port, 10001);
  EXPECT_EQ(s1.conns[0].info.remote.port, 443);
  EXPECT_EQ(s1.conns[0].info.proto, 6);
  EXPECT_EQ(s1.conns[0].info.local.addr[0], 10);
  ASSERT_EQ(s1.procs.size(), 2u);
  EXPECT_EQ(s1.procs[0].id, kA);
  EXPECT_EQ(s1.procs[1].slot, 1u);
  EXPECT_EQ(s1.procs[0].bytes, (ByteCounters{.tx = 100, .rx = 50}));
  EXPECT_EQ(s1.procs[0].info.comm, "p100");
  EXPECT_EQ(s1.procs[0].info.uid, 1000u);
  EXPECT_EQ(s1.procs[0].info.cgroup_id, 7u);
  EXPECT_EQ(s1.procs[1].id, kB);
  EXPECT_EQ(s1.procs[1].bytes, (ByteCounters{.tx = 30}));
  EXPECT_EQ(s1.stats.conn_created, 3u);
  EXPECT_EQ(s1.stats.proc_created, 2u);
  EXPECT_TRUE(s1.conns_gone.empty());

  // Nothing moved: nothing read.
  Snapshot s2 = reader.read();
  EXPECT_TRUE(s2.changes);
  EXPECT_TRUE(s2.conns.empty());
  EXPECT_TRUE(s2.procs.empty());
  EXPECT_TRUE(s2.conns_gone.empty());

  // One connection moved: it and its process, cumulative.
  k.send(kA, 1, 5);
  Snapshot s3 = reader.read();
  ASSERT_EQ(s3.conns.size(), 1u);
  EXPECT_EQ(s3.conns[0].id, cid(kA, 1));
  EXPECT_EQ(s3.conns[0].tx, 105u);
  ASSERT_EQ(s3.procs.size(), 1u);
  EXPECT_EQ(s3.procs[0].id, kA);
  EXPECT_EQ(s3.procs[0].bytes, (ByteCounters{.tx = 105, .rx = 50}));

  // A connection slot being filled on one CPU (key in the hash, id still 0)
  // while another CPU finds it through the hash, adds 40 bytes and sets its
  // bit: the read skips it (id 0) ...
  int64_t slot = k.begin_conn(kB, 4);
  ASSERT_EQ(slot, 3);
  k.send(kB, 4, 40);  // found in the hash: no second entry
  EXPECT_EQ(k.st.conn_created, 3u);
  Snapshot s4 = reader.read();
  EXPECT_TRUE(s4.conns.empty());
  ASSERT_EQ(s4.procs.size(), 1u);
  EXPECT_EQ(s4.procs[0].bytes, (ByteCounters{.tx = 70}));
  // ... and reads it, bytes included, once the first CPU publishes it.
  k.finish_conn(uint32_t(slot));
  Snapshot s5 = reader.read();
  ASSERT_EQ(s5.conns.size(), 1u);
  EXPECT_EQ(s5.conns[0].id, cid(kB, 4));
  EXPECT_EQ(s5.conns[0].tx, 40u);
  EXPECT_TRUE(s5.procs.empty());
  EXPECT_EQ(s5.stats.conn_created, 4u);

  // The same for a process slot.
  int64_t pslot = k.begin_proc(kC);
  ASSERT_EQ(pslot, 2);
  k.send(kC, 5, 9);
  Snapshot s6 = reader.read();
  ASSERT_EQ(s6.conns.size(), 1u);
  EXPECT_EQ(s6.conns[0].id, cid(kC, 5));
  EXPECT_EQ(s6.conns[0].tx, 9u);
  EXPECT_TRUE(s6.procs.empty());
  k.finish_proc(uint32_t(pslot));
  Snapshot s7 = reader.read();
  EXPECT_TRUE(s7.conns.empty());
  ASSERT_EQ(s7.procs.size(), 1u);
  EXPECT_EQ(s7.procs[0].id, kC);
  EXPECT_EQ(s7.procs[0].bytes, (ByteCounters{.tx = 9}));
  EXPECT_TRUE(k.freed_conns.empty());
  EXPECT_TRUE(k.taken_conns.empty());
}

// ---- 2. Windows through the Poller; an exit frees its slots ----

struct ScriptedExits : ExitWatch {
  std::vector<ProcId> watched, to_end;
  void watch(const ProcId& id) override { watched.push_back(id); }
  bool unwatch(const ProcId& id) override {
    return std::find(watched.begin(), watched.end(), id) != watched.end();
  }
  std::vector<ProcId> ended() override { return std::exchange(to_end, {}); }
};

TEST(SlotReader, PollerWindowsAndExitedProcessSlotsReused) {
  FakeKernel k(128, 64);
  SlotReader reader(k.mem(), k);
  ScriptedExits exits;

  k.send(kA, 1, 100);  // before the baseline: never reported
  Poller poller(reader, exits);
  EXPECT_EQ(exits.watched, (std::vector<ProcId>{kA}));

  k.send(kA, 1, 10);
  k.recv(kA, 2, 20);
  k.send(kB, 3, 5);
  Window w1 = poller.poll();
  EXPECT_EQ(procs_of(w1),
            (std::map<ProcId, ByteCounters>{{kA, {.tx = 10, .rx = 20}}, {kB, {.tx = 5}}}));
  EXPECT_EQ(conns_of(w1), (std::map<ConnId, Counts>{
                              {cid(kA, 1), {10, 0}}, {cid(kA, 2), {0, 20}}, {cid(kB, 3), {5, 0}}}));
  EXPECT_TRUE(w1.exited.empty());
  EXPECT_EQ(w1.conns_evicted, 0u);

  // A moves 7 bytes and is found ended at the next poll.
  k.send(kA, 1, 7);
  exits.to_end = {kA};
  Window w2 = poller.poll();
  EXPECT_EQ(procs_of(w2), (std::map<ProcId, ByteCounters>{{kA, {.tx = 7}}}));
  EXPECT_EQ(conns_of(w2), (std::map<ConnId, Counts>{{cid(kA, 1), {7, 0}}}));
  EXPECT_EQ(w2.exited, (std::vector<ProcId>{kA}));
  EXPECT_TRUE(k.taken_procs.empty());  // not yet: one more read

  // It moved 3 more bytes between that read and its exit: the last read
  // counts them, then its entries leave the hashes, slots not yet freed.
  const uint32_t a_proc = k.proc_slot(kA), a1 = k.conn_slot(kA, 1), a2 = k.conn_slot(kA, 2);
  k.send(kA, 2, 3);
  k.send(kB, 3, 1);
  Window w3 = poller.poll();
  EXPECT_EQ(procs_of(w3), (std::map<ProcId, ByteCounters>{{kA, {.tx = 3}}, {kB, {.tx = 1}}}));
  EXPECT_EQ(conns_of(w3), (std::map<ConnId, Counts>{{cid(kA, 2), {3, 0}}, {cid(kB, 3), {1, 0}}}));
  EXPECT_EQ(w3.exited, (std::vector<ProcId>{kA}));
  EXPECT_EQ(k.taken_procs, (std::vector<ProcId>{kA}));
  EXPECT_EQ(cookies(k.taken_conns), (std::set<uint64_t>{1, 2}));
  EXPECT_FALSE(k.has_conn(kA, 1));
  EXPECT_FALSE(k.has_conn(kA, 2));
  EXPECT_EQ(k.procs[a_proc].id, 0u);  // freed by userspace ...
  EXPECT_EQ(k.conns[a1].id, 0u);
  EXPECT_EQ(k.conns[a2].id, 0u);
  EXPECT_TRUE(k.freed_conns.empty());  // ... handed back one read later
  EXPECT_TRUE(k.freed_procs.empty());
  EXPECT_EQ(w3.conns_evicted, 0u);

  Window w4 = poller.poll();
  EXPECT_TRUE(w4.procs.empty());
  EXPECT_TRUE(w4.conns.empty());
  EXPECT_TRUE(w4.exited.empty());
  EXPECT_EQ(std::multiset<uint32_t>(k.freed_conns.begin(), k.freed_conns.end()),
            (std::multiset<uint32_t>{a1, a2}));
  EXPECT_EQ(k.freed_procs, (std::vector<uint32_t>{a_proc}));
  EXPECT_EQ(w4.conns_evicted, 0u);

  Window w5 = poller.poll();  // nothing freed twice
  EXPECT_EQ(k.freed_conns.size(), 2u);
  EXPECT_EQ(k.freed_procs.size(), 1u);
  EXPECT_TRUE(w5.procs.empty());

  // A new process takes A's slots: its counters start at zero.
  const uint32_t first_free = k.free_conn_q.front();
  k.send(kC, 4, 50);
  k.recv(kC, 5, 60);
  EXPECT_EQ(k.proc_slot(kC), a_proc);
  EXPECT_EQ(k.conn_slot(kC, 4), first_free);
  EXPECT_EQ(std::set<uint32_t>({k.conn_slot(kC, 4), k.conn_slot(kC, 5)}),
            (std::set<uint32_t>{a1, a2}));
  Window w6 = poller.poll();
  EXPECT_EQ(procs_of(w6), (std::map<ProcId, ByteCounters>{{kC, {.tx = 50, .rx = 60}}}));
  EXPECT_EQ(conns_of(w6), (std::map<ConnId, Counts>{{cid(kC, 4), {50, 0}}, {cid(kC, 5), {0, 60}}}));
  EXPECT_EQ(w6.conns_evicted, 0u);
  k.send(kC, 4, 1);
  Window w7 = poller.poll();
  EXPECT_EQ(conns_of(w7), (std::map<ConnId, Counts>{{cid(kC, 4), {1, 0}}}));
  EXPECT_EQ(procs_of(w7), (std::map<ProcId, ByteCounters>{{kC, {.tx = 1}}}));
}

// ---- 3. Eviction of the connections idle the longest ----

TEST(SlotReader, EvictsIdleConnectionsAfterReportingTheirBytes) {
  FakeKernel k(128, 64);
  SlotReader reader(k.mem(), k);
  reader.set_watermarks(100, 80);
  Accountant acc;
  std::map<ConnId, Counts> windows;  // sum of every window, per connection
  std::map<ProcId, ByteCounters> proc_windows;
  std::map<ConnId, Counts> last_seen;  // last value each snapshot showed
  auto poll = [&](Snapshot* out = nullptr) {
    Snapshot s = reader.read();
    for (const auto& c : s.conns) {
      auto it = last_seen.find(c.id);
      if (it != last_seen.end() &&
          std::find(s.conns_gone.begin(), s.conns_gone.end(), c.id) == s.conns_gone.end()) {
        EXPECT_GE(c.tx, it->second.tx) << "cookie " << c.id.cookie << " went backwards";
        EXPECT_GE(c.rx, it->second.rx) << "cookie " << c.id.cookie << " went backwards";
      }
      last_seen[c.id] = {c.tx, c.rx};
    }
    Window w = acc.advance(s);
    for (const auto& c : w.conns) {
      windows[c.id].tx += c.tx;
      windows[c.id].rx += c.rx;
    }
    for (const auto& p : w.procs) proc_windows[p.id] += p.bytes;
    if (out) *out = s;
    return w;
  };
  auto owner = [](uint64_t cookie) { return cookie % 2 ? kA : kB; };
  acc.prime(reader.read());  // empty: every byte below is reported

  // Cookie c lives in slot c - 1.
  for (uint64_t c = 1; c <= 40; ++c) k.send(owner(c), c, 1000 + c);
  Window w1 = poll();
  EXPECT_EQ(w1.conns.size(), 40u);
  for (uint64_t c = 41; c <= 60; ++c) k.send(owner(c), c, 1000 + c);
  for (uint64_t c = 1; c <= 10; ++c) k.send(owner(c), c, 1);
  Window w2 = poll();
  EXPECT_EQ(w2.conns.size(), 30u);
  EXPECT_TRUE(k.taken_conns.empty());  // 60 live, under 100

  // 110 live > 100: down to 80, 30 evicted. Last read at poll 1: 16..40
  // (25); at poll 2: 1..10 and 41..60, of which the lowest slots 1..5 go.
  // Those read at this poll (11..15, 61..110) stay.
  for (uint64_t c = 61; c <= 110; ++c) k.send(owner(c), c, 1000 + c);
  for (uint64_t c = 11; c <= 15; ++c) k.send(owner(c), c, 2);
  Snapshot s3;
  Window w3 = poll(&s3);
  EXPECT_EQ(w3.conns.size(), 55u);
  std::set<uint64_t> evicted = cookie_range(16, 40);
  for (uint64_t c = 1; c <= 5; ++c) evicted.insert(c);
  EXPECT_EQ(cookies(k.taken_conns), evicted);
  EXPECT_EQ(k.taken_conns.size(), 30u);
  for (uint64_t c : evicted) {
    EXPECT_FALSE(k.has_conn(owner(c), c)) << c;
    // cleared at once (a socket's cached slot is no longer used), read once
    // more before it is freed
    EXPECT_EQ(k.conns[c - 1].id, 0u) << c;
  }
  EXPECT_TRUE(s3.conns_gone.empty());
  EXPECT_TRUE(k.freed_conns.empty());

  // Before the next read: a program that found cookie 16's slot before its
  // key was taken adds 7 bytes there; cookie 1 moves 11 bytes, which makes a
  // new entry for its key (slot 110, nothing free yet).
  k.add_to_conn_slot(15, 7);
  k.send(owner(1), 1, 11);
  EXPECT_EQ(k.conn_slot(owner(1), 1), 110u);
  Snapshot s4;
  Window w4 = poll(&s4);
  // The final read of all 30; cookie 1 found again goes on from its old
  // counters (1001 + 1 + 11), so the window shows only the new bytes.
  auto c4 = conns_of(s4);
  EXPECT_EQ(c4.size(), 30u);
  for (uint64_t c : evicted) {
    ASSERT_TRUE(c4.count(cid(owner(c), c))) << c;
    EXPECT_EQ(c4[cid(owner(c), c)], k.conn_truth[cid(owner(c), c)]) << c;  // every byte
  }
  EXPECT_EQ(c4[cid(kA, 1)], (Counts{1013, 0}));
  EXPECT_EQ(c4[cid(kB, 16)], (Counts{1023, 0}));
  EXPECT_EQ(conns_of(w4), (std::map<ConnId, Counts>{{cid(kA, 1), {11, 0}}, {cid(kB, 16), {7, 0}}}));
  EXPECT_TRUE(s4.conns_gone.empty());  // one read after the final read
  // Their keys left the hash a read ago: the slots go back to the kernel at
  // this, their final, read (not at the read that took the keys).
  std::set<uint32_t> evicted_slots;
  for (uint64_t c : evicted) evicted_slots.insert(uint32_t(c - 1));
  EXPECT_EQ(std::set<uint32_t>(k.freed_conns.begin(), k.freed_conns.end()), evicted_slots);
  EXPECT_EQ(k.freed_conns.size(), 30u);
  EXPECT_EQ(k.taken_conns.size(), 30u);  // 111 created - 30 freed = 81: no more
  for (uint64_t c : evicted) EXPECT_EQ(k.conns[c - 1].id, 0u) << c;

  // Cookie 2 moves again after its final read: a new entry, in a slot the
  // reader handed back.
  k.send(owner(2), 2, 13);
  EXPECT_TRUE(evicted_slots.count(k.conn_slot(owner(2), 2)));
  Snapshot s5;
  Window w5 = poll(&s5);
  std::set<uint64_t> gone = evicted;
  gone.erase(1);  // found again before it was reported gone
  EXPECT_EQ(cookies(s5.conns_gone), gone);
  EXPECT_EQ(s5.conns_gone.size(), 29u);
  EXPECT_EQ(k.freed_conns.size(), 30u);  // nothing freed twice
  // Cookie 2 is gone and back in the same snapshot: all its bytes are new.
  EXPECT_EQ(conns_of(s5), (std::map<ConnId, Counts>{{cid(kB, 2), {13, 0}}}));
  EXPECT_EQ(conns_of(w5), (std::map<ConnId, Counts>{{cid(kB, 2), {13, 0}}}));
  EXPECT_EQ(w5.conns_evicted, 30u);  // 112 created, 82 held

  // Cookie 1 goes on in its new slot with the carried counters; a new
  // connection takes a freed slot and starts from zero.
  k.send(owner(1), 1, 5);
  k.send(kC, 500, 77);
  EXPECT_TRUE(evicted_slots.count(k.conn_slot(kC, 500)));
  Snapshot s6;
  Window w6 = poll(&s6);
  EXPECT_EQ(conns_of(s6),
            (std::map<ConnId, Counts>{{cid(kA, 1), {1018, 0}}, {cid(kC, 500), {77, 0}}}));
  EXPECT_EQ(conns_of(w6),
            (std::map<ConnId, Counts>{{cid(kA, 1), {5, 0}}, {cid(kC, 500), {77, 0}}}));
  EXPECT_TRUE(s6.conns_gone.empty());

  // Every byte the kernel counted is in exactly one window.
  Window w7 = poll();
  EXPECT_TRUE(w7.conns.empty());
  EXPECT_EQ(windows, k.conn_truth);
  std::map<ProcId, ByteCounters> truth;
  for (const auto& [p, t] : k.proc_truth) truth[p] = {.tx = t.tx, .rx = t.rx};
  EXPECT_EQ(proc_windows, truth);
}

// Eviction keeps going under churn: many rounds of new connections, a few
// busy ones, random idle ones touched again; every byte lands in exactly one
// window and slots never run out.
TEST(SlotReader, EvictionUnderChurnLosesNoBytes) {
  FakeKernel k(128, 64);
  SlotReader reader(k.mem(), k);
  reader.set_watermarks(96, 64);
  Accountant acc;
  std::map<ConnId, Counts> windows;
  acc.prime(reader.read());
  uint64_t next_cookie = 1, seed = 12345;
  auto rnd = [&seed](uint64_t n) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return (seed >> 33) % n;
  };
  for (int round = 0; round < 200; ++round) {
    for (int i = 0; i < 10; ++i) {
      uint64_t c = next_cookie++;
      k.send(c % 3 == 0 ? kA : kB, c, 100 + c);
    }
    for (uint64_t c = 1; c <= 3; ++c) k.send(kC, 100000 + c, 1);  // always busy
    for (int i = 0; i < 5; ++i) {                                 // an older one, evicted or not
      uint64_t c = 1 + rnd(next_cookie - 1);
      k.recv(c % 3 == 0 ? kA : kB, c, 3);
    }
    Window w = acc.advance(reader.read());
    for (const auto& c : w.conns) {
      windows[c.id].tx += c.tx;
      windows[c.id].rx += c.rx;
    }
  }
  Window w = acc.advance(reader.read());
  for (const auto& c : w.conns) {
    windows[c.id].tx += c.tx;
    windows[c.id].rx += c.rx;
  }
  w = acc.advance(reader.read());
  EXPECT_TRUE(w.conns.empty());
  EXPECT_EQ(k.st.insert_failed, 0u);
  EXPECT_GT(k.taken_conns.size(), 1000u);
  EXPECT_EQ(windows.size(), k.conn_truth.size());
  for (const auto& [id, t] : k.conn_truth) {
    EXPECT_EQ(windows[id], t) << "cookie " << id.cookie;
  }
}

// The reader hands an evicted slot back while it reads (before it drains
// the change feed): the kernel may take it at once, for the evicted key
// itself or for a new one. The evicted key still goes on from its old
// counters, the new key starts from zero.
TEST(SlotReader, EvictedSlotReusedDuringItsFinalRead) {
  FakeKernel k(64, 64);
  SlotReader reader(k.mem(), k);
  reader.set_watermarks(2, 1);
  Accountant acc;
  acc.prime(reader.read());
  k.send(kA, 1, 100);
  k.send(kA, 2, 200);
  k.send(kA, 3, 300);
  Window w1 = acc.advance(reader.read());  // 3 live, none idle
  EXPECT_EQ(w1.conns.size(), 3u);
  EXPECT_TRUE(k.taken_conns.empty());
  k.send(kA, 3, 1);
  Window w2 = acc.advance(reader.read());  // 3 live > 2: down to 1
  EXPECT_EQ(cookies(k.taken_conns), (std::set<uint64_t>{1, 2}));

  // While the reader hands the slots back, cookie 1 moves 11 bytes and a
  // new connection 9 moves 5: both take a slot just handed back.
  bool once = false;
  k.on_free_conn = [&](uint32_t) {
    if (std::exchange(once, true)) return;
    k.send(kA, 1, 11);
  };
  Snapshot s3 = reader.read();
  k.on_free_conn = nullptr;
  EXPECT_EQ(std::set<uint32_t>(k.freed_conns.begin(), k.freed_conns.end()),
            (std::set<uint32_t>{0, 1}));
  EXPECT_TRUE(k.conn_slot(kA, 1) <= 1u);  // a reused slot
  EXPECT_EQ(conns_of(s3),
            (std::map<ConnId, Counts>{{cid(kA, 1), {111, 0}}, {cid(kA, 2), {200, 0}}}));
  Window w3 = acc.advance(s3);
  EXPECT_EQ(conns_of(w3), (std::map<ConnId, Counts>{{cid(kA, 1), {11, 0}}}));
  EXPECT_EQ(procs_of(w3), (std::map<ProcId, ByteCounters>{{kA, {.tx = 11}}}));

  reader.set_watermarks(60, 50);  // no more eviction from here on
  k.send(kA, 9, 5);               // the other slot handed back
  EXPECT_TRUE(k.conn_slot(kA, 9) <= 1u);
  Snapshot s4 = reader.read();
  EXPECT_EQ(cookies(s4.conns_gone), (std::set<uint64_t>{2}));
  Window w4 = acc.advance(s4);
  EXPECT_EQ(conns_of(w4), (std::map<ConnId, Counts>{{cid(kA, 9), {5, 0}}}));
  k.send(kA, 1, 1);
  Snapshot s5 = reader.read();
  EXPECT_EQ(conns_of(s5), (std::map<ConnId, Counts>{{cid(kA, 1), {112, 0}}}));
  Window w5 = acc.advance(s5);
  EXPECT_EQ(conns_of(w5), (std::map<ConnId, Counts>{{cid(kA, 1), {1, 0}}}));
}

// ---- 4. A byte added while a poll runs is counted once ----

TEST(SlotReader, ByteAddedDuringAPollCountedOnce) {
  FakeKernel k(128, 64);
  SlotReader reader(k.mem(), k);
  Accountant acc;
  k.send(kA, 1, 100);
  acc.prime(reader.read());

  // 5 bytes set the bit; the poll swaps the word; 3 more bytes land before
  // the slot is read (the read sees them) and set the bit again after it.
  const uint32_t slot = k.conn_slot(kA, 1);
  k.send(kA, 1, 5);
  k.add_to_conn_slot(slot, 3, /*set_bit=*/false);
  Snapshot s1 = reader.read();
  k.touch_conn(slot);
  ASSERT_EQ(s1.conns.size(), 1u);
  EXPECT_EQ(s1.conns[0].tx, 108u);
  Window w1 = acc.advance(s1);
  EXPECT_EQ(conns_of(w1), (std::map<ConnId, Counts>{{cid(kA, 1), {8, 0}}}));
  // The next poll reads it again: no change, nothing counted twice.
  Snapshot s2 = reader.read();
  ASSERT_EQ(s2.conns.size(), 1u);
  EXPECT_EQ(s2.conns[0].tx, 108u);
  Window w2 = acc.advance(s2);
  EXPECT_TRUE(w2.conns.empty());

  // The add lands after the slot was read: the bit brings it next time.
  Snapshot s3 = reader.read();
  EXPECT_TRUE(s3.conns.empty());
  k.add_to_conn_slot(slot, 8);
  Window w3 = acc.advance(s3);
  EXPECT_TRUE(w3.conns.empty());
  Window w4 = acc.advance(reader.read());
  EXPECT_EQ(conns_of(w4), (std::map<ConnId, Counts>{{cid(kA, 1), {8, 0}}}));
  Window w5 = acc.advance(reader.read());
  EXPECT_TRUE(w5.conns.empty());
}

}  // namespace
