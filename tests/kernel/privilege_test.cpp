// Least privilege: once netacct is ready (every program loaded and
// attached, serve's port bound), /proc/PID/status of every one of its
// threads shows exactly the capabilities its running phase needs
// (user/kernel/privilege.hpp) in the effective, permitted and bounding sets,
// none inheritable or ambient, and NoNewPrivs 1; and everything still works
// with only those: the counts stay exact, another user's executable path is
// still read (CAP_SYS_PTRACE), serve still scrapes (also as nobody, with
// --user), a legacy TC filter is still removed at exit (CAP_NET_ADMIN), and
// an interface that appears later is still attached. `netacct doctor` shows
// a running netacct's capabilities by name.
//
// The expected sets are written out here from the kernel's numbers, not
// taken from the code under test. Suites named Serve* are left out of the
// static qemu guests (no exporter there).
#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "support/bpf_objects.hpp"
#include "support/cgroups.hpp"
#include "support/fixture.hpp"
#include "support/http.hpp"
#include "support/serve.hpp"
#include "support/tc.hpp"

namespace kt {
namespace {

using json = nlohmann::json;

// CAP_DAC_READ_SEARCH (2), CAP_NET_ADMIN (12), CAP_SYS_PTRACE (19).
constexpr uint64_t kDacReadSearch = 1ull << 2, kNetAdmin = 1ull << 12, kSysPtrace = 1ull << 19;
// As root without the wire layer (--no-wire): other users' /proc/PID/exe.
constexpr uint64_t kNoWire = kSysPtrace;
// With it: attaching to interfaces that appear later, removing legacy filters.
constexpr uint64_t kWire = kNoWire | kNetAdmin;
// As nobody (serve --user): root's container runtime state files too.
constexpr uint64_t kNobodyNoWire = kNoWire | kDacReadSearch;
constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

// "Name:\tvalue" lines of a /proc status file.
std::map<std::string, std::string> statusFields(const std::string& path) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    out[line.substr(0, colon)] = v;
  }
  return out;
}

std::string hex16(uint64_t mask) {
  char buf[17];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(mask));
  return buf;
}

// Every thread of `pid` holds exactly `mask` (effective, permitted and
// bounding), nothing inheritable or ambient, with no_new_privs set.
void expectHolds(pid_t pid, uint64_t mask) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  int threads = 0;
  for (const auto& t : std::filesystem::directory_iterator(dir)) {
    auto f = statusFields(t.path() / "status");
    if (f.empty()) continue;  // a thread that just ended
    ++threads;
    SCOPED_TRACE("thread " + t.path().filename().string() + " of netacct " + std::to_string(pid));
    EXPECT_EQ(f["CapEff"], hex16(mask));
    EXPECT_EQ(f["CapPrm"], hex16(mask));
    EXPECT_EQ(f["CapBnd"], hex16(mask));
    EXPECT_EQ(f["CapInh"], hex16(0));
    EXPECT_EQ(f["CapAmb"], hex16(0));
    EXPECT_EQ(f["NoNewPrivs"], "1");
  }
  EXPECT_GE(threads, 1) << dir;
}

std::string selfExe() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::system_error(errno, std::generic_category(), "readlink /proc/self/exe");
  return std::string(buf, size_t(n));
}

// Becomes nobody:nogroup (a fork of this root test process): not dumpable
// any more, so its /proc/PID/exe needs CAP_SYS_PTRACE of whoever reads it.
void becomeNobody() {
  if (setgroups(0, nullptr) != 0 || setresgid(kNogroup, kNogroup, kNogroup) != 0 ||
      setresuid(kNobody, kNobody, kNobody) != 0)
    throw std::system_error(errno, std::generic_category(), "becoming nobody");
}

// A TCP client in `ns` running as nobody: sends `bytes` to `to`; with
// `hold`, then posts and waits for go() before closing (alive meanwhile).
Child nobodySender(const std::string& ns, const std::string& comm, const Endpoint& to,
                   uint64_t bytes, bool hold) {
  return Child(ns, comm, [to, bytes, hold](ChildCtx& ctx) {
    becomeNobody();
    int fd = tcpConnect(to);
    ctx.counts.tx += sendBytes(fd, bytes);
    if (hold) {
      ctx.post(1);
      ctx.waitGo();
    }
    close(fd);
  });
}

class PrivilegeTest : public KernelTest {
 protected:
  Server receiver(const std::string& comm) {
    return tcpServerA(AF_INET, comm, [](int fd, ChildCtx& ctx) { ctx.counts.rx += recvToEof(fd); });
  }
};

// report: exactly the two /proc capabilities, and with them alone the
// counts stay exact and another user's (nobody's) executable is named.
TEST_F(PrivilegeTest, ReportKeepsOnlyWhatItNeedsAndStillNamesAnotherUsersProgram) {
  Netacct na;
  expectHolds(na.pid(), kNoWire);
  auto server = receiver("na-pv-srv");
  Child client = nobodySender(nsB(), "na-pv-nobody", server.ep, 300007, true);
  client.nextPost();
  na.waitReportLines(na.reportLines() + 2, scaled(10));  // a whole window saw it alive
  client.go();
  const Counts c = client.finish(), s = server.child.finish();
  NetacctRun run = na.stop();
  ASSERT_TRUE(run.exitedZero()) << run.describe();
  expectAccounted(run, client, c);
  expectAccounted(run, server.child, s);
  EXPECT_EQ(s.rx, c.tx);
  const std::string exe = selfExe();
  int entries = 0;
  for (const auto& r : run.reports)
    for (const auto& p : arrayField(r, "processes")) {
      if (u64Field(p, "pid") != uint64_t(client.pid())) continue;
      ++entries;
      EXPECT_EQ(p["exe"], exe) << p.dump();
      EXPECT_EQ(p["uid"], kNobody) << p.dump();
      EXPECT_EQ(p["user"], "nobody") << p.dump();
    }
  EXPECT_GT(entries, 0) << describePid(run, client.pid());
}

// top --batch: the same set on every thread (the reverse DNS thread starts
// after the drop), and it goes on drawing frames.
TEST_F(PrivilegeTest, TopBatchKeepsOnlyWhatItNeedsOnEveryThread) {
  Process top({"top", "--batch", "--delay", "0.3", "--backend", testBackend()});
  ASSERT_TRUE(top.waitOutput(
      [](const std::string&, const std::string& err) {
        return err.find("netacct: ready") != std::string::npos;
      },
      scaled(20)))
      << top.err();
  expectHolds(top.pid(), kNoWire);
  const size_t before = top.out().size();
  EXPECT_TRUE(top.waitOutput(
      [&](const std::string& out, const std::string&) { return out.size() > before + 10; },
      scaled(5)))
      << "no frame after the drop: " << top.err();
  kill(top.pid(), SIGTERM);
  auto status = top.waitExit(scaled(10));
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << top.err();
}

// The wire layer keeps CAP_NET_ADMIN, and needs it: with --tc-attach legacy
// on A's na0, SIGTERM removes netacct's filters itself (its guard process,
// with CAP_NET_ADMIN alone, only acts when netacct dies without doing so;
// WireAttachTest.NothingLeftBehindHoweverItEnds kills netacct), and an
// interface that appears while it runs is still attached.
TEST_F(PrivilegeTest, LegacyFiltersAreStillRemovedAtSigtermAndLateInterfacesAttached) {
  NetacctOptions o;
  o.extra = {"--tc-attach", "legacy"};
  Netacct na(o, Spawn{.netns = nsA()});
  expectHolds(na.pid(), kWire);
  auto wireProgs = [&](const std::string& dev) {
    std::vector<TcProg> progs = tcProgs(nsA(), dev);
    std::erase_if(progs, [](const TcProg& p) {
      return p.name != "wire_ingress_tc" && p.name != "wire_egress_tc";
    });
    return progs;
  };
  EXPECT_EQ(wireProgs("na0").size(), 2u) << describe(tcProgs(nsA(), "na0"));
  // Its guard, which only removes filters if netacct dies, keeps
  // CAP_NET_ADMIN alone.
  const pid_t guard = guardOf(na.pid());
  ASSERT_GT(guard, 0) << "no netacct-guard child of netacct " << na.pid();
  expectHolds(guard, kNetAdmin);
  runIp({"-n", nsA(), "link", "add", "na-pv0", "type", "veth", "peer", "name", "na-pv1"});
  runIp({"-n", nsA(), "link", "set", "na-pv0", "up"});
  const auto deadline = std::chrono::steady_clock::now() + scaled(10);
  while (wireProgs("na-pv0").size() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(wireProgs("na-pv0").size(), 2u)
      << "an interface that came up later: " << describe(tcProgs(nsA(), "na-pv0"));
  NetacctRun run = na.stop(SIGTERM);
  EXPECT_TRUE(run.exitedZero()) << run.describe();
  for (const char* dev : {"na0", "na-pv0"})
    EXPECT_TRUE(wireProgs(dev).empty())
        << "left on " << dev << ": " << describe(tcProgs(nsA(), dev));
}

// doctor names a running netacct's capabilities, in JSON and in text.
TEST_F(PrivilegeTest, DoctorShowsWhatARunningNetacctHolds) {
  Netacct na;
  Process doctor({"doctor", "--format", "json"});
  ASSERT_TRUE(doctor.waitExit(scaled(30)));
  const json j = json::parse(doctor.out());
  ASSERT_TRUE(j.contains("running") && j["running"].is_array()) << j.dump();
  const json* mine = nullptr;
  for (const auto& r : j["running"])
    if (r["pid"] == na.pid()) mine = &r;
  ASSERT_NE(mine, nullptr) << "netacct " << na.pid() << " not listed: " << j["running"].dump();
  const json names = {"CAP_SYS_PTRACE"};
  EXPECT_EQ((*mine)["capabilities"]["effective"], names) << mine->dump();
  EXPECT_EQ((*mine)["capabilities"]["permitted"], names) << mine->dump();
  EXPECT_EQ((*mine)["capabilities"]["bounding"], names) << mine->dump();
  EXPECT_EQ((*mine)["no_new_privs"], true);
  EXPECT_EQ((*mine)["user"], "root");
  EXPECT_EQ((*mine)["uid"], 0);
  EXPECT_EQ((*mine)["command"].get<std::string>().rfind(netacctBinary() + " report ", 0),
            0u)
      << mine->dump();
  for (const auto& r : j["running"]) EXPECT_NE(r["pid"], doctor.pid()) << "doctor lists itself";

  Process text({"doctor"});
  ASSERT_TRUE(text.waitExit(scaled(30)));
  const std::string out = text.out(), pid = std::to_string(na.pid());
  const std::string block =
      "running netacct     PID " + pid + ", user root: " + netacctBinary() + " report ";
  auto at = out.find(block);
  ASSERT_NE(at, std::string::npos) << out;
  std::istringstream rest(out.substr(out.find('\n', at) + 1));
  std::string line;
  std::vector<std::string> lines;
  while (lines.size() < 4 && std::getline(rest, line)) lines.push_back(line);
  EXPECT_EQ(lines, (std::vector<std::string>{
                       "  effective         CAP_SYS_PTRACE", "  permitted         CAP_SYS_PTRACE",
                       "  bounding          CAP_SYS_PTRACE", "  no_new_privs      yes"}))
      << out;
}

// serve: its HTTP threads start after the drop; a scrape still gives a
// child's bytes exactly. As nobody (--user): uid and gid are nobody's, no
// supplementary groups, the same capabilities, exact counts, and exit
// leaves nothing loaded.
class ServePrivilegeTest : public PrivilegeTest {
 protected:
  // Scrapes until the program's series is `want` (or the time is up).
  static double waitSeries(uint16_t port, const std::string& series, double want) {
    double got = -1;
    const auto deadline = std::chrono::steady_clock::now() + scaled(10);
    do {
      auto m = scrape(port);
      auto it = m.find(series);
      got = it == m.end() ? -1 : it->second;
      if (got == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } while (std::chrono::steady_clock::now() < deadline);
    return got;
  }
  static std::string series(const std::string& program, const std::string& user) {
    return "netacct_program_payload_bytes_total{program=\"" + program + "\",user=\"" + user +
           "\",direction=\"tx\"}";
  }
  // Both runs: a client as nobody sends; serve's series is its bytes.
  void expectScrapesExactly(uint16_t port, const std::string& comm) {
    auto server = receiver("na-pv-ssrv");
    Child client = nobodySender(nsB(), comm, server.ep, 200003, false);
    const Counts c = client.finish(), s = server.child.finish();
    EXPECT_EQ(waitSeries(port, series(comm, "nobody"), double(c.tx)), double(c.tx));
    EXPECT_EQ(s.rx, c.tx);
  }
};

TEST_F(ServePrivilegeTest, ServeKeepsOnlyWhatItNeedsOnEveryThreadAndScrapesExactly) {
  const uint16_t port = freeLoopbackPort();
  auto na = startServe(port);
  expectHolds(na->pid(), kNoWire);
  expectScrapesExactly(port, "na-pv-scli");
}

TEST_F(ServePrivilegeTest, ServeAsNobodyScrapesExactlyAndLeavesNothingLoaded) {
  const uint16_t port = freeLoopbackPort();
  const BpfIds before = allLoaded();
  auto na = startServe(port, {"--user", "nobody"});
  auto f = statusFields("/proc/" + std::to_string(na->pid()) + "/status");
  EXPECT_EQ(f["Uid"], "65534\t65534\t65534\t65534");
  EXPECT_EQ(f["Gid"], "65534\t65534\t65534\t65534");
  EXPECT_EQ(f["Groups"], "");
  expectHolds(na->pid(), kNobodyNoWire);
  const BpfIds held = heldBy(na->pid()).minus(before);
  EXPECT_FALSE(held.empty()) << "netacct holds no BPF object of its own";
  expectScrapesExactly(port, "na-pv-ucli");
  kill(na->pid(), SIGTERM);
  auto status = na->waitExit(scaled(10));
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << na->err();
  const BpfIds left = waitGone(held, scaled(3));
  EXPECT_TRUE(left.empty()) << "still loaded: " << describe(left);
}

// As nobody, a container is still named from its runtime's state file in
// a root-only directory (mode 0700, as /var/lib/docker's are): that read is
// what CAP_DAC_READ_SEARCH is kept for.
TEST_F(ServePrivilegeTest, ServeAsNobodyStillNamesContainersFromRootOnlyStateFiles) {
  if (!cgroup2Mount()) KT_SKIP("cgroup v2 is not mounted");
  RuntimeFixtures runtimes;
  const std::string id = randomContainerId();
  runtimes.docker(id, "na-pv-web");
  struct stat st {};
  ASSERT_EQ(stat(runtimes.path().c_str(), &st), 0);
  ASSERT_EQ(st.st_mode & 0777, 0700u) << "the state files' directory must be root's alone";
  CgroupTree tree;
  const Cgroup group = tree.make("system.slice/docker-" + id + ".scope");
  const uint16_t port = freeLoopbackPort();
  auto na = startServe(port, {"--user", "nobody", "--containers"}, Spawn{.env = runtimes.env()});
  auto server = tcpServerA(AF_INET, "na-pv-ctr", [&group](int fd, ChildCtx& ctx) {
    enterCgroup(group);
    ctx.counts.rx += recvToEof(fd);
  });
  auto client = tcpClientB(server.ep, "na-pv-peer",
                           [](int fd, ChildCtx& ctx) { ctx.counts.tx += sendBytes(fd, 123457); });
  client.finish();
  const Counts s = server.child.finish();
  const std::string series =
      "netacct_container_payload_bytes_total{container=\"na-pv-web\",runtime=\"docker\","
      "direction=\"rx\"}";
  EXPECT_EQ(waitSeries(port, series, double(s.rx)), double(s.rx)) << "no series " << series;
}

}  // namespace
}  // namespace kt
