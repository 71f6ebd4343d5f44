// TopModel fed hand-made Windows through attribution, one per second (start 0,
// delay 1), and the rows top shows of it (visible_rows: filter and sort).
#include "model/top_model.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <map>
#include <set>

#include "output/top_render.hpp"

using namespace netacct;

namespace {

class FakeResolver : public Resolver {
 public:
  std::map<uint32_t, std::string> users = {{1000, "alice"}, {26, "postgres"}};
  std::optional<std::string> exe(uint32_t) override { return std::nullopt; }
  std::optional<std::string> user(uint32_t uid) override {
    auto it = users.find(uid);
    return it == users.end() ? std::nullopt : std::optional(it->second);
  }
  CgroupName cgroup(uint64_t) override { return {}; }
};

ProcId pid_of(uint32_t pid) { return {pid, pid * 10ull}; }

ProcDelta proc(uint32_t pid, std::string comm, uint64_t tx, uint64_t rx, uint32_t uid = 1000,
               uint64_t lo_tx = 0, uint64_t lo_rx = 0) {
  return {.id = pid_of(pid),
          .info = {.comm = std::move(comm), .uid = uid},
          .bytes = {.tx = tx, .rx = rx, .lo_tx = lo_tx, .lo_rx = lo_rx}};
}

std::array<uint8_t, 16> v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return {a, b, c, d}; }
std::array<uint8_t, 16> v6(std::initializer_list<uint8_t> bytes) {
  std::array<uint8_t, 16> a{};
  std::copy(bytes.begin(), bytes.end(), a.begin());
  return a;
}
const auto kDb6 = v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});  // 2001:db8::1
const auto kLocal6 = v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});

ConnDelta conn(uint32_t pid, uint64_t cookie, std::array<uint8_t, 16> remote, uint16_t port,
               uint64_t tx, uint64_t rx, uint16_t proto = IPPROTO_TCP) {
  ConnDelta c;
  c.id = {cookie, pid_of(pid)};
  c.info.family = AF_INET;
  c.info.proto = proto;
  c.info.local = {v4(10, 0, 0, 1), uint16_t(40000 + cookie)};
  c.info.remote = {remote, port};
  c.tx = tx;
  c.rx = rx;
  return c;
}

ConnDelta conn6(uint32_t pid, uint64_t cookie, uint16_t port, uint64_t tx, uint64_t rx) {
  ConnDelta c = conn(pid, cookie, kDb6, port, tx, rx);
  c.info.family = AF_INET6;
  c.info.local = {kLocal6, 5432};
  return c;
}

ConnDelta loop(uint32_t pid, uint64_t cookie, uint64_t tx, uint64_t rx) {
  ConnDelta c = conn(pid, cookie, v4(127, 0, 0, 1), 6379, tx, rx);
  c.info.local.addr = v4(127, 0, 0, 1);
  c.info.loopback = true;
  return c;
}

Window win(std::vector<ProcDelta> p, std::vector<ConnDelta> c = {}) {
  Window w;
  w.procs = std::move(p);
  w.conns = std::move(c);
  return w;
}

struct Model : ::testing::Test {
  FakeResolver res;
  RemoteNamer namer;
  Attributor attributor{{}, res, &namer};
  TopModel m{0, 1};
  std::set<ProcId> dead;  // the poller's exit list for the next step
  double now = 0;
  void step(std::vector<ProcDelta> p = {}, std::vector<ConnDelta> c = {}) {
    now += 1;
    Window w = win(std::move(p), std::move(c));
    w.exited = {dead.begin(), dead.end()};
    m.update(attributor.attribute(w), now);
  }
  void idle_until(double t) {
    while (now < t) step();
  }
  std::vector<TopRow> rows(TopState st = {}) const { return visible_rows(m, st); }
  static TopState view(GroupKind v) {
    TopState st;
    st.query.view = v;
    return st;
  }
};

std::vector<uint32_t> pids(const std::vector<TopRow>& rows) {
  std::vector<uint32_t> out;
  for (const auto& r : rows) out.push_back(r.row.key.proc.tgid);
  return out;
}
// What the rows show in one column.
std::vector<std::string> column(const std::vector<TopRow>& rows, const TopState& st,
                                const std::string& title) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(shown_text(grouping(st.query.view), r, st, title));
  return out;
}
std::vector<std::string> remotes(const std::vector<TopRow>& rows, const TopState& st = {}) {
  TopState s = st;
  if (s.query.view == GroupKind::process) s.query.view = GroupKind::connection;
  return column(rows, s, "REMOTE");
}
std::vector<std::string> hosts(const std::vector<TopRow>& rows, const TopState& st = {}) {
  TopState s = st;
  s.query.view = GroupKind::remote;
  return column(rows, s, "REMOTE");
}
std::vector<std::string> locals(const std::vector<TopRow>& rows, const TopState& st = {}) {
  TopState s = st;
  s.query.view = GroupKind::connection;
  return column(rows, s, "LOCAL");
}

// postgres (4121) talks to 93.184.216.34 twice and to 2001:db8::1;
// curl (7) to 93.184.216.34 and 1.1.1.1.
void busy(Model& t) {
  t.step({proc(4121, "postgres", 3000, 30000, 26), proc(7, "curl", 100, 2000, 4242)},
         {conn(4121, 1, v4(93, 184, 216, 34), 443, 1000, 10000),
          conn(4121, 2, v4(93, 184, 216, 34), 80, 1500, 15000), conn6(4121, 3, 443, 500, 5000),
          conn(7, 4, v4(93, 184, 216, 34), 443, 60, 1500),
          conn(7, 5, v4(1, 1, 1, 1), 53, 40, 500, IPPROTO_UDP)});
}

TEST_F(Model, ProcessesView) {
  busy(*this);
  auto r = rows();
  ASSERT_EQ(pids(r), (std::vector<uint32_t>{4121, 7}));
  EXPECT_EQ(r[0].row.who.comm, "postgres");
  EXPECT_EQ(column(r, {}, "USER"), (std::vector<std::string>{"postgres", "4242"}));  // no name: uid
  EXPECT_EQ(r[0].row.key.proc, pid_of(4121));
  EXPECT_FALSE(r[0].row.who.exited);
  EXPECT_EQ(r[0].rates.tx[0], 3000);
  EXPECT_EQ(r[0].rates.rx[2], 30000);
  EXPECT_EQ(r[0].totals.total_tx, 3000u);
  EXPECT_EQ(r[0].spark.tx.size(), 8u);
  EXPECT_EQ(r[0].spark.tx[7], 600);  // 3000 B in the newest 5 s bucket
}

TEST_F(Model, ConnectionsView) {
  busy(*this);
  TopState st = view(GroupKind::connection);
  auto r = rows(st);
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(remotes(r),
            (std::vector<std::string>{"93.184.216.34:80", "93.184.216.34:443", "[2001:db8::1]:443",
                                      "93.184.216.34:443", "1.1.1.1:53"}));
  EXPECT_EQ(locals(r),
            (std::vector<std::string>{"10.0.0.1:40002", "10.0.0.1:40001", "[2001:db8::2]:5432",
                                      "10.0.0.1:40004", "10.0.0.1:40005"}));
  EXPECT_EQ(pids(r), (std::vector<uint32_t>{4121, 4121, 4121, 7, 7}));
  EXPECT_EQ(r[0].row.who.comm, "postgres");
  EXPECT_EQ(r[0].row.who.user, "postgres");
  EXPECT_EQ(column(r, st, "PROTO"), (std::vector<std::string>{"tcp", "tcp", "tcp", "tcp", "udp"}));
  EXPECT_EQ(r[4].row.who.comm, "curl");
  EXPECT_EQ(r[0].row.key.proc, pid_of(4121));
  EXPECT_EQ(r[0].rates.tx[0], 1500);
}

TEST_F(Model, RemotesViewSumsEveryConnectionToAHost) {
  busy(*this);
  auto r = rows(view(GroupKind::remote));
  EXPECT_EQ(hosts(r), (std::vector<std::string>{"93.184.216.34", "2001:db8::1", "1.1.1.1"}));
  EXPECT_EQ(r[0].rates.tx[0], 1000 + 1500 + 60);
  EXPECT_EQ(r[0].rates.rx[0], 10000 + 15000 + 1500);
  EXPECT_EQ(r[0].row.key.proc.tgid, 0u);
}

TEST_F(Model, DrillDownToOneProcess) {
  busy(*this);
  TopState q = view(GroupKind::connection);
  q.query.drill = pid_of(7);
  EXPECT_EQ(remotes(rows(q)), (std::vector<std::string>{"93.184.216.34:443", "1.1.1.1:53"}));
  q.query.view = GroupKind::remote;
  auto r = rows(q);
  EXPECT_EQ(hosts(r), (std::vector<std::string>{"93.184.216.34", "1.1.1.1"}));
  EXPECT_EQ(r[0].rates.rx[0], 1500);  // curl's share only
  q.query.drill = pid_of(4121);
  r = rows(q);
  EXPECT_EQ(hosts(r), (std::vector<std::string>{"93.184.216.34", "2001:db8::1"}));
  EXPECT_EQ(r[0].rates.tx[0], 2500);
  q.query.drill = pid_of(99);
  EXPECT_TRUE(rows(q).empty());
}

TEST_F(Model, LoopbackExcludedByDefault) {
  step({proc(1, "redis", 0, 0, 1000, 500, 500), proc(2, "app", 10, 20, 1000, 300, 400)},
       {loop(2, 1, 300, 400), conn(2, 2, v4(8, 8, 8, 8), 53, 10, 20)});
  auto r = rows();
  ASSERT_EQ(pids(r), (std::vector<uint32_t>{2}));
  EXPECT_EQ(r[0].totals.total_tx, 10u);
  EXPECT_EQ(remotes(rows(view(GroupKind::connection))), (std::vector<std::string>{"8.8.8.8:53"}));
  EXPECT_EQ(hosts(rows(view(GroupKind::remote))), (std::vector<std::string>{"8.8.8.8"}));
  TopTotals t = m.totals();
  EXPECT_EQ(t.rates.tx[0], 10);
  EXPECT_EQ(t.rates.rx[0], 20);
  EXPECT_EQ(t.processes, 1u);
  EXPECT_EQ(t.connections, 1u);
}

TEST(TopModelLoopback, IncludedWhenEnabled) {
  FakeResolver res;
  Attributor attributor({.loopback = true}, res);
  TopModel m(0, 1);
  m.update(attributor.attribute(
               win({proc(1, "redis", 0, 0, 1000, 500, 600), proc(2, "app", 10, 20, 1000, 300, 400)},
                   {loop(2, 1, 300, 400), conn(2, 2, v4(8, 8, 8, 8), 53, 10, 20)})),
           1);
  auto r = visible_rows(m, {});
  ASSERT_EQ(pids(r), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(r[0].totals.total_tx, 500u);
  EXPECT_EQ(r[1].totals.total_rx, 420u);
  TopState q;
  q.query.view = GroupKind::connection;
  EXPECT_EQ(remotes(visible_rows(m, q)),
            (std::vector<std::string>{"127.0.0.1:6379", "8.8.8.8:53"}));
  EXPECT_EQ(m.totals().rates.tx[0], 810);
  EXPECT_EQ(m.totals().connections, 2u);
}

TEST_F(Model, ExitedProcessStaysMarkedFortySecondsAfterItsLastBytes) {
  step({proc(5, "make", 100, 200)}, {conn(5, 1, v4(10, 0, 0, 9), 22, 100, 200)});  // t = 1
  dead.insert(pid_of(5));
  step();  // t = 2: the poller found it gone
  dead.clear();
  auto r = rows();
  ASSERT_EQ(pids(r), (std::vector<uint32_t>{5}));
  EXPECT_TRUE(r[0].row.who.exited);
  EXPECT_EQ(r[0].totals.total_rx, 200u);
  auto c = rows(view(GroupKind::connection));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_TRUE(c[0].row.who.exited);
  idle_until(40);  // 39 s after its last bytes
  EXPECT_EQ(pids(rows()), (std::vector<uint32_t>{5}));
  EXPECT_EQ(m.totals().processes, 1u);
  step();  // t = 41
  EXPECT_TRUE(rows().empty());
  EXPECT_TRUE(rows(view(GroupKind::connection)).empty());
  EXPECT_TRUE(rows(view(GroupKind::remote)).empty());
  EXPECT_EQ(m.totals().processes, 0u);
  EXPECT_EQ(m.totals().connections, 0u);
}

TEST_F(Model, IdleProcessHiddenAfterFortySecondsKeepsItsTotals) {
  step({proc(9, "sshd", 1000, 50)}, {conn(9, 1, v4(10, 0, 0, 9), 22, 1000, 50)});  // t = 1
  idle_until(40);
  EXPECT_EQ(pids(rows()), (std::vector<uint32_t>{9}));
  step();  // t = 41
  EXPECT_TRUE(rows().empty());
  EXPECT_EQ(m.totals().processes, 0u);
  idle_until(60);
  step({proc(9, "sshd", 5, 7)});
  auto r = rows();
  ASSERT_EQ(pids(r), (std::vector<uint32_t>{9}));
  EXPECT_EQ(r[0].totals.total_tx, 1005u);
  EXPECT_EQ(r[0].totals.total_rx, 57u);
  EXPECT_EQ(r[0].rates.tx[2], 5 / 40.0);
  EXPECT_EQ(r[0].totals.peak_tx, 1000);
  EXPECT_FALSE(r[0].row.who.exited);
}

// A: 1900 B at t = 1 only; B: 100 B every second; C receives.
TEST_F(Model, SortByDirectionAndWindow) {
  step({proc(1, "a", 1900, 0), proc(2, "b", 100, 0), proc(3, "c", 10, 5000)});
  for (int i = 0; i < 9; ++i) step({proc(2, "b", 100, 0), proc(3, "c", 10, 50)});  // t = 10
  TopState q;
  q.sort = SortBy::sent;
  q.window = 0;
  EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{2, 3, 1}));  // 100, 10, 0
  q.window = 1;
  EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{1, 2, 3}));  // 190, 100, 10
  q.window = 2;
  EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{1, 2, 3}));
  q.sort = SortBy::received;
  q.window = 0;
  EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{3, 1, 2}));  // 50; then ties by total bytes
  q.sort = SortBy::total;
  EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{2, 3, 1}));  // 100, 60, 0
  q.window = 1;
  EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{3, 1, 2}));  // 555, 190, 100
}

TEST_F(Model, TiesByPidThenSocket) {
  step({proc(30, "x", 100, 0), proc(10, "y", 100, 0), proc(20, "z", 100, 0)},
       {conn(30, 2, v4(10, 0, 0, 3), 1, 5, 0), conn(30, 1, v4(10, 0, 0, 2), 1, 5, 0),
        conn(10, 3, v4(10, 0, 0, 9), 1, 5, 0)});
  EXPECT_EQ(pids(rows()), (std::vector<uint32_t>{10, 20, 30}));
  auto c = rows(view(GroupKind::connection));
  EXPECT_EQ(pids(c), (std::vector<uint32_t>{10, 30, 30}));
  EXPECT_EQ(remotes(c), (std::vector<std::string>{"10.0.0.9:1", "10.0.0.2:1", "10.0.0.3:1"}));
}

TEST_F(Model, EqualRatesGoByBytesSinceStartBeforePid) {
  step({proc(20, "z", 100, 0), proc(30, "x", 900, 0)});  // t = 1
  idle_until(49);
  step({proc(20, "z", 100, 0), proc(30, "x", 100, 0)});  // t = 50: same rate in every window
  for (size_t w : {0, 1, 2}) {
    TopState q;
    q.window = w;
    EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{30, 20})) << "window " << w;
  }
}

TEST_F(Model, FilterByProgramAddressPortOrPid) {
  busy(*this);
  TopState q;
  q.filter = "post";
  EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{4121}));
  q.filter = "alice";  // no such user here
  EXPECT_TRUE(rows(q).empty());
  q.filter = "7";  // a pid matches only whole
  EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{7}));
  q.filter = "41";
  EXPECT_TRUE(rows(q).empty());
  q.query.view = GroupKind::connection;
  q.filter = "93.184";
  EXPECT_EQ(remotes(rows(q)), (std::vector<std::string>{"93.184.216.34:80", "93.184.216.34:443",
                                                        "93.184.216.34:443"}));
  q.filter = ":443";
  EXPECT_EQ(remotes(rows(q)), (std::vector<std::string>{"93.184.216.34:443", "[2001:db8::1]:443",
                                                        "93.184.216.34:443"}));
  q.filter = "udp";
  EXPECT_EQ(remotes(rows(q)), (std::vector<std::string>{"1.1.1.1:53"}));
  q.filter = "40002";  // local port
  EXPECT_EQ(remotes(rows(q)), (std::vector<std::string>{"93.184.216.34:80"}));
  q.query.view = GroupKind::remote;
  q.filter = "db8";
  EXPECT_EQ(hosts(rows(q)), (std::vector<std::string>{"2001:db8::1"}));
}

// "/1.1.1.1" in the processes view answers "who talks to 1.1.1.1?".
TEST_F(Model, ProcessesMatchThroughTheirConnections) {
  busy(*this);
  TopState q;
  q.filter = "1.1.1.1";
  EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{7}));
  q.filter = "db8";
  EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{4121}));
  q.filter = "93.184.216.34:443";
  EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{4121, 7}));
}

// Regression (fixed): remote-host rows have pid 0, and the filter also matches a row whose
// pid equals it: "0" keeps every remote host, even 1.1.1.1.
TEST_F(Model, FilterZeroDoesNotMatchRemoteHostsByTheirMissingPid) {
  busy(*this);
  TopState q = view(GroupKind::remote);
  q.filter = "0";
  EXPECT_EQ(hosts(rows(q)), (std::vector<std::string>{"2001:db8::1"}));
}

TEST_F(Model, PortsHidden) {
  busy(*this);
  TopState q = view(GroupKind::connection);
  q.show_ports = false;
  auto r = rows(q);
  EXPECT_EQ(remotes(r, q), (std::vector<std::string>{"93.184.216.34", "93.184.216.34",
                                                     "2001:db8::1", "93.184.216.34", "1.1.1.1"}));
  EXPECT_EQ(locals(r, q), (std::vector<std::string>{"10.0.0.1", "10.0.0.1", "2001:db8::2",
                                                    "10.0.0.1", "10.0.0.1"}));
}

// curl (7) resolved 93.184.216.34 on its socket to 1.1.1.1:53 (cookie 5):
// its own connection is named from its answer, postgres's (same network
// namespace) from curl's, marked so; the remote host shows the best source,
// and `n` asks reverse DNS only for what has no name.
TEST_F(Model, DnsAnswerNamesShowWithTheirSource) {
  namer.received(
      {.cookie = 5},
      {.name = "example.com",
       .addresses = {{.addr = {.family = AF_INET, .addr = v4(93, 184, 216, 34)}, .ttl = 600}}});
  busy(*this);
  TopState q = view(GroupKind::connection);
  EXPECT_EQ(
      remotes(rows(q), q),
      (std::vector<std::string>{"example.com:80 (namespace)", "example.com:443 (namespace)",
                                "[2001:db8::1]:443", "example.com:443 (answer)", "1.1.1.1:53"}));
  q.dns = true;
  q.name = [](uint16_t, const std::array<uint8_t, 16>& a) -> std::optional<std::string> {
    return a == v4(1, 1, 1, 1) ? std::optional<std::string>("one.one") : std::nullopt;
  };
  q.query.view = GroupKind::remote;
  EXPECT_EQ(hosts(rows(q), q),
            (std::vector<std::string>{"example.com (answer)", "2001:db8::1", "one.one (ptr)"}));
}

TEST_F(Model, ReverseDnsNamesRemotesOnly) {
  busy(*this);
  int asked = 0;
  TopState q = view(GroupKind::connection);
  q.dns = true;
  q.name = [&](uint16_t family, const std::array<uint8_t, 16>& a) -> std::optional<std::string> {
    ++asked;
    if (family == AF_INET && a == v4(93, 184, 216, 34)) return "example.com";
    if (family == AF_INET6 && a == kDb6) return "v6.example.net";
    if (a == v4(10, 0, 0, 1)) return "me.local";  // never asked for: local stays numeric
    return std::nullopt;
  };
  auto r = rows(q);
  EXPECT_EQ(remotes(r, q), (std::vector<std::string>{
                               "example.com:80 (ptr)", "example.com:443 (ptr)",
                               "v6.example.net:443 (ptr)", "example.com:443 (ptr)", "1.1.1.1:53"}));
  EXPECT_EQ(locals(r, q)[0], "10.0.0.1:40002");
  q.query.view = GroupKind::remote;
  EXPECT_EQ(hosts(rows(q), q),
            (std::vector<std::string>{"example.com (ptr)", "v6.example.net (ptr)", "1.1.1.1"}));
  q.filter = "example.com";
  EXPECT_EQ(hosts(rows(q), q), (std::vector<std::string>{"example.com (ptr)"}));
  EXPECT_GT(asked, 0);
  q.dns = false;  // off: numeric again, nothing asked
  asked = 0;
  q.filter.clear();
  EXPECT_EQ(hosts(rows(q), q),
            (std::vector<std::string>{"93.184.216.34", "2001:db8::1", "1.1.1.1"}));
  EXPECT_EQ(asked, 0);
}

TEST_F(Model, Totals) {
  busy(*this);
  TopTotals t = m.totals();
  EXPECT_EQ(t.rates.tx[0], 3100);
  EXPECT_EQ(t.rates.rx[0], 32000);
  EXPECT_EQ(t.totals.total_tx, 3100u);
  EXPECT_EQ(t.processes, 2u);
  EXPECT_EQ(t.connections, 5u);
  step({proc(7, "curl", 900, 0)});  // t = 2
  t = m.totals();
  EXPECT_EQ(t.rates.tx, (std::array<double, 3>{2000, 2000, 2000}));  // 4000 B over 2 s
  EXPECT_EQ(t.totals.total_tx, 4000u);
  idle_until(42);
  t = m.totals();
  EXPECT_EQ(t.rates.tx, (std::array<double, 3>{0, 0, 0}));
  EXPECT_EQ(t.totals.total_tx, 4000u);
  EXPECT_EQ(t.processes, 0u);
  EXPECT_EQ(t.connections, 0u);
}

// A process renamed by an exec keeps its row, which shows the new name.
TEST_F(Model, RowsShowTheLatestIdentity) {
  step({proc(3, "python3", 10, 0)}, {conn(3, 1, v4(10, 0, 0, 9), 80, 10, 0)});
  step({proc(3, "curl", 10, 0)}, {conn(3, 1, v4(10, 0, 0, 9), 80, 10, 0)});
  auto r = rows();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].row.who.comm, "curl");
  EXPECT_EQ(r[0].totals.total_tx, 20u);
  EXPECT_EQ(rows(view(GroupKind::connection))[0].row.who.comm, "curl");
}

}  // namespace

namespace {

// A process that moved bytes once and then idled: its row is hidden after
// 40 s and kept (with its totals) while it runs; its exit drops it, so bytes
// read after the exit start a new row.
TEST_F(Model, IdleRowDroppedWhenItsProcessExits) {
  step({proc(9, "sshd", 1000, 50)});  // t = 1
  idle_until(45);
  EXPECT_TRUE(rows().empty());
  dead.insert(pid_of(9));
  step();  // t = 46: found gone
  dead.clear();
  EXPECT_TRUE(rows().empty());
  EXPECT_EQ(m.totals().processes, 0u);
  step({proc(9, "sshd", 5, 0)});  // its last bytes, read once more
  auto r = rows();
  ASSERT_EQ(pids(r), (std::vector<uint32_t>{9}));
  EXPECT_EQ(r[0].totals.total_tx, 5u);
}

// A row goes idle 40 s after its last bytes even while others keep moving,
// and comes back with its totals when it moves again within its process.
TEST_F(Model, RowsExpireOneByOneAndComeBack) {
  for (int t = 1; t <= 60; ++t) {
    std::vector<ConnDelta> c = {conn(1, 1, v4(10, 0, 0, 1), 80, 10, 0)};
    if (t == 5) c.push_back(conn(1, 2, v4(10, 0, 0, 2), 80, 7, 0));
    if (t == 30) c.push_back(conn(1, 3, v4(10, 0, 0, 3), 80, 9, 0));
    step({proc(1, "app", t == 5 ? 17 : t == 30 ? 19 : 10, 0)}, c);
    size_t want = 1 + (t >= 5 && t < 45) + (t >= 30 && t < 70);
    ASSERT_EQ(rows(view(GroupKind::connection)).size(), want) << "t = " << t;
    ASSERT_EQ(m.totals().connections, want) << "t = " << t;
    size_t remote_hosts = 1 + (t >= 5 && t < 45) + (t >= 30);
    ASSERT_EQ(rows(view(GroupKind::remote)).size(), remote_hosts) << "t = " << t;
  }
  step({proc(1, "app", 1, 0)}, {conn(1, 2, v4(10, 0, 0, 2), 80, 1, 0)});  // t = 61
  auto c = rows(view(GroupKind::connection));
  ASSERT_EQ(c.size(), 3u);
  // Connection 2's row was dropped at 45 (not a process's row): it starts over.
  for (const auto& r : c) {
    if (r.row.key.cookie == 2) {
      EXPECT_EQ(r.totals.total_tx, 1u);
    }
  }
  TopState q = view(GroupKind::remote);
  q.query.drill = pid_of(1);
  EXPECT_EQ(hosts(rows(q)), (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3"}));
}

// A frame makes only the rows on screen, and they are exactly those the
// whole sorted view has there, for every sort, window and selection.
TEST_F(Model, FrameRowsAreTheVisibleRowsOnScreen) {
  for (int t = 1; t <= 12; ++t) {
    std::vector<ProcDelta> p;
    std::vector<ConnDelta> c;
    for (uint32_t pid = 1; pid <= 30; ++pid) {
      if ((pid * 7 + uint32_t(t)) % 5 == 0) continue;
      uint64_t tx = (pid * 37 + uint64_t(t) * 11) % 400, rx = (pid * 13) % 3 * 100;
      p.push_back(proc(pid, "p" + std::to_string(pid), tx + 1, rx));
      c.push_back(conn(pid, pid, v4(10, 0, uint8_t(pid % 4), 1), 443, tx + 1, rx));
    }
    step(p, c);
  }
  for (GroupKind v : {GroupKind::process, GroupKind::connection, GroupKind::remote})
    for (SortBy by : {SortBy::sent, SortBy::received, SortBy::total})
      for (size_t w : {0, 1, 2})
        for (size_t selected : {0, 5, 17, 29, 40}) {
          TopState st = view(v);
          st.sort = by;
          st.window = w;
          st.selected = selected;
          std::vector<TopRow> all = visible_rows(m, st);
          FrameRows f = frame_rows(m, st, 7);
          ASSERT_EQ(f.count, all.size());
          ASSERT_EQ(f.rows.size(), std::min<size_t>(7, all.size()));
          ASSERT_EQ(f.first, first_visible(selected, all.size(), 7));
          for (size_t i = 0; i < f.rows.size(); ++i) {
            const TopRow& a = all[f.first + i];
            const TopRow& b = f.rows[i];
            ASSERT_EQ(a.row.key, b.row.key);
            ASSERT_EQ(a.rates.tx, b.rates.tx);
            ASSERT_EQ(a.totals.total_rx, b.totals.total_rx);
            ASSERT_EQ(a.spark.tx, b.spark.tx);
            ASSERT_EQ(a.row.who.comm, b.row.who.comm);
          }
        }
  TopState st;
  st.filter = "p1";  // p1, p10..p19
  EXPECT_EQ(frame_rows(m, st, 3).count, visible_rows(m, st).size());
  EXPECT_EQ(frame_rows(m, st, SIZE_MAX).rows.size(), visible_rows(m, st).size());
  // The paused view is made whole once (room SIZE_MAX) and scrolls with the
  // selection as the live one does: the same screen as render_top's.
  for (size_t selected : {0, 10, 23}) {
    TopState paused = view(GroupKind::process);
    paused.selected = selected;
    FrameRows whole = frame_rows(m, paused, SIZE_MAX);
    ASSERT_TRUE(whole.complete());
    TopHeader header;
    EXPECT_EQ(render_frame(header, whole, paused, 100, 12, true),
              render_top(header, visible_rows(m, paused), paused, 100, 12, true))
        << "selected " << selected;
  }
}

}  // namespace

// Connections carry their kernel slot, where the model finds their rows
// again without hashing: a slot taken over by another connection (the
// first one evicted or closed), a connection seen in another slot or in
// none, and the first connection back in its old slot each keep their own
// rows, connection, remote host and per-process, with exact totals.
TEST_F(Model, SlotsAreHintsRowsStayExact) {
  auto at = [](ConnDelta c, uint32_t slot) {
    c.slot = slot;
    return c;
  };
  const auto kWeb = v4(93, 184, 216, 34), kDb = v4(10, 0, 0, 9);
  step({proc(1, "curl", 100, 0)}, {at(conn(1, 1, kWeb, 443, 100, 0), 5)});
  step({proc(2, "psql", 40, 0)}, {at(conn(2, 9, kDb, 5432, 40, 0), 5)});  // slot 5 reused
  step({proc(1, "curl", 7, 0)}, {at(conn(1, 1, kWeb, 443, 7, 0), 6)});    // another slot
  step({proc(1, "curl", 3, 0)}, {at(conn(1, 1, kWeb, 443, 3, 0), kNoSlot)});
  step({proc(1, "curl", 1000, 0), proc(2, "psql", 2, 0)},
       {at(conn(1, 1, kWeb, 443, 1000, 0), 5), at(conn(2, 9, kDb, 5432, 2, 0), 6)});
  auto r = rows(view(GroupKind::connection));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].row.key.cookie, 1u);
  EXPECT_EQ(r[0].totals.total_tx, 1110u);
  EXPECT_EQ(remotes(r)[0], "93.184.216.34:443");
  EXPECT_EQ(r[1].row.key.cookie, 9u);
  EXPECT_EQ(r[1].totals.total_tx, 42u);
  EXPECT_EQ(remotes(r)[1], "10.0.0.9:5432");
  auto h = rows(view(GroupKind::remote));
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(hosts(h), (std::vector<std::string>{"93.184.216.34", "10.0.0.9"}));
  EXPECT_EQ(h[0].totals.total_tx, 1110u);
  EXPECT_EQ(h[1].totals.total_tx, 42u);
  TopState drill = view(GroupKind::remote);
  drill.query.drill = pid_of(2);
  auto d = rows(drill);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(hosts(d, drill)[0], "10.0.0.9");
  EXPECT_EQ(d[0].totals.total_tx, 42u);
  // Idle for the whole history: the rows go (their entries freed), and a
  // new connection through slot 5 must not land in a freed row, nor in a
  // row reused by another key.
  idle_until(now + 41);
  ASSERT_TRUE(rows(view(GroupKind::connection)).empty());
  step({proc(3, "wget", 8, 0)}, {at(conn(3, 4, kWeb, 80, 8, 0), 6)});
  step({proc(3, "wget", 9, 0)}, {at(conn(3, 5, kDb, 5433, 9, 0), 5)});
  r = rows(view(GroupKind::connection));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].row.key.cookie, 5u);
  EXPECT_EQ(r[0].totals.total_tx, 9u);
  EXPECT_EQ(remotes(r)[0], "10.0.0.9:5433");
  EXPECT_EQ(r[1].row.key.cookie, 4u);
  EXPECT_EQ(r[1].totals.total_tx, 8u);
  h = rows(view(GroupKind::remote));
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0].totals.total_tx, 9u);
  EXPECT_EQ(h[1].totals.total_tx, 8u);
}

// The wire layer in top: rows keep payload and wire bytes apart, the query
// picks which the view shows (w), a window in which a connection moved wire
// bytes only (its FIN) keeps its row on view, and the totals of the wire
// layer are the interfaces'.
TEST_F(Model, WireLayerShowsThePacketsBytesOfTheSameRows) {
  const uint32_t ns = 4026531840u;
  ConnDelta c = conn(4121, 1, v4(93, 184, 216, 34), 443, 1000, 10000);
  c.info.netns = ns;
  FlowKey k{.ifindex = 3,
            .ethertype = 0x0800,
            .proto = IPPROTO_TCP,
            .lport = 40001,
            .rport = 443,
            .laddr = {10, 0, 0, 1},
            .raddr = {93, 184, 216, 34}};
  auto wire_step = [&](std::vector<ProcDelta> p, std::vector<ConnDelta> cs, uint64_t tx,
                       uint64_t rx) {
    now += 1;
    Window w = win(std::move(p), std::move(cs));
    w.wire_netns = ns;
    w.local_addrs = {{10, 0, 0, 1}};
    w.flows = {{.key = k, .tx_bytes = tx, .rx_bytes = rx, .tx_packets = 1, .rx_packets = 1}};
    // The interface also carried 100 bytes of ARP each way.
    w.ifaces = {{.ifindex = 3,
                 .netns = ns,
                 .name = "eth0",
                 .l2_len = 14,
                 .tx_bytes = tx + 100,
                 .rx_bytes = rx + 100}};
    m.update(attributor.attribute(w), now);
  };
  wire_step({proc(4121, "postgres", 1000, 10000, 26)}, {c}, 1200, 10800);
  wire_step({}, {}, 66, 66);  // t = 2: the FIN and its ACK, no payload

  TopState st;
  auto r = rows(st);
  ASSERT_EQ(pids(r), std::vector<uint32_t>{4121});
  EXPECT_EQ(r[0].totals.total_tx, 1000u);
  EXPECT_EQ(r[0].rates.tx[0], 500);  // 1000 B over 2 s
  EXPECT_EQ(m.totals().totals.total_tx, 1000u);

  st.query.layer = Layer::wire;
  r = rows(st);
  ASSERT_EQ(pids(r), std::vector<uint32_t>{4121});
  EXPECT_EQ(r[0].totals.total_tx, 1266u);
  EXPECT_EQ(r[0].totals.total_rx, 10866u);
  EXPECT_EQ(r[0].rates.tx[0], 633);  // 1266 B over 2 s
  EXPECT_EQ(r[0].spark.tx[7], 1266.0 / 5);
  for (GroupKind v : {GroupKind::connection, GroupKind::remote}) {
    st.query.view = v;
    r = rows(st);
    ASSERT_EQ(r.size(), 1u) << view_name(v);
    EXPECT_EQ(r[0].totals.total_tx, 1266u) << view_name(v);
  }
  // Interface rows are wire bytes in both layers.
  for (Layer l : {Layer::payload, Layer::wire}) {
    st.query = {.view = GroupKind::interface, .layer = l};
    r = rows(st);
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].totals.total_tx, 1466u);
  }
  TopTotals t = m.totals(Layer::wire);
  EXPECT_EQ(t.totals.total_tx, 1466u);
  EXPECT_EQ(t.totals.total_rx, 11066u);

  // A process that never had a packet on a watched interface (loopback
  // excluded, say) shows no wire bytes, and ranks below.
  step({proc(7, "curl", 5000, 0)});
  st.query = {.layer = Layer::wire};
  r = rows(st);
  ASSERT_EQ(pids(r), (std::vector<uint32_t>{4121, 7}));
  EXPECT_EQ(r[1].totals.total_tx, 0u);
  EXPECT_EQ(pids(rows()), (std::vector<uint32_t>{7, 4121}));
}

// A container drilled into: the processes view shows the processes in that
// cgroup only (by their latest identity), the containers view each cgroup
// with its name.
TEST_F(Model, ProcessesOfAContainer) {
  ProcDelta web = proc(4121, "postgres", 3000, 30000, 26);
  web.info.cgroup_id = 9001;
  ProcDelta other = proc(7, "curl", 100, 2000, 4242);
  other.info.cgroup_id = 77;
  now += 1;
  Window w = win({web, other});
  w.cgroups = {{.id = 9001, .bytes = {.tx = 3000, .rx = 30000}},
               {.id = 77, .bytes = {.tx = 100, .rx = 2000}}};
  m.update(attributor.attribute(w), now);
  TopState st = view(GroupKind::container);
  auto r = rows(st);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].row.key.cgroup, 9001u);
  EXPECT_EQ(r[0].totals.total_tx, 3000u);
  ASSERT_NE(r[0].row.container, nullptr);
  EXPECT_EQ(r[0].row.container->processes, 1u);
  st = view(GroupKind::process);
  st.query.cgroup = 9001;
  EXPECT_EQ(pids(rows(st)), std::vector<uint32_t>{4121});
  st.query.cgroup = 77;
  EXPECT_EQ(pids(rows(st)), std::vector<uint32_t>{7});
  ASSERT_NE(m.container(77), nullptr);
  EXPECT_EQ(m.container(12345), nullptr);
}
