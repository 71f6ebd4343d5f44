#include "model/report.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <map>

using namespace netacct;

namespace {

class FakeResolver : public Resolver {
 public:
  std::set<ProcId> dead;
  std::map<uint32_t, std::string> exes, users;
  std::map<uint64_t, std::string> cgroups;
  std::vector<uint32_t> exe_asked;

  bool alive(const ProcId& id) override { return !dead.count(id); }
  std::optional<std::string> exe(uint32_t pid) override {
    exe_asked.push_back(pid);
    return find(exes, pid);
  }
  std::optional<std::string> user(uint32_t uid) override { return find(users, uid); }
  std::optional<std::string> cgroup(uint64_t id) override { return find(cgroups, id); }

 private:
  template <typename K>
  static std::optional<std::string> find(const std::map<K, std::string>& m, K k) {
    auto it = m.find(k);
    return it == m.end() ? std::nullopt : std::optional(it->second);
  }
};

ProcDelta proc(uint32_t pid, ByteCounters bytes, std::string comm = "app", uint32_t uid = 1000,
               uint64_t cgroup_id = 0) {
  return {{pid, pid * 10ull}, {std::move(comm), uid, cgroup_id}, bytes};
}

ConnDelta conn(uint32_t pid, uint64_t tx, uint64_t rx, bool loopback = false) {
  ConnDelta c;
  c.id = {pid * 100ull, {pid, pid * 10ull}};
  c.info.family = AF_INET;
  c.info.proto = IPPROTO_TCP;
  c.info.local.addr = {10, 0, 0, 1};
  c.info.local.port = 40000;
  c.info.remote.addr = {10, 0, 0, 2};
  c.info.remote.port = 443;
  c.info.netns = 4026531840u;
  c.info.loopback = loopback;
  c.tx = tx;
  c.rx = rx;
  return c;
}

Window window(std::vector<ProcDelta> procs, std::vector<ConnDelta> conns = {}) {
  Window w;
  w.start_mono = 1'000'000'000;
  w.end_mono = 5'000'000'000;  // 4 s
  w.start_wall = 1'700'000'000'000'000'000;
  w.end_wall = 1'700'000'004'000'000'000;
  w.procs = std::move(procs);
  w.conns = std::move(conns);
  return w;
}

std::vector<uint32_t> pids(const Report& r) {
  std::vector<uint32_t> out;
  for (const auto& p : r.processes) out.push_back(p.pid);
  return out;
}

}  // namespace

TEST(Report, CarriesWindowHostAndBackend) {
  FakeResolver res;
  Window w = window({});
  w.conns_evicted = 3;
  w.insert_failed = 2;
  Report r = assemble(w, {}, res, "host1", "fentry");
  EXPECT_EQ(r.start_wall, w.start_wall);
  EXPECT_EQ(r.end_wall, w.end_wall);
  EXPECT_DOUBLE_EQ(r.interval_s, 4.0);
  EXPECT_EQ(r.host, "host1");
  EXPECT_EQ(r.backend, "fentry");
  EXPECT_EQ(r.loss.conns_evicted, 3u);
  EXPECT_EQ(r.loss.insert_failed, 2u);
}

TEST(Report, LoopbackExcludedByDefault) {
  FakeResolver res;
  Window w =
      window({proc(1, {100, 200, 1000, 2000})}, {conn(1, 1000, 2000, true), conn(1, 40, 80)});
  Report r = assemble(w, {}, res, "h", "b");
  ASSERT_EQ(r.processes.size(), 1u);
  EXPECT_EQ(r.processes[0].tx_bytes, 100u);
  EXPECT_EQ(r.processes[0].rx_bytes, 200u);
  EXPECT_EQ(r.tx_bytes, 100u);
  EXPECT_EQ(r.rx_bytes, 200u);
  ASSERT_EQ(r.connections.size(), 1u);
  EXPECT_EQ(r.connections[0].tx_bytes, 40u);
}

TEST(Report, LoopbackIncludedWithFilter) {
  FakeResolver res;
  Window w =
      window({proc(1, {100, 200, 1000, 2000})}, {conn(1, 1000, 2000, true), conn(1, 40, 80)});
  ReportFilter f;
  f.loopback = true;
  Report r = assemble(w, f, res, "h", "b");
  ASSERT_EQ(r.processes.size(), 1u);
  EXPECT_EQ(r.processes[0].tx_bytes, 1100u);
  EXPECT_EQ(r.processes[0].rx_bytes, 2200u);
  EXPECT_EQ(r.tx_bytes, 1100u);
  EXPECT_EQ(r.rx_bytes, 2200u);
  ASSERT_EQ(r.connections.size(), 2u);
  EXPECT_EQ(r.connections[0].tx_bytes, 1000u);
  EXPECT_EQ(r.connections[1].tx_bytes, 40u);
}

TEST(Report, ProcessWithOnlyLoopbackBytesIsDroppedByDefault) {
  FakeResolver res;
  Report r = assemble(window({proc(1, {0, 0, 10, 10})}), {}, res, "h", "b");
  EXPECT_TRUE(r.processes.empty());
  EXPECT_EQ(r.tx_bytes, 0u);
}

TEST(Report, PidFilter) {
  FakeResolver res;
  Window w = window({proc(1, {10, 0, 0, 0}), proc(2, {20, 0, 0, 0}), proc(3, {30, 0, 0, 0})},
                    {conn(1, 10, 0), conn(2, 20, 0), conn(3, 30, 0)});
  ReportFilter f;
  f.pids = {1, 3};
  Report r = assemble(w, f, res, "h", "b");
  EXPECT_EQ(pids(r), (std::vector<uint32_t>{3, 1}));
  ASSERT_EQ(r.connections.size(), 2u);
  EXPECT_EQ(r.connections[0].pid, 3u);
  EXPECT_EQ(r.connections[1].pid, 1u);
  EXPECT_EQ(r.tx_bytes, 40u);
}

TEST(Report, SortedByTotalDescendingThenPid) {
  FakeResolver res;
  Window w = window({proc(5, {10, 10, 0, 0}), proc(3, {0, 50, 0, 0}), proc(4, {15, 5, 0, 0}),
                     proc(2, {1, 0, 0, 0})},
                    {conn(5, 1, 1), conn(3, 5, 0), conn(4, 1, 1)});
  Report r = assemble(w, {}, res, "h", "b");
  EXPECT_EQ(pids(r), (std::vector<uint32_t>{3, 4, 5, 2}));
  ASSERT_EQ(r.connections.size(), 3u);
  EXPECT_EQ(r.connections[0].pid, 3u);
  EXPECT_EQ(r.connections[1].pid, 4u);
  EXPECT_EQ(r.connections[2].pid, 5u);
}

TEST(Report, RatesAreBytesPerSecond) {
  FakeResolver res;
  Report r = assemble(window({proc(1, {400, 1000, 0, 0})}, {conn(1, 100, 2)}), {}, res, "h", "b");
  ASSERT_EQ(r.processes.size(), 1u);
  EXPECT_DOUBLE_EQ(r.processes[0].tx_rate, 100.0);
  EXPECT_DOUBLE_EQ(r.processes[0].rx_rate, 250.0);
  ASSERT_EQ(r.connections.size(), 1u);
  EXPECT_DOUBLE_EQ(r.connections[0].tx_rate, 25.0);
  EXPECT_DOUBLE_EQ(r.connections[0].rx_rate, 0.5);
}

TEST(Report, ZeroLengthWindowHasZeroRates) {
  FakeResolver res;
  Window w = window({proc(1, {400, 0, 0, 0})});
  w.end_mono = w.start_mono;
  Report r = assemble(w, {}, res, "h", "b");
  ASSERT_EQ(r.processes.size(), 1u);
  EXPECT_EQ(r.processes[0].tx_rate, 0.0);
}

TEST(Report, ExitedProcessHasNoExe) {
  FakeResolver res;
  res.exes = {{1, "/usr/bin/curl"}, {2, "/usr/bin/wget"}};
  res.dead = {{2, 20}};
  Report r = assemble(window({proc(1, {20, 0, 0, 0}), proc(2, {10, 0, 0, 0})}), {}, res, "h", "b");
  ASSERT_EQ(r.processes.size(), 2u);
  EXPECT_FALSE(r.processes[0].exited);
  EXPECT_EQ(r.processes[0].exe, "/usr/bin/curl");
  EXPECT_TRUE(r.processes[1].exited);
  EXPECT_EQ(r.processes[1].exe, std::nullopt);
  // A reused PID's exe belongs to another program: it must not be asked for.
  EXPECT_EQ(res.exe_asked, (std::vector<uint32_t>{1}));
}

TEST(Report, IdentityFromResolverAndWindow) {
  FakeResolver res;
  res.users = {{0, "root"}};
  res.cgroups = {{11, "/system.slice/nginx.service"},
                 {12, "/user.slice/user-1000.slice/session-2.scope"}};
  Window w =
      window({proc(1, {30, 0, 0, 0}, "nginx", 0, 11), proc(2, {20, 0, 0, 0}, "bash", 1000, 12),
              proc(3, {10, 0, 0, 0}, "x", 1001, 99)});
  Report r = assemble(w, {}, res, "h", "b");
  ASSERT_EQ(r.processes.size(), 3u);
  const auto& nginx = r.processes[0];
  EXPECT_EQ(nginx.comm, "nginx");
  EXPECT_EQ(nginx.uid, 0u);
  EXPECT_EQ(nginx.user, "root");
  EXPECT_EQ(nginx.cgroup, "/system.slice/nginx.service");
  EXPECT_EQ(nginx.container, "nginx.service");
  EXPECT_EQ(r.processes[1].user, std::nullopt);
  EXPECT_EQ(r.processes[1].cgroup, "/user.slice/user-1000.slice/session-2.scope");
  EXPECT_EQ(r.processes[1].container, std::nullopt);
  EXPECT_EQ(r.processes[2].cgroup, std::nullopt);
  EXPECT_EQ(r.processes[2].container, std::nullopt);
}

TEST(Report, ConnectionRowText) {
  FakeResolver res;
  ConnDelta c6 = conn(1, 7, 9);
  c6.info.family = AF_INET6;
  c6.info.proto = IPPROTO_UDP;
  c6.info.local.addr = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  c6.info.remote.addr = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
  c6.info.remote.port = 53;
  Report r = assemble(window({proc(1, {100, 100, 0, 0}, "curl")}, {conn(1, 50, 50), c6}), {}, res,
                      "h", "b");
  ASSERT_EQ(r.connections.size(), 2u);
  const auto& v4 = r.connections[0];
  EXPECT_EQ(v4.pid, 1u);
  EXPECT_EQ(v4.comm, "curl");
  EXPECT_EQ(v4.proto, "tcp");
  EXPECT_EQ(v4.family, "ipv4");
  EXPECT_EQ(v4.local, "10.0.0.1:40000");
  EXPECT_EQ(v4.remote, "10.0.0.2:443");
  EXPECT_EQ(v4.netns, 4026531840u);
  const auto& v6 = r.connections[1];
  EXPECT_EQ(v6.proto, "udp");
  EXPECT_EQ(v6.family, "ipv6");
  EXPECT_EQ(v6.local, "[fd00::1]:40000");
  EXPECT_EQ(v6.remote, "[fd00::2]:53");
}

TEST(Report, UnattributedIsProcessBytesNotInItsConnectionRows) {
  FakeResolver res;
  // pid 1: 100/200 with rows 30/50 + 20/10 -> 50/140 unattributed.
  // pid 2: 10/10 fully covered. pid 3: no rows -> 7/3.
  Window w = window({proc(1, {100, 200, 0, 0}), proc(2, {10, 10, 0, 0}), proc(3, {7, 3, 0, 0})},
                    {conn(1, 30, 50), conn(1, 20, 10), conn(2, 10, 10)});
  Report r = assemble(w, {}, res, "h", "b");
  EXPECT_EQ(r.loss.unattributed_tx, 57u);
  EXPECT_EQ(r.loss.unattributed_rx, 143u);
}

TEST(Report, UnattributedIgnoresExcludedLoopback) {
  FakeResolver res;
  Window w = window({proc(1, {100, 100, 500, 500})}, {conn(1, 500, 500, true), conn(1, 100, 60)});
  Report r = assemble(w, {}, res, "h", "b");
  EXPECT_EQ(r.loss.unattributed_tx, 0u);
  EXPECT_EQ(r.loss.unattributed_rx, 40u);

  ReportFilter f;
  f.loopback = true;
  r = assemble(w, f, res, "h", "b");
  EXPECT_EQ(r.loss.unattributed_tx, 0u);
  EXPECT_EQ(r.loss.unattributed_rx, 40u);
}
