// The kernel read of one refresh: MapReader::read (the product's code,
// user/kernel/snapshot.cpp: batch lookups, then conversion to a Snapshot)
// over real BPF maps made with bpf_map_create with the types, key and value
// sizes of bpf/netacct.h's procs, conns and stats maps, filled with N
// connection entries (N/20 processes). Needs root (CAP_BPF).
//
// The product's conns map holds NA_MAX_CONNS (65,536) entries; for the
// 100,000-socket case the map here is made larger, to measure the read of
// 100,000 entries.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>

#include "bench.hpp"
#include "kernel/abi.hpp"
#include "kernel/snapshot.hpp"
#include "synthetic.hpp"

namespace netacct::bench {
namespace {

struct Maps {
  int procs = -1, conns = -1, stats = -1;
  std::string error;
  ~Maps() {
    for (int fd : {procs, conns, stats})
      if (fd >= 0) close(fd);
  }
};

int create(bpf_map_type type, const char* name, uint32_t key, uint32_t value, uint32_t max,
           std::string& error) {
  int fd = bpf_map_create(type, name, key, value, max, nullptr);
  if (fd < 0 && error.empty())
    error = std::string("bpf_map_create ") + name + ": " + std::strerror(errno) + " (run as root)";
  return fd;
}

// Batch update where the kernel has it, else one element at a time.
template <typename K, typename V>
bool fill(int fd, const std::vector<K>& keys, const std::vector<V>& vals) {
  uint32_t n = uint32_t(keys.size());
  if (bpf_map_update_batch(fd, keys.data(), vals.data(), &n, nullptr) == 0 && n == keys.size())
    return true;
  for (size_t i = 0; i < keys.size(); ++i)
    if (bpf_map_update_elem(fd, &keys[i], &vals[i], BPF_ANY) != 0) return false;
  return true;
}

std::unique_ptr<Maps> make_maps(size_t conns) {
  auto m = std::make_unique<Maps>();
  Shape s = Shape::of(conns);
  // LRU maps hand out free nodes per CPU in batches: headroom so that no
  // entry is evicted while filling.
  uint32_t conn_max = std::max<uint32_t>(NA_MAX_CONNS, uint32_t(conns + conns / 2));
  uint32_t proc_max = std::max<uint32_t>(NA_MAX_PROCS, uint32_t(s.procs * 2));
  m->procs = create(BPF_MAP_TYPE_LRU_HASH, "procs", sizeof(na_proc_key), sizeof(na_proc_val),
                    proc_max, m->error);
  m->conns = create(BPF_MAP_TYPE_LRU_HASH, "conns", sizeof(na_conn_key), sizeof(na_conn_val),
                    conn_max, m->error);
  m->stats =
      create(BPF_MAP_TYPE_PERCPU_ARRAY, "stats", sizeof(uint32_t), sizeof(na_stats), 1, m->error);
  if (!m->error.empty()) return m;

  Window w = window(s);
  std::vector<na_proc_key> pk;
  std::vector<na_proc_val> pv;
  for (const auto& p : w.procs) {
    na_proc_key k{.tgid = p.id.tgid, .exec_gen = p.id.exec_gen, .start_ns = p.id.start_ns};
    na_proc_val v{};
    v.tx_bytes = p.bytes.tx;
    v.rx_bytes = p.bytes.rx;
    v.uid = p.info.uid;
    v.cgroup_id = p.info.cgroup_id;
    std::strncpy(v.comm, p.info.comm.c_str(), sizeof v.comm - 1);
    pk.push_back(k);
    pv.push_back(v);
  }
  std::vector<na_conn_key> ck;
  std::vector<na_conn_val> cv;
  for (const auto& c : w.conns) {
    na_conn_key k{.cookie = c.id.cookie,
                  .proc = {.tgid = c.id.proc.tgid,
                           .exec_gen = c.id.proc.exec_gen,
                           .start_ns = c.id.proc.start_ns},
                  .dgram_lo = c.id.dgram_lo};
    na_conn_val v{};
    v.tx_bytes = c.tx;
    v.rx_bytes = c.rx;
    v.netns = c.info.netns;
    v.family = c.info.family;
    v.proto = c.info.proto;
    v.lport = c.info.local.port;
    v.rport = c.info.remote.port;
    std::memcpy(v.laddr, c.info.local.addr.data(), 16);
    std::memcpy(v.raddr, c.info.remote.addr.data(), 16);
    ck.push_back(k);
    cv.push_back(v);
  }
  if (!fill(m->procs, pk, pv) || !fill(m->conns, ck, cv))
    m->error = std::string("filling the maps: ") + std::strerror(errno);
  return m;
}

void map_read(benchmark::State& st, size_t conns) {
  static std::map<size_t, std::unique_ptr<Maps>> cache;  // filled once per size
  auto& m = cache[conns];
  if (!m) m = make_maps(conns);
  if (!m->error.empty()) {
    st.SkipWithError(m->error.c_str());
    return;
  }
  MapReader reader(m->procs, m->conns, m->stats);
  Snapshot check = reader.read();
  if (check.conns.size() != conns || check.procs.size() != Shape::of(conns).procs) {
    std::string e = "read back " + std::to_string(check.conns.size()) + " of " +
                    std::to_string(conns) + " connection entries (evicted while filling?)";
    st.SkipWithError(e.c_str());
    return;
  }
  for (auto _ : st) {
    Snapshot s = reader.read();
    benchmark::DoNotOptimize(s.conns.data());
  }
  st.counters["entries"] = double(conns);
}

// Only the conns map's batch lookups into ready buffers: the kernel's share
// of map_read (the rest is growing vectors and converting to a Snapshot).
void lookup_batch_only(benchmark::State& st, size_t conns) {
  static std::map<size_t, std::unique_ptr<Maps>> cache;
  auto& m = cache[conns];
  if (!m) m = make_maps(conns);
  if (!m->error.empty()) {
    st.SkipWithError(m->error.c_str());
    return;
  }
  constexpr uint32_t chunk = 4096;  // as dump_map in user/kernel/snapshot.cpp
  std::vector<na_conn_key> keys(conns + chunk);
  std::vector<na_conn_val> vals(conns + chunk);
  for (auto _ : st) {
    size_t at = 0;
    uint64_t token = 0;
    for (bool first = true;; first = false) {
      uint32_t n = chunk;
      int err = bpf_map_lookup_batch(m->conns, first ? nullptr : &token, &token, &keys[at],
                                     &vals[at], &n, nullptr);
      at += n;
      if (err) break;  // ENOENT: end of map
    }
    if (at != conns) {
      st.SkipWithError("batch lookup did not return every entry");
      return;
    }
    benchmark::DoNotOptimize(keys.data());
  }
}

}  // namespace

// Bytes of the maps' keys and values for N connections: the memcpy baseline.
size_t map_bytes(size_t conns) {
  Shape s = Shape::of(conns);
  return s.conns * (sizeof(na_conn_key) + sizeof(na_conn_val)) +
         s.procs * (sizeof(na_proc_key) + sizeof(na_proc_val));
}

void register_map_benchmarks() {
  for (size_t n : {size_t(10000), size_t(100000)}) {
    common(benchmark::RegisterBenchmark(("kernel/map_read/conns:" + std::to_string(n)).c_str(),
                                        map_read, n));
    common(benchmark::RegisterBenchmark(
        ("kernel/lookup_batch_only/conns:" + std::to_string(n)).c_str(), lookup_batch_only, n));
  }
}

}  // namespace netacct::bench
