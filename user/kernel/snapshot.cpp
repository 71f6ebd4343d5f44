#include "kernel/snapshot.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace netacct {
namespace {

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
  }
  return s;
}

// Lookup-and-delete where the kernel has it for hash maps (Linux >= 5.14).
template <typename K>
bool take(int fd, const K& key, uint32_t* slot) {
  if (bpf_map_lookup_and_delete_elem(fd, &key, slot) == 0) return true;
  if (errno != EINVAL && errno != ENOTSUP && errno != EOPNOTSUPP) return false;
  return bpf_map_lookup_elem(fd, &key, slot) == 0 && bpf_map_delete_elem(fd, &key) == 0;
}

}  // namespace

class MapReader::Ops : public SlotOps {
 public:
  explicit Ops(const KernelMaps& m) : m_(m) {}
  bool take_conn(const na_conn_key& key, uint32_t* slot) override {
    return take(m_.conns, key, slot);
  }
  bool take_proc(const na_proc_key& key, uint32_t* slot) override {
    return take(m_.procs, key, slot);
  }
  // The queues hold as many slots as the arrays: a push cannot fail.
  void free_conn(uint32_t slot) override { bpf_map_update_elem(m_.free_conns, nullptr, &slot, 0); }
  void free_proc(uint32_t slot) override { bpf_map_update_elem(m_.free_procs, nullptr, &slot, 0); }
  KernelStats stats() override { return read_stats(m_.stats); }

 private:
  KernelMaps m_;
};

namespace {

// An mmapable array's memory: its elements, each rounded up to 8 bytes.
void* map_array(int fd, size_t len, std::string* error) {
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p != MAP_FAILED) return p;
  *error = std::string("cannot map the kernel's counters: ") + strerror(errno);
  return nullptr;
}

}  // namespace

std::unique_ptr<MapReader> MapReader::open(const KernelMaps& maps, std::string* error) {
  Mapping c{.len = sizeof(na_conn_slot) * NA_MAX_CONNS};
  Mapping p{.len = sizeof(na_proc_slot) * NA_MAX_PROCS};
  Mapping t{.len = sizeof(uint64_t) * NA_TOUCHED_WORDS};
  c.addr = map_array(maps.conn_slots, c.len, error);
  if (c.addr) p.addr = map_array(maps.proc_slots, p.len, error);
  if (p.addr) t.addr = map_array(maps.touched, t.len, error);
  if (!t.addr) {
    for (auto* m : {&c, &p})
      if (m->addr) munmap(m->addr, m->len);
    return nullptr;
  }
  return std::unique_ptr<MapReader>(new MapReader(maps, c, p, t));
}

MapReader::MapReader(const KernelMaps& maps, Mapping conns, Mapping procs, Mapping touched)
    : conns_(conns),
      procs_(procs),
      touched_(touched),
      ops_(std::make_unique<Ops>(maps)),
      reader_({.conns = static_cast<na_conn_slot*>(conns.addr),
               .procs = static_cast<na_proc_slot*>(procs.addr),
               .touched = static_cast<uint64_t*>(touched.addr)},
              *ops_) {}

MapReader::~MapReader() {
  for (auto* m : {&conns_, &procs_, &touched_}) munmap(m->addr, m->len);
}

}  // namespace netacct
