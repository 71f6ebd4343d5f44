#include "kernel/slot_reader.hpp"

#include <algorithm>
#include <cstring>

#include "model/clock.hpp"

namespace netacct {

ProcId to_id(const na_proc_key& k) {
  return {.tgid = k.tgid, .start_ns = k.start_ns, .exec_gen = k.exec_gen};
}

na_proc_key to_key(const ProcId& id) {
  return {.tgid = id.tgid, .exec_gen = id.exec_gen, .start_ns = id.start_ns};
}

na_conn_key to_key(const ConnId& id) {
  return {.cookie = id.cookie, .proc = to_key(id.proc), .dgram_lo = id.dgram_lo};
}

ProcEntry to_entry(const na_proc_key& k, const na_proc_val& v) {
  ProcEntry e;
  e.id = to_id(k);
  e.info.comm.assign(v.comm, strnlen(v.comm, sizeof(v.comm)));
  e.info.uid = v.uid;
  e.info.cgroup_id = v.cgroup_id;
  e.bytes = {v.tx_bytes, v.rx_bytes, v.lo_tx_bytes, v.lo_rx_bytes};
  e.execed = v.flags & NA_PROC_EXECED;
  return e;
}

ConnEntry to_entry(const na_conn_key& k, const na_conn_val& v) {
  ConnEntry e;
  e.id = {.cookie = k.cookie, .proc = to_id(k.proc), .dgram_lo = uint8_t(k.dgram_lo != 0)};
  e.info.family = v.family;
  e.info.proto = v.proto;
  std::copy(std::begin(v.laddr), std::end(v.laddr), e.info.local.addr.begin());
  std::copy(std::begin(v.raddr), std::end(v.raddr), e.info.remote.addr.begin());
  e.info.local.port = v.lport;
  e.info.remote.port = v.rport;
  e.info.netns = v.netns;
  e.info.loopback = v.flags & NA_CONN_LOOPBACK;
  e.tx = v.tx_bytes;
  e.rx = v.rx_bytes;
  return e;
}

namespace {

// The set bits of a change-feed word, cleared in the kernel's memory. The
// plain load first: a word with no change is not written (its cache line
// stays shared with the CPUs that test it).
template <typename F>
void drain(uint64_t* word, uint32_t base, F&& f) {
  if (__atomic_load_n(word, __ATOMIC_RELAXED) == 0) return;
  uint64_t bits = __atomic_exchange_n(word, 0, __ATOMIC_ACQ_REL);
  while (bits) {
    f(base + uint32_t(__builtin_ctzll(bits)));
    bits &= bits - 1;
  }
}

// About how many slots moved (bits set later are read too): room for them
// at once, not a copy of the entries at every doubling.
size_t count_bits(const uint64_t* words, uint32_t n) {
  size_t bits = 0;
  for (uint32_t w = 0; w < n; ++w) bits += size_t(__builtin_popcountll(words[w]));
  return bits;
}

// A slot's id: 0 while free or being filled (bpf/netacct.h). Acquire: the
// fields read after it are the ones the kernel filled before setting it.
uint64_t slot_id(const __u64* id) { return __atomic_load_n(id, __ATOMIC_ACQUIRE); }

}  // namespace

// `final`: an evicted entry's last read, whose id was cleared when its key
// left the hash.
bool SlotReader::read_conn(uint32_t slot, ConnEntry* out, bool final) {
  const na_conn_slot& s = mem_.conns[slot];
  if (!final && slot_id(&s.id) == 0) return false;
  na_conn_val v;
  std::memcpy(&v, &s.val, sizeof v);
  *out = to_entry(s.key, v);
  out->slot = slot;
  if (auto c = carried_.empty() ? carried_.end() : carried_.find(slot); c != carried_.end()) {
    out->tx += c->second.tx;
    out->rx += c->second.rx;
  }
  conn_read_[slot] = poll_;
  conn_high_water_ = std::max(conn_high_water_, slot + 1);
  return true;
}

// `now`: the key left the hash and the id was cleared a poll ago (an
// evicted entry), so no program still holds the slot: it goes back to the
// kernel at once, not at the next read.
void SlotReader::free_conn_slot(uint32_t slot, bool now) {
  __atomic_store_n(&mem_.conns[slot].id, 0, __ATOMIC_RELEASE);
  carried_.erase(slot);
  if (now)
    ops_.free_conn(slot);
  else
    free_conns_.push_back(slot);
  ++conns_freed_;
}

// Connections: first the entries evicted at the last read, read once more;
// then every slot that moved. An evicted key found again in a new slot
// carries its bytes there (its counters go on from where they were); one
// not found is reported with its last bytes now and gone at the next read.
void SlotReader::read_conns(Snapshot& snap) {
  std::unordered_map<ConnId, ConnEntry> last;
  for (const auto& [id, slot] : evicting_) {
    ConnEntry e;
    if (read_conn(slot, &e, true)) last.emplace(id, e);
    free_conn_slot(slot, true);
  }
  evicting_.clear();
  uint32_t words = mem_.max_conns / 64;
  snap.conns.reserve(count_bits(mem_.touched, words) + last.size());
  for (uint32_t w = 0; w < words; ++w)
    drain(&mem_.touched[w], w * 64, [&](uint32_t slot) {
      ConnEntry e;
      if (!read_conn(slot, &e, false)) return;
      if (auto it = last.empty() ? last.end() : last.find(e.id); it != last.end()) {
        Counts& c = carried_[slot];
        c.tx += it->second.tx;
        c.rx += it->second.rx;
        e.tx += it->second.tx;
        e.rx += it->second.rx;
        last.erase(it);
      }
      snap.conns.push_back(std::move(e));
    });
  for (auto& [id, e] : last) {
    snap.conns.push_back(std::move(e));
    gone_next_.push_back(id);
  }
}

void SlotReader::read_procs(Snapshot& snap) {
  uint32_t base = mem_.max_conns / 64, words = mem_.max_procs / 64;
  snap.procs.reserve(count_bits(mem_.touched + base, words));
  for (uint32_t w = 0; w < words; ++w)
    drain(&mem_.touched[base + w], w * 64, [&](uint32_t slot) {
      const na_proc_slot& s = mem_.procs[slot];
      if (slot_id(&s.id) == 0) return;
      na_proc_val v;
      std::memcpy(&v, &s.val, sizeof v);
      snap.procs.push_back(to_entry(s.key, v));
      snap.procs.back().slot = slot;
    });
}

// The connections idle the longest, when the live ones pass the high
// watermark: their keys leave the hash and their ids are cleared now (a new
// event, hashed or through a socket's cached slot, makes a new entry); their
// slots are read once more and freed at the next read, when no program that
// found them before can still be adding to them.
void SlotReader::evict_idle(const KernelStats& stats) {
  uint64_t live = stats.conn_created - conns_freed_ - evicting_.size();
  if (stats.conn_created < conns_freed_ + evicting_.size() || live <= high_) return;
  std::vector<std::pair<uint32_t, uint32_t>> idle;  // (poll last read, slot)
  // A slot whose bit is set again moved since its read (or holds a new
  // entry the reader has not seen yet): not idle.
  for (uint32_t s = 0; s < conn_high_water_; ++s)
    if (conn_read_[s] != poll_ && slot_id(&mem_.conns[s].id) != 0 &&
        !(__atomic_load_n(&mem_.touched[s / 64], __ATOMIC_RELAXED) >> (s % 64) & 1))
      idle.emplace_back(conn_read_[s], s);
  size_t n = std::min<size_t>(idle.size(), live - low_);
  std::nth_element(idle.begin(), idle.begin() + n, idle.end());
  for (size_t i = 0; i < n; ++i) {
    uint32_t slot = idle[i].second, found = 0;
    const na_conn_key key = mem_.conns[slot].key;
    if (ops_.take_conn(key, &found) && found < mem_.max_conns) {
      __atomic_store_n(&mem_.conns[found].id, 0, __ATOMIC_RELEASE);
      evicting_.emplace(to_entry(key, na_conn_val{}).id, found);
    }
  }
}

Snapshot SlotReader::read() {
  Snapshot snap;
  snap.changes = true;
  // Stats first: the kernel sets an entry's bit before it counts the entry
  // as created, so every entry created by now is read below.
  snap.stats = ops_.stats();
  snap.mono_ns = mono_now_ns();
  snap.wall_ns = wall_now_ns();
  ++poll_;
  for (uint32_t s : free_conns_) ops_.free_conn(s);
  for (uint32_t s : free_procs_) ops_.free_proc(s);
  free_conns_.clear();
  free_procs_.clear();
  snap.conns_gone = std::move(gone_next_);
  gone_next_.clear();
  // Connections before processes: the kernel counts a byte to its process
  // before its connection, so every byte a connection read shows is in the
  // process read that follows.
  read_conns(snap);
  read_procs(snap);
  evict_idle(snap.stats);
  return snap;
}

// The entries of processes that ended (read for the last time by the read
// before this call): keys out of the hash maps now, slots back to the
// kernel at the next read.
uint64_t SlotReader::remove(const std::vector<ProcId>& gone, const Snapshot& snap) {
  uint64_t deleted = 0;
  for (const auto& c : snap.conns) {
    uint32_t slot = 0;
    if (auto it = evicting_.find(c.id); it != evicting_.end()) {
      slot = it->second;  // already out of the hash
      evicting_.erase(it);
    } else if (!ops_.take_conn(to_key(c.id), &slot)) {
      continue;
    }
    free_conn_slot(slot, false);
    ++deleted;
  }
  for (const auto& id : gone) {
    uint32_t slot = 0;
    if (!ops_.take_proc(to_key(id), &slot)) continue;
    __atomic_store_n(&mem_.procs[slot].id, 0, __ATOMIC_RELEASE);
    free_procs_.push_back(slot);
  }
  return deleted;
}

}  // namespace netacct
