// Synthetic load for the benchmarks: N live connections spread over N/20
// processes and N/5 remote hosts (10,000 -> 500 processes, 2,000 remotes),
// every one of them moving bytes in every refresh (the worst case: nothing
// is idle, so every row is updated, sorted and considered for the screen).
#pragma once
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

#include "model/accountant.hpp"
#include "model/attribution.hpp"

namespace netacct::bench {

struct Shape {
  size_t conns, procs, remotes;
  static Shape of(size_t conns) {
    return {conns, conns / 20 ? conns / 20 : 1, conns / 5 ? conns / 5 : 1};
  }
};

inline ProcId proc_id(size_t i) { return {uint32_t(100000 + i), 1000000000ull + i * 7919}; }

inline ConnInfo conn_info(size_t j, const Shape& s) {
  ConnInfo c;
  size_t r = j % s.remotes;
  c.proto = j % 10 == 0 ? 17 : 6;  // 10 % UDP
  if (r % 4 == 0) {                // a quarter of the remotes are IPv6
    c.family = AF_INET6;
    c.local.addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    c.remote.addr = {0x20,      0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, uint8_t(r >> 8),
                     uint8_t(r)};
  } else {
    c.family = AF_INET;
    c.local.addr = {10, 0, 0, 1};
    c.remote.addr = {198, uint8_t(18 + (r >> 16)), uint8_t(r >> 8), uint8_t(r)};
  }
  c.local.port = uint16_t(32768 + j % 28000);
  c.remote.port = j % 3 == 0 ? 443 : j % 3 == 1 ? 5432 : 8080;
  c.netns = 4026531840u;
  return c;
}

inline ProcInfo proc_info(size_t i) {
  return {.comm = "worker-" + std::to_string(i),
          .uid = uint32_t(1000 + i % 10),
          .cgroup_id = 1234 + i % 7};
}

// One refresh's window: every connection and process moved bytes.
inline Window window(const Shape& s) {
  Window w;
  w.procs.reserve(s.procs);
  w.conns.reserve(s.conns);
  std::vector<ByteCounters> per_proc(s.procs);
  for (size_t j = 0; j < s.conns; ++j) {
    size_t p = j % s.procs;
    uint64_t tx = 1000 + (j * 37) % 50000, rx = 500 + (j * 91) % 200000;
    w.conns.push_back(
        {.id = {.cookie = j + 1, .proc = proc_id(p)}, .info = conn_info(j, s), .tx = tx, .rx = rx});
    per_proc[p].tx += tx;
    per_proc[p].rx += rx;
  }
  for (size_t i = 0; i < s.procs; ++i)
    w.procs.push_back({.id = proc_id(i), .info = proc_info(i), .bytes = per_proc[i]});
  return w;
}

// The same load as absolute kernel counters (what MapReader returns),
// `generation` times over.
inline Snapshot snapshot(const Shape& s, uint64_t generation) {
  Window w = window(s);
  Snapshot snap;
  for (const auto& p : w.procs) {
    ByteCounters b = p.bytes;
    b.tx *= generation;
    b.rx *= generation;
    snap.procs.push_back({.id = p.id, .info = p.info, .bytes = b});
  }
  for (const auto& c : w.conns)
    snap.conns.push_back(
        {.id = c.id, .info = c.info, .tx = c.tx * generation, .rx = c.rx * generation});
  return snap;
}

// Attribution without the system: users named, no executables or cgroups.
class FakeResolver : public Resolver {
 public:
  std::optional<std::string> exe(uint32_t) override { return std::nullopt; }
  std::optional<std::string> user(uint32_t uid) override { return "user" + std::to_string(uid); }
  CgroupName cgroup(uint64_t) override { return {}; }
};

}  // namespace netacct::bench
