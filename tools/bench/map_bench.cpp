// The kernel read of one refresh: MapReader::read (the product's code,
// user/kernel/snapshot.cpp over kernel/slot_reader.cpp: the change feed's
// words swapped with 0, the slots whose bits were set read in place) over
// real BPF maps made with bpf_map_create as bpf/netacct.bpf.c declares them
// (procs, conns, proc_slots, conn_slots, touched, free_procs, free_conns,
// stats). Needs root (CAP_BPF).
//
// N connection slots are live (N = 1,000, 10,000, 100,000; a tenth as many
// processes, as refresh_bench.cpp's load, so the two add up), written
// through a mapping of the arrays as the kernel fills them, their keys in
// the hash maps. Before each read, a fixed pseudo-random `active` % of the
// connections (and their processes) move bytes: counters added to and bits
// set as the kernel's account() does, by a thread on another CPU (as the
// kernel's hooks run elsewhere: the reader finds those cache lines in
// another core's cache). That marking is the kernel's work, not the read's:
// timing is paused while it runs.
//
//   kernel/map_read/conns:N/active:P   MapReader::read, P = 0 (nothing
//                                      moved: the floor), 1, 100
//   kernel/map_read_warm/conns:100000/active:P  the same, marked by the
//                                      benchmark thread itself: the slots
//                                      are in its cache (the read's own
//                                      work, without the misses)
//   kernel/old_lookup_batch/conns:N    the old design's kernel share for
//                                      comparison: batch lookups of every
//                                      entry of an LRU hash of N connections
//                                      (key na_conn_key, value na_conn_val),
//                                      which the old read paid at every
//                                      refresh before converting them
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <thread>
#include <unordered_map>

#include "bench.hpp"
#include "kernel/abi.hpp"
#include "kernel/snapshot.hpp"
#include "synthetic.hpp"

namespace netacct::bench {
namespace {

// As refresh_bench.cpp's LoadShape: a tenth as many processes as sockets.
Shape load_shape(size_t conns) {
  return {conns, std::max<size_t>(conns / 10, 1), std::max<size_t>(conns / 5, 1)};
}

int create(bpf_map_type type, const char* name, uint32_t key, uint32_t value, uint32_t max,
           uint32_t flags, std::string& error) {
  LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = flags);
  int fd = bpf_map_create(type, name, key, value, max, &opts);
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

template <typename T>
T* map_array(int fd, size_t count, std::string& error) {
  void* p = mmap(nullptr, sizeof(T) * count, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p != MAP_FAILED) return static_cast<T*>(p);
  if (error.empty()) error = std::string("mmap: ") + std::strerror(errno);
  return nullptr;
}

// The maps of bpf/netacct.bpf.c, and this process's own view of the arrays
// (the kernel's side: it fills slots and marks them).
struct Maps {
  KernelMaps fds;
  Shape shape{};
  na_conn_slot* conns = nullptr;
  na_proc_slot* procs = nullptr;
  uint64_t* touched = nullptr;
  std::string error;
  Maps() = default;
  Maps(const Maps&) = delete;
  Maps& operator=(const Maps&) = delete;
  ~Maps() {
    if (conns) munmap(conns, sizeof(na_conn_slot) * NA_MAX_CONNS);
    if (procs) munmap(procs, sizeof(na_proc_slot) * NA_MAX_PROCS);
    if (touched) munmap(touched, sizeof(uint64_t) * NA_TOUCHED_WORDS);
    for (int fd : {fds.procs, fds.conns, fds.proc_slots, fds.conn_slots, fds.touched,
                   fds.free_procs, fds.free_conns, fds.stats})
      if (fd >= 0) close(fd);
  }
};

void create_maps(Maps& m) {
  KernelMaps& f = m.fds;
  std::string& e = m.error;
  f.procs =
      create(BPF_MAP_TYPE_HASH, "procs", sizeof(na_proc_key), sizeof(__u32), NA_MAX_PROCS, 0, e);
  f.conns =
      create(BPF_MAP_TYPE_HASH, "conns", sizeof(na_conn_key), sizeof(__u32), NA_MAX_CONNS, 0, e);
  f.proc_slots = create(BPF_MAP_TYPE_ARRAY, "proc_slots", sizeof(__u32), sizeof(na_proc_slot),
                        NA_MAX_PROCS, BPF_F_MMAPABLE, e);
  f.conn_slots = create(BPF_MAP_TYPE_ARRAY, "conn_slots", sizeof(__u32), sizeof(na_conn_slot),
                        NA_MAX_CONNS, BPF_F_MMAPABLE, e);
  f.touched = create(BPF_MAP_TYPE_ARRAY, "touched", sizeof(__u32), sizeof(__u64), NA_TOUCHED_WORDS,
                     BPF_F_MMAPABLE, e);
  f.free_procs = create(BPF_MAP_TYPE_QUEUE, "free_procs", 0, sizeof(__u32), NA_MAX_PROCS, 0, e);
  f.free_conns = create(BPF_MAP_TYPE_QUEUE, "free_conns", 0, sizeof(__u32), NA_MAX_CONNS, 0, e);
  f.stats = create(BPF_MAP_TYPE_PERCPU_ARRAY, "stats", sizeof(__u32), sizeof(na_stats), 1, 0, e);
  if (!e.empty()) return;
  m.conns = map_array<na_conn_slot>(f.conn_slots, NA_MAX_CONNS, e);
  m.procs = map_array<na_proc_slot>(f.proc_slots, NA_MAX_PROCS, e);
  m.touched = map_array<uint64_t>(f.touched, NA_TOUCHED_WORDS, e);
}

// Process i in slot i, connection j in slot j (the kernel hands slots out
// in order of first sight), ids from one counter as the kernel's.
void fill_slots(Maps& m, const Window& w) {
  uint64_t id = 0;
  for (size_t i = 0; i < w.procs.size(); ++i) {
    const auto& p = w.procs[i];
    na_proc_slot& s = m.procs[i];
    s.key = to_key(p.id);
    s.val = {};
    s.val.tx_bytes = p.bytes.tx;
    s.val.rx_bytes = p.bytes.rx;
    s.val.uid = p.info.uid;
    s.val.cgroup_id = p.info.cgroup_id;
    std::strncpy(s.val.comm, p.info.comm.c_str(), sizeof s.val.comm - 1);
    __atomic_store_n(&s.id, ++id, __ATOMIC_RELEASE);
  }
  for (size_t j = 0; j < w.conns.size(); ++j) {
    const auto& c = w.conns[j];
    na_conn_slot& s = m.conns[j];
    s.key = to_key(c.id);
    s.val = {};
    s.val.tx_bytes = c.tx;
    s.val.rx_bytes = c.rx;
    s.val.netns = c.info.netns;
    s.val.family = c.info.family;
    s.val.proto = c.info.proto;
    s.val.lport = c.info.local.port;
    s.val.rport = c.info.remote.port;
    std::memcpy(s.val.laddr, c.info.local.addr.data(), 16);
    std::memcpy(s.val.raddr, c.info.remote.addr.data(), 16);
    __atomic_store_n(&s.id, ++id, __ATOMIC_RELEASE);
  }
}

// Key -> slot in the hash maps, and the kernel's created counts in stats
// (what the reader's eviction check looks at: well under its watermark).
bool fill_hashes(Maps& m, const Window& w) {
  std::vector<na_proc_key> pk;
  std::vector<na_conn_key> ck;
  std::vector<__u32> ps, cs;
  for (size_t i = 0; i < w.procs.size(); ++i) {
    pk.push_back(m.procs[i].key);
    ps.push_back(__u32(i));
  }
  for (size_t j = 0; j < w.conns.size(); ++j) {
    ck.push_back(m.conns[j].key);
    cs.push_back(__u32(j));
  }
  if (!fill(m.fds.procs, pk, ps) || !fill(m.fds.conns, ck, cs)) return false;
  int ncpu = libbpf_num_possible_cpus();
  std::vector<na_stats> per_cpu(ncpu > 0 ? ncpu : 1);
  per_cpu[0].conn_created = w.conns.size();
  per_cpu[0].proc_created = w.procs.size();
  __u32 zero = 0;
  return bpf_map_update_elem(m.fds.stats, &zero, per_cpu.data(), BPF_ANY) == 0;
}

std::unique_ptr<Maps> make_maps(size_t conns) {
  auto m = std::make_unique<Maps>();
  m->shape = load_shape(conns);
  create_maps(*m);
  if (!m->error.empty()) return m;
  Window w = window(m->shape);
  fill_slots(*m, w);
  if (!fill_hashes(*m, w)) m->error = std::string("filling the maps: ") + std::strerror(errno);
  return m;
}

Maps* maps_for(size_t conns) {
  static std::map<size_t, std::unique_ptr<Maps>> cache;  // made once per size
  auto& m = cache[conns];
  if (!m) m = make_maps(conns);
  return m.get();
}

// A fixed pseudo-random `percent` of the N connection slots, in slot order.
std::vector<uint32_t> choose(size_t conns, size_t percent) {
  std::vector<uint32_t> all(conns);
  for (size_t j = 0; j < conns; ++j) all[j] = uint32_t(j);
  std::mt19937_64 rng(42);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(conns * percent / 100);
  std::sort(all.begin(), all.end());
  return all;
}

// The kernel's side of one window: for each chosen connection, what
// account() does per event (add to the process's slot, set its bit; add to
// the connection's slot, set its bit), run by a thread on another CPU when
// there is one (`here`: by the benchmark thread itself, which finds the
// slots in its own cache: the read's cost without the cache misses).
class Marker {
 public:
  Marker(Maps& m, std::vector<uint32_t> chosen, bool here)
      : m_(m), chosen_(std::move(chosen)), here_(here) {
    if (here_) return;
    pin();
    worker_ = std::thread([this] { loop(); });
    if (other_cpu_ >= 0) set_affinity(worker_.native_handle(), other_cpu_);
  }
  ~Marker() {
    if (here_) return;
    request_.store(~0u);
    request_.notify_one();
    worker_.join();
    if (pinned_) sched_setaffinity(0, sizeof saved_, &saved_);
  }
  Marker(const Marker&) = delete;
  Marker& operator=(const Marker&) = delete;

  void mark() {
    if (here_) {
      for (uint32_t slot : chosen_) account(slot);
      return;
    }
    uint32_t r = request_.load() + 1;
    request_.store(r);
    request_.notify_one();
    for (uint32_t d = done_.load(); d != r; d = done_.load()) done_.wait(d);
  }
  bool other_cpu() const { return other_cpu_ >= 0; }

 private:
  Maps& m_;
  std::vector<uint32_t> chosen_;
  bool here_;
  std::thread worker_;
  std::atomic<uint32_t> request_{0}, done_{0};
  cpu_set_t saved_{};
  bool pinned_ = false;
  int other_cpu_ = -1;

  static void set_affinity(pthread_t t, int cpu) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    pthread_setaffinity_np(t, sizeof one, &one);
  }
  // The benchmark thread stays on its CPU; the marker gets another one.
  void pin() {
    int here = sched_getcpu();
    if (here < 0 || sched_getaffinity(0, sizeof saved_, &saved_) != 0) return;
    for (int c = 0; c < CPU_SETSIZE && other_cpu_ < 0; ++c)
      if (c != here && CPU_ISSET(c, &saved_)) other_cpu_ = c;
    if (other_cpu_ < 0) return;
    set_affinity(pthread_self(), here);
    pinned_ = true;
  }
  void loop() {
    for (uint32_t seen = 0;;) {
      request_.wait(seen);
      uint32_t r = request_.load();
      if (r == ~0u) return;
      if (r == seen) continue;
      seen = r;
      for (uint32_t slot : chosen_) account(slot);
      done_.store(r);
      done_.notify_one();
    }
  }
  static void touch(uint64_t* words, uint32_t idx) {
    uint64_t bit = 1ull << (idx & 63);
    uint64_t* word = &words[idx / 64];
    if (!(__atomic_load_n(word, __ATOMIC_RELAXED) & bit))
      __atomic_fetch_or(word, bit, __ATOMIC_SEQ_CST);
  }
  void account(uint32_t j) {
    uint32_t p = uint32_t(j % m_.shape.procs);
    uint64_t tx = 1000 + (j * 37) % 50000;
    __atomic_fetch_add(&m_.procs[p].val.tx_bytes, tx, __ATOMIC_SEQ_CST);
    touch(m_.touched + NA_CONN_WORDS, p);
    __atomic_fetch_add(&m_.conns[j].val.tx_bytes, tx, __ATOMIC_SEQ_CST);
    touch(m_.touched, j);
  }
};

// The first read returns exactly the chosen connections and their
// processes, with the counters the slots hold.
std::string check(const Snapshot& s, const Maps& m, const std::vector<uint32_t>& chosen) {
  std::unordered_map<uint64_t, uint32_t> want;   // cookie -> slot
  std::unordered_map<uint32_t, uint32_t> procs;  // tgid -> slot
  for (uint32_t j : chosen) {
    want[m.conns[j].key.cookie] = j;
    uint32_t p = uint32_t(j % m.shape.procs);
    procs[m.procs[p].key.tgid] = p;
  }
  if (s.conns.size() != want.size() || s.procs.size() != procs.size())
    return "read " + std::to_string(s.conns.size()) + " connections and " +
           std::to_string(s.procs.size()) + " processes, " + std::to_string(want.size()) + " and " +
           std::to_string(procs.size()) + " touched";
  for (const auto& c : s.conns) {
    auto it = want.find(c.id.cookie);
    if (it == want.end() || c.tx != m.conns[it->second].val.tx_bytes)
      return "read a connection not touched (or twice), or wrong counters";
    want.erase(it);
  }
  for (const auto& p : s.procs) {
    auto it = procs.find(p.id.tgid);
    if (it == procs.end() || p.bytes.tx != m.procs[it->second].val.tx_bytes)
      return "read a process not touched, or wrong counters";
  }
  return "";
}

// A reader that starts from a drained feed (earlier benchmarks' reads
// drained it; this makes sure).
std::unique_ptr<MapReader> open_reader(Maps& m, std::string* error) {
  for (uint32_t w = 0; w < NA_TOUCHED_WORDS; ++w)
    __atomic_store_n(&m.touched[w], 0, __ATOMIC_SEQ_CST);
  return MapReader::open(m.fds, error);
}

void map_read(benchmark::State& st, size_t conns, size_t percent, bool warm) {
  Maps* m = maps_for(conns);
  std::string error = m->error;
  auto reader = error.empty() ? open_reader(*m, &error) : nullptr;
  if (!reader) {
    st.SkipWithError(error.c_str());
    return;
  }
  auto chosen = choose(conns, percent);
  Marker marker(*m, chosen, warm);
  marker.mark();
  if (std::string e = check(reader->read(), *m, chosen); !e.empty()) {
    st.SkipWithError(e.c_str());
    return;
  }
  size_t expected = chosen.size();
  for (auto _ : st) {
    st.PauseTiming();
    marker.mark();
    st.ResumeTiming();
    Snapshot s = reader->read();
    if (s.conns.size() != expected) {
      st.SkipWithError("a read did not return the touched connections");
      break;
    }
    benchmark::DoNotOptimize(s.conns.data());
  }
  st.counters["entries"] = double(conns);
  st.counters["touched"] = double(expected);
  st.counters["other_cpu"] = marker.other_cpu();
}

// The old design, for comparison: an LRU hash of N connection entries (as
// the conns map was), read with batch lookups into ready buffers: the
// kernel's share of every old refresh (the rest was converting them).
struct OldMap {
  int fd = -1;
  std::string error;
  ~OldMap() {
    if (fd >= 0) close(fd);
  }
};

std::unique_ptr<OldMap> make_old(size_t conns) {
  auto m = std::make_unique<OldMap>();
  // LRU maps hand out free nodes per CPU in batches: headroom so that no
  // entry is evicted while filling.
  uint32_t max = std::max<uint32_t>(65536, uint32_t(conns + conns / 2));
  m->fd = create(BPF_MAP_TYPE_LRU_HASH, "old_conns", sizeof(na_conn_key), sizeof(na_conn_val), max,
                 0, m->error);
  if (!m->error.empty()) return m;
  Window w = window(load_shape(conns));
  std::vector<na_conn_key> keys;
  std::vector<na_conn_val> vals(w.conns.size());
  for (size_t j = 0; j < w.conns.size(); ++j) {
    keys.push_back(to_key(w.conns[j].id));
    vals[j].tx_bytes = w.conns[j].tx;
    vals[j].rx_bytes = w.conns[j].rx;
  }
  if (!fill(m->fd, keys, vals)) m->error = std::string("filling the map: ") + std::strerror(errno);
  return m;
}

void old_lookup_batch(benchmark::State& st, size_t conns) {
  static std::map<size_t, std::unique_ptr<OldMap>> cache;
  auto& m = cache[conns];
  if (!m) m = make_old(conns);
  if (!m->error.empty()) {
    st.SkipWithError(m->error.c_str());
    return;
  }
  constexpr uint32_t chunk = 4096;  // as the old dump_map
  std::vector<na_conn_key> keys(conns + chunk);
  std::vector<na_conn_val> vals(conns + chunk);
  for (auto _ : st) {
    size_t at = 0;
    uint64_t token = 0;
    for (bool first = true;; first = false) {
      uint32_t n = chunk;
      int err = bpf_map_lookup_batch(m->fd, first ? nullptr : &token, &token, &keys[at], &vals[at],
                                     &n, nullptr);
      at += n;
      if (err) break;  // ENOENT: end of map
    }
    if (at != conns) {
      st.SkipWithError("batch lookup did not return every entry (evicted while filling?)");
      return;
    }
    benchmark::DoNotOptimize(keys.data());
  }
  st.counters["entries"] = double(conns);
}

}  // namespace

// Bytes of the slots of N connections and their processes: what a read of
// all of them copies (the memcpy baseline).
size_t map_bytes(size_t conns) {
  Shape s = load_shape(conns);
  return s.conns * sizeof(na_conn_slot) + s.procs * sizeof(na_proc_slot);
}

void register_map_benchmarks() {
  for (size_t n : {size_t(1000), size_t(10000), size_t(100000)}) {
    std::string conns = "/conns:" + std::to_string(n);
    for (size_t pct : {size_t(0), size_t(1), size_t(100)})
      common(benchmark::RegisterBenchmark(
          ("kernel/map_read" + conns + "/active:" + std::to_string(pct)).c_str(), map_read, n, pct,
          false));
    if (n == 100000)
      for (size_t pct : {size_t(1), size_t(100)})
        common(benchmark::RegisterBenchmark(
            ("kernel/map_read_warm" + conns + "/active:" + std::to_string(pct)).c_str(), map_read,
            n, pct, true));
    common(benchmark::RegisterBenchmark(("kernel/old_lookup_batch" + conns).c_str(),
                                        old_lookup_batch, n));
  }
}

}  // namespace netacct::bench
