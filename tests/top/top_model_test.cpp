// TopModel fed hand-made Windows, one per second (start 0, delay 1).
#include "model/top_model.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <map>
#include <set>

using namespace netacct;

namespace {

class FakeResolver : public Resolver {
 public:
  std::set<ProcId> dead;
  std::map<uint32_t, std::string> users = {{1000, "alice"}, {26, "postgres"}};
  bool alive(const ProcId& id) override { return !dead.count(id); }
  std::optional<std::string> exe(uint32_t) override { return std::nullopt; }
  std::optional<std::string> user(uint32_t uid) override {
    auto it = users.find(uid);
    return it == users.end() ? std::nullopt : std::optional(it->second);
  }
  std::optional<std::string> cgroup(uint64_t) override { return std::nullopt; }
};

ProcId pid_of(uint32_t pid) { return {pid, pid * 10ull}; }

ProcDelta proc(uint32_t pid, std::string comm, uint64_t tx, uint64_t rx, uint32_t uid = 1000,
               uint64_t lo_tx = 0, uint64_t lo_rx = 0) {
  return {pid_of(pid), {std::move(comm), uid, 0}, {tx, rx, lo_tx, lo_rx}};
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
  TopModel m{0, 1, false};
  double now = 0;
  void step(std::vector<ProcDelta> p = {}, std::vector<ConnDelta> c = {}) {
    now += 1;
    m.update(win(std::move(p), std::move(c)), res, now);
  }
  void idle_until(double t) {
    while (now < t) step();
  }
  std::vector<TopRow> rows(TopQuery q = {}) const { return m.rows(q); }
  static TopQuery view(View v) {
    TopQuery q;
    q.view = v;
    return q;
  }
};

std::vector<uint32_t> pids(const std::vector<TopRow>& rows) {
  std::vector<uint32_t> out;
  for (const auto& r : rows) out.push_back(r.pid);
  return out;
}
std::vector<std::string> remotes(const std::vector<TopRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.remote);
  return out;
}
std::vector<std::string> locals(const std::vector<TopRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.local);
  return out;
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
  EXPECT_EQ(r[0].program, "postgres");
  EXPECT_EQ(r[0].user, "postgres");
  EXPECT_EQ(r[1].user, "4242");  // unknown uid: the number
  EXPECT_EQ(r[0].proc, pid_of(4121));
  EXPECT_FALSE(r[0].exited);
  EXPECT_EQ(r[0].rates.tx[0], 3000);
  EXPECT_EQ(r[0].rates.rx[2], 30000);
  EXPECT_EQ(r[0].rates.total_tx, 3000u);
  EXPECT_EQ(r[0].spark.tx.size(), 8u);
  EXPECT_EQ(r[0].spark.tx[7], 600);  // 3000 B in the newest 5 s bucket
  EXPECT_EQ(r[0].remote, "");
}

TEST_F(Model, ConnectionsView) {
  busy(*this);
  auto r = rows(view(View::connections));
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(remotes(r),
            (std::vector<std::string>{"93.184.216.34:80", "93.184.216.34:443", "[2001:db8::1]:443",
                                      "93.184.216.34:443", "1.1.1.1:53"}));
  EXPECT_EQ(locals(r),
            (std::vector<std::string>{"10.0.0.1:40002", "10.0.0.1:40001", "[2001:db8::2]:5432",
                                      "10.0.0.1:40004", "10.0.0.1:40005"}));
  EXPECT_EQ(pids(r), (std::vector<uint32_t>{4121, 4121, 4121, 7, 7}));
  EXPECT_EQ(r[0].program, "postgres");
  EXPECT_EQ(r[0].user, "postgres");
  EXPECT_EQ(r[0].proto, "tcp");
  EXPECT_EQ(r[4].proto, "udp");
  EXPECT_EQ(r[4].program, "curl");
  EXPECT_EQ(r[0].proc, pid_of(4121));
  EXPECT_EQ(r[0].rates.tx[0], 1500);
}

TEST_F(Model, RemotesViewSumsEveryConnectionToAHost) {
  busy(*this);
  auto r = rows(view(View::remotes));
  EXPECT_EQ(remotes(r), (std::vector<std::string>{"93.184.216.34", "2001:db8::1", "1.1.1.1"}));
  EXPECT_EQ(r[0].rates.tx[0], 1000 + 1500 + 60);
  EXPECT_EQ(r[0].rates.rx[0], 10000 + 15000 + 1500);
  EXPECT_EQ(r[0].pid, 0u);
  EXPECT_EQ(r[0].local, "");
}

TEST_F(Model, DrillDownToOneProcess) {
  busy(*this);
  TopQuery q = view(View::connections);
  q.drill = pid_of(7);
  EXPECT_EQ(remotes(rows(q)), (std::vector<std::string>{"93.184.216.34:443", "1.1.1.1:53"}));
  q.view = View::remotes;
  auto r = rows(q);
  EXPECT_EQ(remotes(r), (std::vector<std::string>{"93.184.216.34", "1.1.1.1"}));
  EXPECT_EQ(r[0].rates.rx[0], 1500);  // curl's share only
  q.drill = pid_of(4121);
  r = rows(q);
  EXPECT_EQ(remotes(r), (std::vector<std::string>{"93.184.216.34", "2001:db8::1"}));
  EXPECT_EQ(r[0].rates.tx[0], 2500);
  q.drill = pid_of(99);
  EXPECT_TRUE(rows(q).empty());
}

TEST_F(Model, LoopbackExcludedByDefault) {
  step({proc(1, "redis", 0, 0, 1000, 500, 500), proc(2, "app", 10, 20, 1000, 300, 400)},
       {loop(2, 1, 300, 400), conn(2, 2, v4(8, 8, 8, 8), 53, 10, 20)});
  auto r = rows();
  ASSERT_EQ(pids(r), (std::vector<uint32_t>{2}));
  EXPECT_EQ(r[0].rates.total_tx, 10u);
  EXPECT_EQ(remotes(rows(view(View::connections))), (std::vector<std::string>{"8.8.8.8:53"}));
  EXPECT_EQ(remotes(rows(view(View::remotes))), (std::vector<std::string>{"8.8.8.8"}));
  TopTotals t = m.totals();
  EXPECT_EQ(t.rates.tx[0], 10);
  EXPECT_EQ(t.rates.rx[0], 20);
  EXPECT_EQ(t.processes, 1u);
  EXPECT_EQ(t.connections, 1u);
}

TEST(TopModelLoopback, IncludedWhenEnabled) {
  FakeResolver res;
  TopModel m(0, 1, true);
  m.update(win({proc(1, "redis", 0, 0, 1000, 500, 600), proc(2, "app", 10, 20, 1000, 300, 400)},
               {loop(2, 1, 300, 400), conn(2, 2, v4(8, 8, 8, 8), 53, 10, 20)}),
           res, 1);
  auto r = m.rows({});
  ASSERT_EQ(pids(r), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(r[0].rates.total_tx, 500u);
  EXPECT_EQ(r[1].rates.total_rx, 420u);
  TopQuery q;
  q.view = View::connections;
  EXPECT_EQ(remotes(m.rows(q)), (std::vector<std::string>{"127.0.0.1:6379", "8.8.8.8:53"}));
  EXPECT_EQ(m.totals().rates.tx[0], 810);
  EXPECT_EQ(m.totals().connections, 2u);
}

TEST_F(Model, ExitedProcessStaysMarkedFortySecondsAfterItsLastBytes) {
  step({proc(5, "make", 100, 200)}, {conn(5, 1, v4(10, 0, 0, 9), 22, 100, 200)});  // t = 1
  res.dead.insert(pid_of(5));
  step();  // t = 2: gone
  auto r = rows();
  ASSERT_EQ(pids(r), (std::vector<uint32_t>{5}));
  EXPECT_TRUE(r[0].exited);
  EXPECT_EQ(r[0].rates.total_rx, 200u);
  auto c = rows(view(View::connections));
  ASSERT_EQ(c.size(), 1u);
  EXPECT_TRUE(c[0].exited);
  idle_until(40);  // 39 s after its last bytes
  EXPECT_EQ(pids(rows()), (std::vector<uint32_t>{5}));
  EXPECT_EQ(m.totals().processes, 1u);
  step();  // t = 41
  EXPECT_TRUE(rows().empty());
  EXPECT_TRUE(rows(view(View::connections)).empty());
  EXPECT_TRUE(rows(view(View::remotes)).empty());
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
  EXPECT_EQ(r[0].rates.total_tx, 1005u);
  EXPECT_EQ(r[0].rates.total_rx, 57u);
  EXPECT_EQ(r[0].rates.tx[2], 5 / 40.0);
  EXPECT_EQ(r[0].rates.peak_tx, 1000);
  EXPECT_FALSE(r[0].exited);
}

// A: 1900 B at t = 1 only; B: 100 B every second; C receives.
TEST_F(Model, SortByDirectionAndWindow) {
  step({proc(1, "a", 1900, 0), proc(2, "b", 100, 0), proc(3, "c", 10, 5000)});
  for (int i = 0; i < 9; ++i) step({proc(2, "b", 100, 0), proc(3, "c", 10, 50)});  // t = 10
  TopQuery q;
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

TEST_F(Model, TiesByPidThenText) {
  step({proc(30, "x", 100, 0), proc(10, "y", 100, 0), proc(20, "z", 100, 0)},
       {conn(30, 1, v4(10, 0, 0, 3), 1, 5, 0), conn(30, 2, v4(10, 0, 0, 2), 1, 5, 0),
        conn(10, 3, v4(10, 0, 0, 9), 1, 5, 0)});
  EXPECT_EQ(pids(rows()), (std::vector<uint32_t>{10, 20, 30}));
  auto c = rows(view(View::connections));
  EXPECT_EQ(pids(c), (std::vector<uint32_t>{10, 30, 30}));
  EXPECT_EQ(remotes(c), (std::vector<std::string>{"10.0.0.9:1", "10.0.0.2:1", "10.0.0.3:1"}));
}

TEST_F(Model, EqualRatesGoByBytesSinceStartBeforePid) {
  step({proc(20, "z", 100, 0), proc(30, "x", 900, 0)});  // t = 1
  idle_until(49);
  step({proc(20, "z", 100, 0), proc(30, "x", 100, 0)});  // t = 50: same rate in every window
  for (size_t w : {0, 1, 2}) {
    TopQuery q;
    q.window = w;
    EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{30, 20})) << "window " << w;
  }
}

TEST_F(Model, FilterByProgramAddressPortOrPid) {
  busy(*this);
  TopQuery q;
  q.filter = "post";
  EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{4121}));
  q.filter = "alice";  // no such user here
  EXPECT_TRUE(rows(q).empty());
  q.filter = "7";  // a pid matches only whole
  EXPECT_EQ(pids(rows(q)), (std::vector<uint32_t>{7}));
  q.filter = "41";
  EXPECT_TRUE(rows(q).empty());
  q.view = View::connections;
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
  q.view = View::remotes;
  q.filter = "db8";
  EXPECT_EQ(remotes(rows(q)), (std::vector<std::string>{"2001:db8::1"}));
}

// "/1.1.1.1" in the processes view answers "who talks to 1.1.1.1?".
TEST_F(Model, ProcessesMatchThroughTheirConnections) {
  busy(*this);
  TopQuery q;
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
  TopQuery q = view(View::remotes);
  q.filter = "0";
  EXPECT_EQ(remotes(rows(q)), (std::vector<std::string>{"2001:db8::1"}));
}

TEST_F(Model, PortsHidden) {
  busy(*this);
  TopQuery q = view(View::connections);
  q.show_ports = false;
  auto r = rows(q);
  EXPECT_EQ(remotes(r), (std::vector<std::string>{"93.184.216.34", "93.184.216.34", "2001:db8::1",
                                                  "93.184.216.34", "1.1.1.1"}));
  EXPECT_EQ(locals(r), (std::vector<std::string>{"10.0.0.1", "10.0.0.1", "2001:db8::2", "10.0.0.1",
                                                 "10.0.0.1"}));
}

TEST_F(Model, ReverseDnsNamesRemotesOnly) {
  busy(*this);
  int asked = 0;
  TopQuery q = view(View::connections);
  q.name = [&](uint16_t family, const std::array<uint8_t, 16>& a) -> std::optional<std::string> {
    ++asked;
    if (family == AF_INET && a == v4(93, 184, 216, 34)) return "example.com";
    if (family == AF_INET6 && a == kDb6) return "v6.example.net";
    if (a == v4(10, 0, 0, 1)) return "me.local";  // never asked for: local stays numeric
    return std::nullopt;
  };
  auto r = rows(q);
  EXPECT_EQ(remotes(r),
            (std::vector<std::string>{"example.com:80", "example.com:443", "v6.example.net:443",
                                      "example.com:443", "1.1.1.1:53"}));
  EXPECT_EQ(r[0].local, "10.0.0.1:40002");
  EXPECT_EQ(asked, 5);
  q.view = View::remotes;
  EXPECT_EQ(remotes(rows(q)),
            (std::vector<std::string>{"example.com", "v6.example.net", "1.1.1.1"}));
  q.filter = "example.com";
  EXPECT_EQ(remotes(rows(q)), (std::vector<std::string>{"example.com"}));
}

TEST_F(Model, Totals) {
  busy(*this);
  TopTotals t = m.totals();
  EXPECT_EQ(t.rates.tx[0], 3100);
  EXPECT_EQ(t.rates.rx[0], 32000);
  EXPECT_EQ(t.rates.total_tx, 3100u);
  EXPECT_EQ(t.processes, 2u);
  EXPECT_EQ(t.connections, 5u);
  step({proc(7, "curl", 900, 0)});  // t = 2
  t = m.totals();
  EXPECT_EQ(t.rates.tx, (std::array<double, 3>{2000, 2000, 2000}));  // 4000 B over 2 s
  EXPECT_EQ(t.rates.total_tx, 4000u);
  idle_until(42);
  t = m.totals();
  EXPECT_EQ(t.rates.tx, (std::array<double, 3>{0, 0, 0}));
  EXPECT_EQ(t.rates.total_tx, 4000u);
  EXPECT_EQ(t.processes, 0u);
  EXPECT_EQ(t.connections, 0u);
}

}  // namespace
