// Attribution and report assembly: a window of deltas in, every
// grouping's rows out, with the selection applied once.
#include "model/report.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <map>
#include <memory>
#include <sstream>

#include "output/report.hpp"

using namespace netacct;

namespace {

class FakeResolver : public Resolver {
 public:
  std::map<uint32_t, std::string> exes, users;
  std::map<uint64_t, CgroupName> cgroups;
  std::vector<uint32_t> exe_asked;
  int user_asked = 0, cgroup_asked = 0;

  std::optional<std::string> exe(uint32_t pid) override {
    exe_asked.push_back(pid);
    return find(exes, pid);
  }
  std::optional<std::string> user(uint32_t uid) override {
    ++user_asked;
    return find(users, uid);
  }
  CgroupName cgroup(uint64_t id) override {
    ++cgroup_asked;
    auto it = cgroups.find(id);
    return it == cgroups.end() ? CgroupName{} : it->second;
  }

 private:
  template <typename K>
  static std::optional<std::string> find(const std::map<K, std::string>& m, K k) {
    auto it = m.find(k);
    return it == m.end() ? std::nullopt : std::optional(it->second);
  }
};

ProcDelta proc(uint32_t pid, ByteCounters bytes, std::string comm = "app", uint32_t uid = 1000,
               uint64_t cgroup_id = 0) {
  return {.id = {pid, pid * 10ull},
          .info = {.comm = std::move(comm), .uid = uid, .cgroup_id = cgroup_id},
          .bytes = bytes};
}

ConnDelta conn(uint32_t pid, uint64_t tx, uint64_t rx, bool loopback = false,
               uint8_t remote_last = 2, uint64_t cookie = 0) {
  ConnDelta c;
  c.id = {cookie ? cookie : pid * 100ull + remote_last, {pid, pid * 10ull}};
  c.info.family = AF_INET;
  c.info.proto = IPPROTO_TCP;
  c.info.local.addr = {10, 0, 0, 1};
  c.info.local.port = 40000;
  c.info.remote.addr = {10, 0, 0, remote_last};
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

Report assemble(const Window& w, Selection sel, Resolver& res, const std::string& host = "h",
                const std::string& backend = "b") {
  Attributor attributor(std::move(sel), res);
  return assemble(attributor.attribute(w), host, backend);
}

Selection loopback() { return {.loopback = true}; }

const std::vector<GroupRow>& procs(const Report& r) { return r.rows(GroupKind::process); }
const std::vector<GroupRow>& conns(const Report& r) { return r.rows(GroupKind::connection); }
const std::vector<GroupRow>& remotes(const Report& r) { return r.rows(GroupKind::remote); }

std::vector<uint32_t> pids(const std::vector<GroupRow>& rows) {
  std::vector<uint32_t> out;
  for (const auto& p : rows) out.push_back(p.key.proc.tgid);
  return out;
}
std::vector<uint32_t> pids(const Report& r) { return pids(procs(r)); }

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
      window({proc(1, {100, 200, 1000, 2000})}, {conn(1, 1000, 2000, true, 9), conn(1, 40, 80)});
  Report r = assemble(w, {}, res);
  ASSERT_EQ(procs(r).size(), 1u);
  EXPECT_EQ(procs(r)[0].tx, 100u);
  EXPECT_EQ(procs(r)[0].rx, 200u);
  EXPECT_EQ(r.tx_bytes, 100u);
  EXPECT_EQ(r.rx_bytes, 200u);
  ASSERT_EQ(conns(r).size(), 1u);
  EXPECT_EQ(conns(r)[0].tx, 40u);
}

TEST(Report, LoopbackIncludedWithFilter) {
  FakeResolver res;
  Window w =
      window({proc(1, {100, 200, 1000, 2000})}, {conn(1, 1000, 2000, true, 9), conn(1, 40, 80)});
  Report r = assemble(w, loopback(), res);
  ASSERT_EQ(procs(r).size(), 1u);
  EXPECT_EQ(procs(r)[0].tx, 1100u);
  EXPECT_EQ(procs(r)[0].rx, 2200u);
  EXPECT_EQ(r.tx_bytes, 1100u);
  EXPECT_EQ(r.rx_bytes, 2200u);
  ASSERT_EQ(conns(r).size(), 2u);
  EXPECT_EQ(conns(r)[0].tx, 1000u);
  EXPECT_EQ(conns(r)[1].tx, 40u);
}

TEST(Report, ProcessWithOnlyLoopbackBytesIsDroppedByDefault) {
  FakeResolver res;
  Report r = assemble(window({proc(1, {0, 0, 10, 10})}), {}, res);
  EXPECT_TRUE(procs(r).empty());
  EXPECT_EQ(r.tx_bytes, 0u);
}

TEST(Report, PidFilter) {
  FakeResolver res;
  Window w = window({proc(1, {10, 0, 0, 0}), proc(2, {20, 0, 0, 0}), proc(3, {30, 0, 0, 0})},
                    {conn(1, 10, 0), conn(2, 20, 0), conn(3, 30, 0)});
  Report r = assemble(w, {.pids = {1, 3}}, res);
  EXPECT_EQ(pids(r), (std::vector<uint32_t>{3, 1}));
  ASSERT_EQ(conns(r).size(), 2u);
  EXPECT_EQ(conns(r)[0].key.proc.tgid, 3u);
  EXPECT_EQ(conns(r)[1].key.proc.tgid, 1u);
  EXPECT_EQ(r.tx_bytes, 40u);
}

TEST(Report, SortedByTotalDescendingThenPid) {
  FakeResolver res;
  Window w = window({proc(5, {10, 10, 0, 0}), proc(3, {0, 50, 0, 0}), proc(4, {15, 5, 0, 0}),
                     proc(2, {1, 0, 0, 0})},
                    {conn(5, 1, 1), conn(3, 5, 0), conn(4, 1, 1)});
  Report r = assemble(w, {}, res);
  EXPECT_EQ(pids(r), (std::vector<uint32_t>{3, 4, 5, 2}));
  ASSERT_EQ(conns(r).size(), 3u);
  EXPECT_EQ(conns(r)[0].key.proc.tgid, 3u);
  EXPECT_EQ(conns(r)[1].key.proc.tgid, 4u);
  EXPECT_EQ(conns(r)[2].key.proc.tgid, 5u);
}

TEST(Report, RatesAreBytesPerSecond) {
  FakeResolver res;
  Report r = assemble(window({proc(1, {400, 1000, 0, 0})}, {conn(1, 100, 2)}), {}, res);
  ASSERT_EQ(procs(r).size(), 1u);
  EXPECT_DOUBLE_EQ(procs(r)[0].tx_rate, 100.0);
  EXPECT_DOUBLE_EQ(procs(r)[0].rx_rate, 250.0);
  ASSERT_EQ(conns(r).size(), 1u);
  EXPECT_DOUBLE_EQ(conns(r)[0].tx_rate, 25.0);
  EXPECT_DOUBLE_EQ(conns(r)[0].rx_rate, 0.5);
}

TEST(Report, ZeroLengthWindowHasZeroRates) {
  FakeResolver res;
  Window w = window({proc(1, {400, 0, 0, 0})});
  w.end_mono = w.start_mono;
  Report r = assemble(w, {}, res);
  ASSERT_EQ(procs(r).size(), 1u);
  EXPECT_EQ(procs(r)[0].tx_rate, 0.0);
}

TEST(Report, ExitedComesFromThePollersListAndHasNoExe) {
  FakeResolver res;
  res.exes = {{1, "/usr/bin/curl"}, {2, "/usr/bin/wget"}};
  Window w = window({proc(1, {20, 0, 0, 0}), proc(2, {10, 0, 0, 0})});
  w.exited = {{2, 20}};
  Report r = assemble(w, {}, res);
  ASSERT_EQ(procs(r).size(), 2u);
  EXPECT_FALSE(procs(r)[0].who.exited);
  EXPECT_EQ(procs(r)[0].who.exe, "/usr/bin/curl");
  EXPECT_TRUE(procs(r)[1].who.exited);
  EXPECT_EQ(procs(r)[1].who.exe, std::nullopt);
  // A reused PID's exe belongs to another program: it must not be asked for.
  EXPECT_EQ(res.exe_asked, (std::vector<uint32_t>{1}));
}

TEST(Report, IdentityFromResolverAndWindow) {
  FakeResolver res;
  res.users = {{0, "root"}};
  res.cgroups = {{11, {"/system.slice/nginx.service", "nginx.service"}},
                 {12, {"/user.slice/user-1000.slice/session-2.scope", std::nullopt}}};
  Window w =
      window({proc(1, {30, 0, 0, 0}, "nginx", 0, 11), proc(2, {20, 0, 0, 0}, "bash", 1000, 12),
              proc(3, {10, 0, 0, 0}, "x", 1001, 99)});
  Report r = assemble(w, {}, res);
  ASSERT_EQ(procs(r).size(), 3u);
  const Identity& nginx = procs(r)[0].who;
  EXPECT_EQ(nginx.comm, "nginx");
  EXPECT_EQ(nginx.uid, 0u);
  EXPECT_EQ(nginx.user, "root");
  EXPECT_EQ(nginx.cgroup, "/system.slice/nginx.service");
  EXPECT_EQ(nginx.container, "nginx.service");
  EXPECT_EQ(procs(r)[1].who.user, std::nullopt);
  EXPECT_EQ(procs(r)[1].who.cgroup, "/user.slice/user-1000.slice/session-2.scope");
  EXPECT_EQ(procs(r)[1].who.container, std::nullopt);
  EXPECT_EQ(procs(r)[2].who.cgroup, std::nullopt);
  EXPECT_EQ(procs(r)[2].who.container, std::nullopt);
}

TEST(Report, ConnectionRowsCarryTheirOwnerAndSocket) {
  FakeResolver res;
  ConnDelta c6 = conn(1, 7, 9);
  c6.id.cookie = 999;
  c6.info.family = AF_INET6;
  c6.info.proto = IPPROTO_UDP;
  Report r = assemble(window({proc(1, {100, 100, 0, 0}, "curl")}, {conn(1, 50, 50), c6}), {}, res);
  ASSERT_EQ(conns(r).size(), 2u);
  const GroupRow& v4 = conns(r)[0];
  EXPECT_EQ(v4.key.proc.tgid, 1u);
  EXPECT_EQ(v4.who.comm, "curl");
  EXPECT_EQ(v4.conn.proto, IPPROTO_TCP);
  EXPECT_EQ(v4.conn.family, AF_INET);
  EXPECT_EQ(v4.conn.netns, 4026531840u);
  EXPECT_EQ(conns(r)[1].conn.proto, IPPROTO_UDP);
  EXPECT_EQ(conns(r)[1].key.cookie, 999u);
}

// Two processes, two remote hosts: 10.0.0.2 gets three connections from
// both, 10.0.0.3 one from pid 1.
TEST(Report, RemotesSumEveryConnectionToAHost) {
  FakeResolver res;
  Window w = window({proc(1, {600, 60, 0, 0}), proc(2, {40, 4, 0, 0})},
                    {conn(1, 100, 10, false, 2, 11), conn(1, 200, 20, false, 2, 12),
                     conn(1, 300, 30, false, 3, 13), conn(2, 40, 4, false, 2, 21)});
  Report r = assemble(w, {}, res);
  ASSERT_EQ(remotes(r).size(), 2u);
  const GroupRow& a = remotes(r)[0];
  EXPECT_EQ(a.key.remote.addr[3], 2);
  EXPECT_EQ(a.key.remote.family, AF_INET);
  EXPECT_EQ(a.tx, 340u);
  EXPECT_EQ(a.rx, 34u);
  EXPECT_EQ(a.processes, 2u);
  EXPECT_EQ(a.connections, 3u);
  EXPECT_DOUBLE_EQ(a.tx_rate, 85.0);
  const GroupRow& b = remotes(r)[1];
  EXPECT_EQ(b.key.remote.addr[3], 3);
  EXPECT_EQ(b.tx, 300u);
  EXPECT_EQ(b.processes, 1u);
  EXPECT_EQ(b.connections, 1u);
}

TEST(Report, RemotesFollowTheSelection) {
  FakeResolver res;
  Window w =
      window({proc(1, {100, 0, 500, 0}), proc(2, {40, 0, 0, 0})},
             {conn(1, 100, 0, false, 2), conn(1, 500, 0, true, 9), conn(2, 40, 0, false, 3)});
  Report r = assemble(w, {.pids = {1}}, res);
  ASSERT_EQ(remotes(r).size(), 1u);
  EXPECT_EQ(remotes(r)[0].key.remote.addr[3], 2);
  r = assemble(w, {.pids = {1}, .loopback = true}, res);
  ASSERT_EQ(remotes(r).size(), 2u);
  EXPECT_EQ(remotes(r)[0].tx, 500u);
}

// Attribution resolves a process once, not once per window; an exec (a new
// name from the kernel) resolves it again.
TEST(Attribution, ResolvesEachProcessOnce) {
  FakeResolver res;
  res.exes = {{1, "/usr/bin/python3"}};
  Attributor attributor({}, res);
  for (int i = 0; i < 3; ++i) attributor.attribute(window({proc(1, {10, 0, 0, 0}, "python3")}));
  EXPECT_EQ(res.exe_asked.size(), 1u);
  EXPECT_EQ(res.user_asked, 1);
  res.exes = {{1, "/usr/bin/curl"}};
  Attributed a = attributor.attribute(window({proc(1, {10, 0, 0, 0}, "curl")}));
  EXPECT_EQ(res.exe_asked.size(), 2u);
  EXPECT_EQ(a.identity({1, 10}).exe, "/usr/bin/curl");
  EXPECT_EQ(a.identity({1, 10}).comm, "curl");
}

// A process stays on the poller's exit list for two polls (found gone,
// then deleted after one last read): its last bytes still carry its name.
TEST(Attribution, ExitedProcessKeepsItsIdentityForItsLastBytes) {
  FakeResolver res;
  res.exes = {{1, "/usr/bin/make"}};
  Attributor attributor({}, res);
  attributor.attribute(window({proc(1, {10, 0, 0, 0}, "make")}));
  Window w = window({});
  w.exited = {{1, 10}};
  Attributed a = attributor.attribute(w);
  EXPECT_EQ(a.exited, (std::vector<ProcId>{{1, 10}}));
  w = window({proc(1, {5, 0, 0, 0}, "make")});
  w.exited = {{1, 10}};
  a = attributor.attribute(w);
  EXPECT_TRUE(a.identity({1, 10}).exited);
  EXPECT_EQ(a.identity({1, 10}).exe, "/usr/bin/make");
  EXPECT_EQ(res.exe_asked.size(), 1u);
}

TEST(Attribution, SelectionAppliesToTheExitList) {
  FakeResolver res;
  Attributor attributor({.pids = {2}}, res);
  Window w = window({});
  w.exited = {{1, 10}, {2, 20}};
  EXPECT_EQ(attributor.attribute(w).exited, (std::vector<ProcId>{{2, 20}}));
}

TEST(Report, UnattributedIsProcessBytesNotInItsConnectionRows) {
  FakeResolver res;
  // pid 1: 100/200 with rows 30/50 + 20/10 -> 50/140 unattributed.
  // pid 2: 10/10 fully covered. pid 3: no rows -> 7/3.
  Window w = window({proc(1, {100, 200, 0, 0}), proc(2, {10, 10, 0, 0}), proc(3, {7, 3, 0, 0})},
                    {conn(1, 30, 50), conn(1, 20, 10), conn(2, 10, 10)});
  Report r = assemble(w, {}, res);
  EXPECT_EQ(r.loss.unattributed_tx, 57u);
  EXPECT_EQ(r.loss.unattributed_rx, 143u);
}

TEST(Report, UnattributedIgnoresExcludedLoopback) {
  FakeResolver res;
  Window w =
      window({proc(1, {100, 100, 500, 500})}, {conn(1, 500, 500, true, 9), conn(1, 100, 60)});
  Report r = assemble(w, {}, res);
  EXPECT_EQ(r.loss.unattributed_tx, 0u);
  EXPECT_EQ(r.loss.unattributed_rx, 40u);

  r = assemble(w, loopback(), res);
  EXPECT_EQ(r.loss.unattributed_tx, 0u);
  EXPECT_EQ(r.loss.unattributed_rx, 40u);
}

// A dual-stack server (bound to ::) sees IPv4 clients as ::ffff:a.b.c.d: the
// report shows IPv4 and groups those clients with native IPv4 traffic.
TEST(Attribution, Ipv4MappedAddressesAreIpv4) {
  FakeResolver res;
  ConnDelta dual = conn(1, 100, 10, false, 2, 11);
  dual.info.family = AF_INET6;
  dual.info.local.addr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  dual.info.remote.addr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
  ConnDelta native = conn(1, 50, 5, false, 2, 12);
  ConnDelta unconnected = conn(1, 7, 0, false, 2, 13);  // v6 UDP to nowhere yet: stays v6
  unconnected.info.family = AF_INET6;
  unconnected.info.local.addr = {};
  unconnected.info.remote.addr = {};
  Report r = assemble(window({proc(1, {157, 15, 0, 0})}, {dual, native, unconnected}), {}, res);
  ASSERT_EQ(conns(r).size(), 3u);
  const GroupRow& d = conns(r)[0];
  EXPECT_EQ(d.conn.family, AF_INET);
  EXPECT_EQ(d.conn.local.addr, (std::array<uint8_t, 16>{10, 0, 0, 1}));
  EXPECT_EQ(d.conn.remote.addr, (std::array<uint8_t, 16>{10, 0, 0, 2}));
  EXPECT_EQ(conns(r)[2].conn.family, AF_INET6);
  ASSERT_EQ(remotes(r).size(), 2u);  // 10.0.0.2 once, and the unconnected [::]
  EXPECT_EQ(remotes(r)[0].key.remote.family, AF_INET);
  EXPECT_EQ(remotes(r)[0].tx, 150u);
  EXPECT_EQ(remotes(r)[0].connections, 2u);
}

// A ping socket keeps its echo identifier, a raw socket its protocol, where
// a port would be: ICMP has no ports, so both show 0.
TEST(Attribution, IcmpAndRawSocketsHaveNoPorts) {
  FakeResolver res;
  ConnDelta ping = conn(1, 64, 64, false, 2, 11);
  ping.info.proto = IPPROTO_ICMP;
  ping.info.local.port = 43652;  // the echo identifier
  ConnDelta raw6 = conn(1, 64, 64, false, 3, 12);
  raw6.info.proto = IPPROTO_ICMPV6;
  raw6.info.local.port = 58;  // the protocol
  Report r = assemble(window({proc(1, {128, 128, 0, 0})}, {ping, raw6}), {}, res);
  ASSERT_EQ(conns(r).size(), 2u);
  for (const auto& c : conns(r)) {
    EXPECT_EQ(c.conn.local.port, 0);
    EXPECT_EQ(c.conn.remote.port, 0);
  }
}

// A window keeps the identities it was attributed with: a later exit or
// exec makes new identities for later windows, it does not rewrite this one.
TEST(Attribution, AWindowKeepsItsIdentities) {
  FakeResolver res;
  res.exes = {{1, "/usr/bin/python3"}};
  Attributor attributor({}, res);
  Attributed first = attributor.attribute(window({proc(1, {10, 0, 0, 0}, "python3")}));
  Window w = window({proc(1, {5, 0, 0, 0}, "curl")});
  w.exited = {{1, 10}};
  Attributed second = attributor.attribute(w);
  EXPECT_EQ(first.identity({1, 10}).comm, "python3");
  EXPECT_FALSE(first.identity({1, 10}).exited);
  EXPECT_EQ(second.identity({1, 10}).comm, "curl");
  EXPECT_TRUE(second.identity({1, 10}).exited);
}

// Ties in bytes are broken by key in every grouping, whatever order the
// kernel listed the entries in.
TEST(Report, TiesAreInKeyOrderWhateverTheWindowsOrder) {
  FakeResolver res;
  Window w = window({proc(5, {10, 0, 0, 0}), proc(3, {10, 0, 0, 0}), proc(4, {30, 0, 0, 0}),
                     proc(1, {10, 0, 0, 0})},
                    {conn(5, 10, 0, false, 9, 50), conn(3, 10, 0, false, 7, 30),
                     conn(4, 10, 0, false, 8, 41), conn(4, 20, 0, false, 6, 40)});
  Report r = assemble(w, {}, res);
  EXPECT_EQ(pids(r), (std::vector<uint32_t>{4, 1, 3, 5}));
  std::vector<uint64_t> cookies;
  for (const auto& c : conns(r)) cookies.push_back(c.key.cookie);
  EXPECT_EQ(cookies, (std::vector<uint64_t>{40, 30, 41, 50}));
  std::vector<int> hosts;
  for (const auto& h : remotes(r)) hosts.push_back(h.key.remote.addr[3]);
  EXPECT_EQ(hosts, (std::vector<int>{6, 7, 8, 9}));
}

// A sink that prints one grouping gets that table alone (text and CSV),
// JSON every grouping's; the one table is the same as in a full report.
TEST(Report, AssemblesOnlyTheTablesTheSinkPrints) {
  FakeResolver res;
  Window w = window({proc(1, {100, 0, 0, 0})}, {conn(1, 60, 0, false, 9), conn(1, 40, 0)});
  std::ostringstream out;
  for (Format f : {Format::text, Format::csv})
    EXPECT_EQ(ReportWriter(out, f, GroupKind::connection).tables(),
              std::vector<GroupKind>{GroupKind::connection});
  EXPECT_EQ(ReportWriter(out, Format::json, GroupKind::connection).tables(), every_grouping());
  EXPECT_EQ(every_grouping(),
            (std::vector<GroupKind>{GroupKind::process, GroupKind::connection, GroupKind::remote,
                                    GroupKind::interface, GroupKind::flow, GroupKind::container}));
  Attributor attributor({}, res);
  Attributed a = attributor.attribute(w);
  Report one = assemble(a, "h", "b", {GroupKind::connection}), all = assemble(a, "h", "b");
  ASSERT_EQ(one.tables.size(), 1u);
  EXPECT_TRUE(procs(one).empty());
  EXPECT_TRUE(remotes(one).empty());
  ASSERT_EQ(conns(one).size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(conns(one)[i].key, conns(all)[i].key);
    EXPECT_EQ(conns(one)[i].tx, conns(all)[i].tx);
  }
  EXPECT_EQ(one.tx_bytes, 100u);
}

// The wire layer through attribution: a flow's wire bytes land on its
// connection's row and its process's, a retransmit on its connection, and
// an unconnected UDP server's row becomes one row per remote, each with its
// payload (wire bytes less 14 + 20 + 8 bytes of headers per datagram); the
// socket's row keeps what no watched interface carried.
TEST(Report, WireBytesJoinTheirConnectionsAndSplitAnUnconnectedSocket) {
  FakeResolver res;
  const uint32_t ns = 4026531840u;
  ConnDelta tcp = conn(1, 5000, 100);
  ConnDelta udp = conn(2, 300, 1000, false, 0, 77);
  udp.info.proto = IPPROTO_UDP;
  udp.info.local.port = 53;
  udp.info.remote = {};
  Window w =
      window({proc(1, {.tx = 5000, .rx = 100}), proc(2, {.tx = 300, .rx = 1000})}, {tcp, udp});
  w.wire_netns = ns;
  w.local_addrs = {{10, 0, 0, 1}};
  w.ifaces = {{.ifindex = 3,
               .netns = ns,
               .name = "eth0",
               .l2_len = 14,
               .tx_bytes = 6000,
               .rx_bytes = 1800}};
  auto key = [](uint8_t proto, uint16_t lport, uint8_t r, uint16_t rport) {
    return FlowKey{.ifindex = 3,
                   .ethertype = 0x0800,
                   .proto = proto,
                   .lport = lport,
                   .rport = rport,
                   .laddr = {10, 0, 0, 1},
                   .raddr = {10, 0, 0, r}};
  };
  w.flows = {{.key = key(IPPROTO_TCP, 40000, 2, 443),
              .tx_bytes = 5400,
              .rx_bytes = 500,
              .tx_packets = 5,
              .rx_packets = 6},
             // 2 queries of 60 bytes in, 2 answers of 100 out, to 10.0.0.7:5353
             {.key = key(IPPROTO_UDP, 53, 7, 5353),
              .tx_bytes = 284,
              .rx_bytes = 204,
              .tx_packets = 2,
              .rx_packets = 2},
             // 10 queries of 50 in from 10.0.0.8:6000
             {.key = key(IPPROTO_UDP, 53, 8, 6000),
              .tx_bytes = 0,
              .rx_bytes = 920,
              .tx_packets = 0,
              .rx_packets = 10}};
  FlowKey rk = key(IPPROTO_TCP, 40000, 2, 443);
  rk.ifindex = ns;
  w.retrans = {{.key = rk, .bytes = 1448, .segments = 1}};
  Report r = assemble(w, {}, res);

  const auto& p = procs(r);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].key.proc.tgid, 1u);
  EXPECT_EQ(p[0].wire.tx_wire, 5400u);
  EXPECT_EQ(p[0].wire.rx_wire, 500u);
  EXPECT_EQ(p[0].wire.retrans, 1448u);
  EXPECT_EQ(p[1].wire.tx_wire, 284u);
  EXPECT_EQ(p[1].wire.rx_wire, 1124u);

  const auto& c = conns(r);
  ASSERT_EQ(c.size(), 4u);  // tcp, and the UDP socket: two remotes and the rest
  EXPECT_EQ(c[0].key.proc.tgid, 1u);
  EXPECT_EQ(c[0].wire.retrans, 1448u);
  std::map<uint16_t, const GroupRow*> udp_rows;
  for (const auto& row : c)
    if (row.key.proc.tgid == 2) udp_rows[row.conn.remote.port] = &row;
  ASSERT_EQ(udp_rows.size(), 3u);
  EXPECT_EQ(udp_rows[5353]->tx, 200u);
  EXPECT_EQ(udp_rows[5353]->rx, 120u);
  EXPECT_EQ(udp_rows[5353]->conn.remote.addr[3], 7);
  EXPECT_EQ(udp_rows[6000]->tx, 0u);
  EXPECT_EQ(udp_rows[6000]->rx, 500u);
  EXPECT_EQ(udp_rows[0]->tx, 100u);  // sent where no watched interface saw it
  EXPECT_EQ(udp_rows[0]->rx, 380u);
  EXPECT_EQ(udp_rows[0]->wire.rx_wire, 0u);

  const ReceiptLine& eth0 = r.receipt.interfaces.at(0);
  EXPECT_EQ(eth0.wire, 7800u);
  EXPECT_EQ(eth0.process, 5900u + 488u + 920u - 1448u);
  EXPECT_EQ(eth0.retrans, 1448u);
  EXPECT_EQ(eth0.unexplained, int64_t(7800 - 5900 - 488 - 920));
  ASSERT_EQ(r.rows(GroupKind::flow).size(), 3u);
}

// A window in which a connection moves no payload but its flow moves wire
// bytes (a FIN and its ACKs): its connection and process get rows with
// payload 0 and those wire bytes, and the flow row names the process.
TEST(Report, WireBytesWithoutPayloadStillHaveTheirRows) {
  FakeResolver res;
  const uint32_t ns = 4026531840u;
  Attributor attributor({}, res);
  ConnDelta tcp = conn(1, 1000, 0);
  Window first = window({proc(1, {.tx = 1000})}, {tcp});
  first.wire_netns = ns;
  FlowKey k{.ifindex = 3,
            .ethertype = 0x0800,
            .proto = IPPROTO_TCP,
            .lport = 40000,
            .rport = 443,
            .laddr = {10, 0, 0, 1},
            .raddr = {10, 0, 0, 2}};
  first.flows = {{.key = k, .tx_bytes = 1066, .tx_packets = 1}};
  first.ifaces = {{.ifindex = 3, .netns = ns, .name = "eth0", .l2_len = 14, .tx_bytes = 1066}};
  attributor.attribute(first);
  Window fin = window({}, {});
  fin.wire_netns = ns;
  fin.flows = {{.key = k, .tx_bytes = 132, .rx_bytes = 66, .tx_packets = 2, .rx_packets = 1}};
  fin.ifaces = {
      {.ifindex = 3, .netns = ns, .name = "eth0", .l2_len = 14, .tx_bytes = 132, .rx_bytes = 66}};
  Report r = assemble(attributor.attribute(fin), "h", "b");
  ASSERT_EQ(procs(r).size(), 1u);
  EXPECT_EQ(procs(r)[0].tx, 0u);
  EXPECT_EQ(procs(r)[0].wire.tx_wire, 132u);
  EXPECT_EQ(procs(r)[0].wire.rx_wire, 66u);
  EXPECT_EQ(procs(r)[0].who.comm, "app");
  ASSERT_EQ(conns(r).size(), 1u);
  EXPECT_EQ(conns(r)[0].wire.tx_wire, 132u);
  EXPECT_EQ(conns(r)[0].conn.remote.port, 443);
  const auto& flows = r.rows(GroupKind::flow);
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].who.comm, "app");
  EXPECT_EQ(r.receipt.total.process, 198u);
}

// Containers: each cgroup's payload is the kernel's per-cgroup count (which
// holds the bytes of a process that is no longer in the window, here the
// 300 of an exited one in cgroup 7), its processes' count and wire bytes
// come from the window's processes, and a cgroup gone since keeps its name.
// --cgroup keeps the processes, connections and containers at or below a
// path; with --pid, a container is its selected processes' sum.
TEST(Report, ContainersFromTheKernelsPerCgroupCountsAndTheCgroupFilter) {
  FakeResolver res;
  const std::string web = "/system.slice/docker-" + std::string(64, 'a') + ".scope";
  res.cgroups[7] = {.path = web, .runtime = "docker", .id = std::string(64, 'a'), .name = "web"};
  res.cgroups[8] = {.path = "/system.slice/nginx.service",
                    .runtime = "systemd",
                    .id = "nginx.service",
                    .name = "nginx.service"};
  Window w = window({proc(1, {.tx = 1000, .rx = 10}, "app", 1000, 7),
                     proc(2, {.tx = 50, .rx = 5}, "app", 1000, 7),
                     proc(3, {.tx = 400, .rx = 40}, "nginx", 33, 8)},
                    {conn(1, 1000, 10), conn(3, 400, 40)});
  w.cgroups = {{.id = 7, .bytes = {.tx = 1350, .rx = 15, .lo_tx = 99}},
               {.id = 8, .bytes = {.tx = 400, .rx = 40}}};
  auto containers = [](const Report& r) {
    std::map<uint64_t, const GroupRow*> out;
    for (const auto& row : r.rows(GroupKind::container)) out[row.key.cgroup] = &row;
    return out;
  };
  // Rows point into the Attributed they were made from: keep each alive.
  std::vector<std::unique_ptr<Attributed>> held;
  auto assemble = [&](const Window& win, Selection sel, Resolver& r) {
    Attributor attributor(std::move(sel), r);
    held.push_back(std::make_unique<Attributed>(attributor.attribute(win)));
    return netacct::assemble(*held.back(), "h", "b");
  };
  Report all = assemble(w, {}, res);
  auto c = containers(all);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[7]->tx, 1350u);  // loopback excluded, as everywhere
  EXPECT_EQ(c[7]->rx, 15u);
  EXPECT_EQ(c[7]->container->processes, 2u);
  EXPECT_EQ(c[7]->container->name->name, "web");
  EXPECT_EQ(c[8]->tx, 400u);

  Report by_path = assemble(w, {.cgroups = {"/system.slice/nginx.service"}}, res);
  EXPECT_EQ(procs(by_path).size(), 1u);
  EXPECT_EQ(procs(by_path)[0].key.proc.tgid, 3u);
  ASSERT_EQ(conns(by_path).size(), 1u);
  EXPECT_EQ(conns(by_path)[0].key.proc.tgid, 3u);
  EXPECT_EQ(containers(by_path).size(), 1u);
  EXPECT_EQ(by_path.tx_bytes, 400u);
  Report subtree = assemble(w, {.cgroups = {"/system.slice"}}, res);
  EXPECT_EQ(procs(subtree).size(), 3u);
  EXPECT_EQ(containers(subtree).size(), 2u);
  EXPECT_EQ(procs(assemble(w, {.cgroups = {"/system.sl"}}, res)).size(), 0u)
      << "a path matches whole components";

  // The wire layer's IP counters: loopback only with --loopback; a cgroup
  // whose sockets moved packets but no payload is still a row.
  Window ip = w;
  ip.cgroups = {{.id = 7,
                 .bytes = {.tx = 1350, .rx = 15},
                 .ip_bytes = {.tx = 1500, .rx = 80, .lo_tx = 70, .lo_rx = 70},
                 .ip_packets = {.tx = 3, .rx = 2, .lo_tx = 1, .lo_rx = 1}},
                {.id = 8, .ip_bytes = {.rx = 52}, .ip_packets = {.rx = 1}}};
  // The rows point into their Report: each is kept while c is read (ASan
  // found the temporary's rows read after it was destroyed).
  Report with_ip = assemble(ip, {}, res);
  c = containers(with_ip);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[7]->container->ip.tx_bytes, 1500u);
  EXPECT_EQ(c[7]->container->ip.rx_bytes, 80u);
  EXPECT_EQ(c[7]->container->ip.tx_packets, 3u);
  EXPECT_EQ(c[7]->container->ip.rx_packets, 2u);
  EXPECT_EQ(c[8]->tx, 0u);
  EXPECT_EQ(c[8]->container->ip.rx_bytes, 52u);
  Report with_loopback = assemble(ip, {.loopback = true}, res);
  c = containers(with_loopback);
  EXPECT_EQ(c[7]->container->ip.tx_bytes, 1570u);
  EXPECT_EQ(c[7]->container->ip.rx_packets, 3u);

  Report pid = assemble(w, {.pids = {1}}, res);
  c = containers(pid);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[7]->tx, 1000u);
  EXPECT_EQ(c[7]->container->processes, 1u);

  // The cgroup is removed: the resolver no longer knows it; its name stays.
  Attributor attributor({}, res);
  attributor.attribute(w);
  res.cgroups.erase(7);
  Window after = window({proc(2, {.tx = 5}, "app", 1000, 7)});
  after.cgroups = {{.id = 7, .bytes = {.tx = 5}}};
  Attributed a = attributor.attribute(after);
  Report gone = netacct::assemble(a, "h", "b");
  c = containers(gone);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[7]->container->name->name, "web");
  EXPECT_EQ(c[7]->tx, 5u);
}

TEST(Selection, CgroupPathsMatchThemselvesAndTheirSubtrees) {
  Selection s{.cgroups = {"/kubepods.slice", "/system.slice/a.service"}};
  auto wants = [&](const char* p) {
    std::string path = p;
    return s.wants_cgroup(&path);
  };
  EXPECT_TRUE(wants("/kubepods.slice"));
  EXPECT_TRUE(wants("/kubepods.slice/kubepods-pod1.slice/cri-containerd-x.scope"));
  EXPECT_FALSE(wants("/kubepods.slicex"));
  EXPECT_TRUE(wants("/system.slice/a.service"));
  EXPECT_FALSE(wants("/system.slice/a.service2"));
  EXPECT_FALSE(wants("/system.slice"));
  EXPECT_FALSE(s.wants_cgroup(nullptr));
  EXPECT_TRUE(Selection{}.wants_cgroup(nullptr));
  std::string any = "/user.slice";
  EXPECT_TRUE(Selection{.cgroups = {"/"}}.wants_cgroup(&any));
}

// Remote names: an answer joins its socket among every connection of the
// window (a stub resolver's loopback answer too, though loopback rows are
// not shown), names its own process's connections (answer) and those of
// another process of the network namespace (namespace); the remote host
// shows the best.
TEST(Attribution, RemoteNamesFromTheAnswerTheProcessReceived) {
  FakeResolver res;
  RemoteNamer namer;
  Attributor attributor({}, res, &namer);
  RemoteKey addr{.family = AF_INET, .addr = {10, 0, 0, 2}};
  namer.received({.cookie = 50, .mono_ns = 1'000'000'000},
                 {.name = "mine.example", .addresses = {{.addr = addr, .ttl = 60}}});
  Window w = window(
      {proc(1, {100, 10, 60, 60}), proc(2, {40, 4, 0, 0})},
      {conn(1, 0, 0, true, 53, 50), conn(2, 40, 4, false, 2, 21), conn(1, 100, 10, false, 2, 11)});
  Report r = assemble(attributor.attribute(w), "h", "b");
  ASSERT_EQ(conns(r).size(), 2u);
  for (const GroupRow& c : conns(r)) {
    ASSERT_TRUE(c.name) << c.key.proc.tgid;
    EXPECT_EQ(c.name->name, "mine.example");
    EXPECT_EQ(c.name->source, c.key.proc.tgid == 1 ? NameSource::answer : NameSource::namespace_);
  }
  ASSERT_EQ(remotes(r).size(), 1u);
  ASSERT_TRUE(remotes(r)[0].name);
  EXPECT_EQ(remotes(r)[0].name->source, NameSource::answer);
  EXPECT_EQ(r.dns.answers, 1u);
  EXPECT_TRUE(r.dns.enabled);
}

TEST(Attribution, NoNamerNoNamesAndDnsOff) {
  FakeResolver res;
  Report r = assemble(window({proc(1, {100, 10, 0, 0})}, {conn(1, 100, 10)}), {}, res);
  ASSERT_EQ(conns(r).size(), 1u);
  EXPECT_EQ(conns(r)[0].name, nullptr);
  EXPECT_FALSE(r.dns.enabled);
}
