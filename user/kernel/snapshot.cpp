#include "kernel/snapshot.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "kernel/abi.hpp"
#include "model/clock.hpp"

namespace netacct {
namespace {

// Every entry of a hash map. Batch lookup copies many entries per syscall
// (Linux >= 5.6); older kernels fall back to get_next_key + lookup.
template <typename K, typename V>
void dump_map(int fd, std::vector<K>& keys, std::vector<V>& vals) {
  constexpr uint32_t chunk = 4096;
  keys.clear();
  vals.clear();
  uint64_t token = 0;
  bool first = true;
  for (;;) {
    size_t at = keys.size();
    keys.resize(at + chunk);
    vals.resize(at + chunk);
    uint32_t n = chunk;
    int err = bpf_map_lookup_batch(fd, first ? nullptr : &token, &token, &keys[at], &vals[at], &n,
                                   nullptr);
    err = err ? -errno : 0;
    keys.resize(at + n);
    vals.resize(at + n);
    first = false;
    if (err == -ENOENT) return;  // end of map
    if (err == 0) continue;
    if (err == -EINVAL || err == -ENOTSUP || err == -EOPNOTSUPP) break;
    return;  // other errors: keep what was read
  }
  keys.clear();
  vals.clear();
  K key{}, next{};
  V val{};
  const void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, &next) == 0) {
    if (bpf_map_lookup_elem(fd, &next, &val) == 0) {
      keys.push_back(next);
      vals.push_back(val);
    }
    key = next;
    prev = &key;
  }
}

ProcId to_id(const na_proc_key& k) {
  return {.tgid = k.tgid, .start_ns = k.start_ns, .exec_gen = k.exec_gen};
}

na_proc_key to_key(const ProcId& id) {
  return {.tgid = id.tgid, .exec_gen = id.exec_gen, .start_ns = id.start_ns};
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

KernelStats read_stats(int fd) {
  int ncpu = libbpf_num_possible_cpus();
  std::vector<na_stats> per_cpu(ncpu > 0 ? ncpu : 1);
  uint32_t zero = 0;
  KernelStats s;
  if (bpf_map_lookup_elem(fd, &zero, per_cpu.data()) != 0) return s;
  for (const auto& c : per_cpu) {
    s.conn_created += c.conn_created;
    s.proc_created += c.proc_created;
    s.insert_failed += c.insert_failed;
    s.events += c.events;
  }
  return s;
}

}  // namespace

Snapshot MapReader::read() {
  Snapshot snap;
  // Stats first: an entry created after this read is never counted as evicted.
  snap.stats = read_stats(stats_fd_);
  snap.mono_ns = mono_now_ns();
  snap.wall_ns = wall_now_ns();
  // Connections before processes: the kernel adds a byte to its connection
  // before its process (account()), so every byte in this connection read is
  // also in the process read that follows: a connection's cumulative count
  // never exceeds its process's. (Within one window a byte added while the
  // maps are read can still land in the process now and the connection in
  // the next window.)
  std::vector<na_conn_key> ck;
  std::vector<na_conn_val> cv;
  dump_map(conns_fd_, ck, cv);
  snap.conns.reserve(ck.size());
  for (size_t i = 0; i < ck.size(); ++i) snap.conns.push_back(to_entry(ck[i], cv[i]));
  std::vector<na_proc_key> pk;
  std::vector<na_proc_val> pv;
  dump_map(procs_fd_, pk, pv);
  snap.procs.reserve(pk.size());
  for (size_t i = 0; i < pk.size(); ++i) snap.procs.push_back(to_entry(pk[i], pv[i]));
  return snap;
}

uint64_t MapReader::remove(const std::vector<ProcId>& gone, const Snapshot& snap) {
  std::set<ProcId> dead(gone.begin(), gone.end());
  uint64_t deleted = 0;
  for (const auto& c : snap.conns) {
    if (!dead.count(c.id.proc)) continue;
    na_conn_key k{.cookie = c.id.cookie, .proc = to_key(c.id.proc), .dgram_lo = c.id.dgram_lo};
    deleted += bpf_map_delete_elem(conns_fd_, &k) == 0;
  }
  for (const auto& id : dead) {
    na_proc_key k = to_key(id);
    bpf_map_delete_elem(procs_fd_, &k);
  }
  return deleted;
}

}  // namespace netacct
