// Faults around a running netacct: what it counts or runs on goes away
// under it, or its clock jumps. Each is survived with exact counts, or ends
// cleanly (one documented way, nothing left in the kernel):
//  - an interface named with --interface is deleted mid-run (TCX and legacy
//    clsact): dropped after its last bytes, attached again when an interface
//    of that name returns; socket counts exact throughout;
//  - the network namespaces netacct counts sockets in, and the one it runs
//    in, are deleted (their processes killed, `ip netns del`): it goes on,
//    exact, and their rows are not listed again;
//  - hundreds of processes exit the instant after their traffic, while
//    netacct reads /proc about them every 0.1 s: exact and named (a row
//    says `exited` only in a window in which the process moved bytes, and
//    here its exit often falls in the next: process_test.cpp checks the
//    mark with one long window);
//  - the terminal under interactive `top` is closed (SIGHUP, and with
//    SIGHUP ignored the hang-up on its input): it exits 0 within 3 s and
//    leaves nothing loaded;
//  - the wall clock jumps an hour forward and back (libfaketime, monotonic
//    untouched): windows and rates keep to the monotonic clock, bytes exact,
//    timestamps follow the wall clock.
// A cgroup removed under netacct: containers_test.cpp. /proc reads that fail
// (ENOENT, ESRCH, EACCES, short, garbage): tests/unit/procfs_test.cpp.
// stdout a closed pipe or /dev/full: stdout_test.cpp.
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/bpf_objects.hpp"
#include "support/fixture.hpp"
#include "support/tc.hpp"
#include "support/tempdir.hpp"

namespace kt {
namespace {

using json = nlohmann::json;

void expectAllAccounted(const NetacctRun& run, const std::vector<Finished>& truth) {
  for (const auto& t : truth) {
    SCOPED_TRACE(t.comm + " pid " + std::to_string(t.pid));
    expectAccounted(run, t.pid, t.comm, t.counts);
  }
}

// stderr held nothing but the ready line: no warning, no error.
void expectOnlyReadyLine(const NetacctRun& run) {
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1) << run.err;
  EXPECT_EQ(run.err.rfind("netacct: ready", 0), 0u) << run.err;
}

class FaultsTest : public KernelTest {
 protected:
  static Spawn in(const std::string& ns) {
    Spawn s;
    s.netns = ns;
    return s;
  }

  // TCP from `client_ns` to a server on host:port in `server_ns`, `bytes`
  // each way at once; both ends' counts appended to `truth`.
  static void tcpDuplex(const std::string& server_ns, const std::string& host,
                        const std::string& client_ns, uint64_t bytes,
                        std::vector<Finished>& truth) {
    auto server = tcpServer(server_ns, host, "na-flt-tsrv", [bytes](int fd, ChildCtx& ctx) {
      ctx.counts += duplexExchange(fd, bytes);
    });
    auto client = tcpClient(client_ns, server.ep, "na-flt-tcli", [bytes](int fd, ChildCtx& ctx) {
      ctx.counts += duplexExchange(fd, bytes + 7);
    });
    truth.push_back({client.pid(), client.comm(), client.finish()});
    truth.push_back({server.child.pid(), server.child.comm(), server.child.finish()});
  }

  // `count` UDP echoes from `client_ns` to a server on `host` in `server_ns`.
  static void udpEchoes(const std::string& server_ns, const std::string& host,
                        const std::string& client_ns, int count, std::vector<Finished>& truth) {
    auto [server, client] = KernelTest::udpEchoes(server_ns, host, client_ns, count, "na-flt");
    truth.push_back(server);
    truth.push_back(client);
  }
};

// ---- An interface named with --interface is deleted ----

enum class Attach { Auto, Legacy };  // auto: TCX where the kernel has it (not 6.1)
void PrintTo(Attach a, std::ostream* os) { *os << (a == Attach::Auto ? "auto" : "legacy"); }

class FaultsWireTest : public FaultsTest, public ::testing::WithParamInterface<Attach> {};

// nw0 (a veth of the test's, A <-> B) is the only interface netacct watches.
// It is deleted while TCP runs over na0; netacct keeps running without a
// word, its objects on nw0 go with it, and the sockets' bytes stay exact.
// An interface named nw0 made again later (a new index) is attached within
// 3 s and counted. Exit leaves nothing on nw0 and nothing netacct held.
TEST_P(FaultsWireTest, NamedInterfaceDeletedMidRunIsDroppedAndTakenBackWhenItReturns) {
  const bool legacy = GetParam() == Attach::Legacy;
  std::optional<Veth> veth(std::in_place, nsA(), "nw0", "10.213.9.1", nsB(), "nw1", "10.213.9.2");
  NetacctOptions o;
  o.interval = 0.5;
  o.extra = {"--interface", "nw0", "--tc-attach", legacy ? "legacy" : "auto"};
  Netacct na(o, in(nsA()));
  ASSERT_EQ(wireProgsOn(nsA(), "nw0").size(), 2u) << describe(tcProgs(nsA(), "nw0"));
  EXPECT_TRUE(wireProgsOn(nsA(), "na0").empty()) << "only the interface named is watched";
  const bool tcx = !legacy && kernelHasTcx();
  for (const auto& p : wireProgsOn(nsA(), "nw0")) EXPECT_EQ(p.tcx, tcx) << describe({p});
  const BpfIds held = heldBy(na.pid());
  const uint32_t first = ifIndex(nsA(), "nw0");

  std::vector<Finished> truth;
  udpEchoes(nsA(), "10.213.9.1", nsB(), 50, truth);  // over nw0
  // Deleted while a transfer over na0 runs.
  std::thread remove([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    veth.reset();
  });
  tcpDuplex(nsA(), hostA(AF_INET), nsB(), 16 * MiB, truth);
  remove.join();
  na.waitReportLines(na.reportLines() + 2, scaled(10));
  ASSERT_FALSE(na.process().exited()) << "netacct ended when nw0 was deleted:\n"
                                      << na.process().err();

  veth.emplace(nsA(), "nw0", "10.213.9.1", nsB(), "nw1", "10.213.9.2");
  const uint32_t second = ifIndex(nsA(), "nw0");
  ASSERT_TRUE(waitFor([&] { return wireProgsOn(nsA(), "nw0").size() == 2; }, scaledMs(3000)))
      << "the new nw0 not attached within 3 s:" << describe(tcProgs(nsA(), "nw0"));
  udpEchoes(nsA(), "10.213.9.1", nsB(), 50, truth);
  tcpDuplex(nsA(), hostA(AF_INET), nsB(), 1 * MiB, truth);
  na.waitReportLines(na.reportLines() + 1, scaled(10));
  const DevCounters made = devCounters(nsA(), "nw0");  // all the new nw0 ever carried
  const NetacctRun run = na.stop();
  expectOnlyReadyLine(run);
  expectAllAccounted(run, truth);
  expectTotalsExact(run);

  // nw0 under both indexes, the new one with its 50 echoes each way
  // (and at most what it carried).
  std::set<uint64_t> indexes;
  uint64_t tx_packets = 0, rx_packets = 0, tx = 0;
  for (const auto& r : run.reports)
    for (const auto& e : arrayField(r, "interfaces")) {
      EXPECT_EQ(strField(e, "name"), "nw0") << e.dump();
      indexes.insert(u64Field(e, "index"));
      if (u64Field(e, "index") != second) continue;
      tx += u64Field(e, "tx_wire_bytes");
      tx_packets += u64Field(e, "tx_packets");
      rx_packets += u64Field(e, "rx_packets");
    }
  EXPECT_EQ(indexes, (std::set<uint64_t>{first, second}));
  EXPECT_GE(tx_packets, 50u);
  EXPECT_GE(rx_packets, 50u);
  EXPECT_LE(tx, made.tx_bytes);

  EXPECT_TRUE(wireProgsOn(nsA(), "nw0").empty()) << describe(tcProgs(nsA(), "nw0"));
  EXPECT_TRUE(waitGone(held, scaled(3)).empty()) << describe(stillLoaded(held));
}

INSTANTIATE_TEST_SUITE_P(Faults, FaultsWireTest, ::testing::Values(Attach::Auto, Attach::Legacy),
                         [](const auto& info) {
                           return std::string(info.param == Attach::Auto ? "auto" : "legacy");
                         });

// ---- Network namespaces deleted ----

// Every connections[] entry of these reports in one of `netns`.
size_t connectionsIn(const std::vector<json>& reports, const std::set<uint64_t>& netns) {
  size_t n = 0;
  for (const auto& r : reports)
    for (const auto& c : arrayField(r, "connections")) n += netns.count(u64Field(c, "netns"));
  return n;
}

// netacct runs in namespace C of a second pair (C, D). Traffic between C
// and D, two of its processes killed while holding a connection, then both
// namespaces deleted: D dies with its last process, taking the veth and so
// C's only interface; C lives on, unnamed, because netacct is in it. netacct
// goes on without a word and counts A <-> B exactly; no connection of C or
// D is listed after the window of their deletion; exit 0.
TEST_F(FaultsTest, NamespacesDeletedUnderNetacctAndAroundIt) {
  std::optional<NetnsPair> cd(std::in_place, "cd");
  const std::string c = cd->a(), d = cd->b();
  const std::set<uint64_t> gone = {netnsInode(c), netnsInode(d)};
  NetacctOptions o;
  o.interval = 0.5;
  Netacct na(o, in(c));
  std::vector<Finished> truth;
  tcpDuplex(c, hostA(AF_INET), d, 2 * MiB, truth);

  // A connection C <-> D whose ends move 300 KiB, say so, and wait to be killed.
  constexpr uint64_t kHeld = 300 * KiB;
  auto server = tcpServer(c, hostA(AF_INET), "na-flt-held", [](int fd, ChildCtx& ctx) {
    ctx.post(0, recvExactly(fd, kHeld));
    pause();
  });
  Child client(d, "na-flt-held", [to = server.ep](ChildCtx& ctx) {
    int fd = tcpConnect(to);
    ctx.post(sendBytes(fd, kHeld), 0);
    pause();
  });
  const Child::Post sent = client.nextPost(), received = server.child.nextPost();
  truth.push_back({client.pid(), "na-flt-held", {sent.first, 0}});
  truth.push_back({server.child.pid(), "na-flt-held", {0, received.second}});
  for (pid_t pid : {client.pid(), server.child.pid()}) kill(pid, SIGKILL);
  na.waitReportLines(na.reportLines() + 1, scaled(10));

  cd.reset();  // `ip netns del` of both
  na.waitReportLines(na.reportLines() + 2, scaled(10));
  ASSERT_FALSE(na.process().exited()) << "netacct ended when its namespace was deleted:\n"
                                      << na.process().err();
  const size_t before_ab = na.reportLines();
  tcpDuplex(nsA(), hostA(AF_INET), nsB(), 2 * MiB, truth);
  udpEchoes(nsA(), hostA(AF_INET), nsB(), 100, truth);
  na.waitReportLines(na.reportLines() + 1, scaled(10));
  const NetacctRun run = na.stop();
  expectOnlyReadyLine(run);
  expectAllAccounted(run, truth);
  expectTotalsExact(run);
  ASSERT_GT(run.reports.size(), before_ab);
  const std::vector<json> before(run.reports.begin(), run.reports.begin() + long(before_ab));
  const std::vector<json> after(run.reports.begin() + long(before_ab), run.reports.end());
  EXPECT_GT(connectionsIn(before, gone), 0u);
  EXPECT_EQ(connectionsIn(after, gone), 0u) << "rows of deleted namespaces listed again";
  for (const auto& r : after)
    EXPECT_TRUE(arrayField(r, "interfaces").empty()) << "C's na0 went with D: " << r.dump();
}

// ---- Processes that exit the instant after their traffic ----

// 400 processes each exchange one datagram and exit at once, while netacct
// (0.1 s windows) asks /proc about each as it ends: each is one row with
// exactly its bytes, under its name.
TEST_F(FaultsTest, ProcessesExitingTheInstantAfterTheirTrafficAreExact) {
  NetacctOptions o;
  o.interval = 0.1;
  Netacct na(o);
  const std::vector<Finished> truth =
      shortLivedUdpProcesses(nsA(), hostA(AF_INET), nsB(), "na-flt-exit", 400, 40, false);
  na.waitReportLines(na.reportLines() + 2, scaled(10));
  const NetacctRun run = na.stop();
  expectOnlyReadyLine(run);
  expectTotalsExact(run);
  expectEachExact(run, truth, false);
}

// ---- The terminal under `top` is closed ----

// netacct top on a pseudo-terminal of the test's (its controlling terminal,
// in a session of its own, in namespace A), read until it drew a frame.
class PtyTop {
 public:
  explicit PtyTop(const std::string& netns, bool ignore_hup) {
    winsize ws{.ws_row = 30, .ws_col = 120, .ws_xpixel = 0, .ws_ypixel = 0};
    int slave = -1;
    if (openpty(&master_, &slave, nullptr, nullptr, &ws) != 0) throw std::runtime_error("openpty");
    const std::string bin = netacctBinary();  // before fork: no allocation after it
    pid_ = fork();
    if (pid_ == 0) {
      close(master_);
      setsid();
      ioctl(slave, TIOCSCTTY, 0);
      for (int fd = 0; fd < 3; ++fd) dup2(slave, fd);
      if (slave > 2) close(slave);
      try {
        enterNetns(netns);
      } catch (...) {
        _exit(127);
      }
      signal(SIGHUP, ignore_hup ? SIG_IGN : SIG_DFL);
      const std::string backend = testBackend();
      execl(bin.c_str(), "netacct", "top", "--delay", "0.2", "--backend", backend.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(slave);
  }
  ~PtyTop() {
    if (master_ >= 0) close(master_);
    if (!reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  PtyTop(const PtyTop&) = delete;
  PtyTop& operator=(const PtyTop&) = delete;

  pid_t pid() const { return pid_; }
  // Reads the terminal until `what` was drawn after the ready line.
  bool waitDrawn(const std::string& what, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const size_t ready = screen_.find("netacct: ready");
      if (ready != std::string::npos && screen_.find(what, ready) != std::string::npos) return true;
      pollfd p{.fd = master_, .events = POLLIN, .revents = 0};
      if (poll(&p, 1, 50) > 0) {
        char buf[4096];
        const ssize_t n = read(master_, buf, sizeof buf);
        if (n <= 0) return false;
        screen_.append(buf, size_t(n));
      }
    }
    return false;
  }
  const std::string& screen() const { return screen_; }
  void hangUp() { close(std::exchange(master_, -1)); }
  std::optional<int> waitExit(std::chrono::milliseconds timeout) {
    int status = 0;
    const bool done = waitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, timeout);
    if (!done) return std::nullopt;
    reaped_ = true;
    return status;
  }

 private:
  int master_ = -1;
  pid_t pid_ = -1;
  bool reaped_ = false;
  std::string screen_;
};

// utime + stime of `pid` in seconds, from /proc/PID/stat.
double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i >= 14) ticks += std::stod(field);
  return ticks / double(sysconf(_SC_CLK_TCK));
}

class FaultsTerminalTest : public FaultsTest, public ::testing::WithParamInterface<bool> {};

// The terminal's master side closed (the terminal emulator, tmux or the ssh
// session went away): the kernel hangs the terminal up, sending SIGHUP,
// which ends top like a stop signal; where SIGHUP is ignored (nohup), the
// hang-up on its input does. Either way it exits 0 within 3 s and everything
// it loaded is gone; were it to stay, it must not spin (CPU checked).
TEST_P(FaultsTerminalTest, ClosingTheTerminalEndsTopWithNothingLeft) {
  const bool ignore_hup = GetParam();
  PtyTop top(nsA(), ignore_hup);
  ASSERT_TRUE(top.waitDrawn("\x1b[K", scaled(20))) << "no frame drawn:\n" << top.screen();
  const BpfIds held = heldBy(top.pid());
  ASSERT_FALSE(held.empty());
  top.hangUp();
  const auto t0 = std::chrono::steady_clock::now();
  std::optional<int> status = top.waitExit(scaled(3));
  if (!status) {
    const double cpu0 = cpuSeconds(top.pid());
    std::this_thread::sleep_for(std::chrono::seconds(1));
    ADD_FAILURE() << "netacct top still runs 3 s after its terminal closed, using "
                  << cpuSeconds(top.pid()) - cpu0 << " s of CPU a second";
    return;
  }
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << "status " << *status << " after " << took << " s";
  EXPECT_TRUE(waitGone(held, scaled(3)).empty()) << describe(stillLoaded(held));
  EXPECT_TRUE(wireProgsOn(nsA(), "na0").empty()) << describe(tcProgs(nsA(), "na0"));
}

INSTANTIATE_TEST_SUITE_P(Faults, FaultsTerminalTest, ::testing::Bool(), [](const auto& info) {
  return std::string(info.param ? "SighupIgnored" : "Sighup");
});

// ---- The wall clock jumps ----

// Why libfaketime cannot be preloaded into the netacct under test, or "".
std::string preloadRefused() {
  std::ifstream f(netacctBinary(), std::ios::binary);
  const std::string bin((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Elf64_Ehdr eh{};
  if (bin.size() < sizeof eh) return "cannot read " + netacctBinary();
  std::memcpy(&eh, bin.data(), sizeof eh);
  bool dynamic = false;
  for (size_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    const size_t at = eh.e_phoff + i * eh.e_phentsize;
    if (at + sizeof ph > bin.size()) break;
    std::memcpy(&ph, bin.data() + at, sizeof ph);
    dynamic = dynamic || ph.p_type == PT_INTERP;
  }
  if (!dynamic) return "netacct is static (the VM tier's build): nothing to preload into";
  if (bin.find("__asan_init") != std::string::npos)
    return "netacct is built with ASan, whose start-up and libfaketime's recurse into each other";
  return "";
}

std::optional<std::string> libfaketime() {
  for (const char* p : {"/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                        "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1"})
    if (std::filesystem::exists(p)) return p;
  return std::nullopt;
}

double wallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double timestamp(const json& r, const char* key) {
  const auto t = parseRfc3339(strField(r, key));
  EXPECT_TRUE(t.has_value()) << key << " of " << r.dump();
  return t.value_or(0);
}

// netacct's wall clock (libfaketime, its offset read from a file at every
// call; CLOCK_MONOTONIC untouched) jumps an hour forward, then back. Every
// full window is still 1 s (interval_s, from the monotonic clock) and every
// rate its bytes over that; bytes are exact across both jumps; the
// timestamps follow the wall clock: an hour ahead between the jumps, and
// the two windows holding a jump span it (end - start = interval_s +- 1 h).
TEST_F(FaultsTest, WallClockJumpsMoveTimestampsNotWindowsOrBytes) {
  const auto lib = libfaketime();
  if (!lib) KT_SKIP("libfaketime is not installed (Debian package faketime)");
  if (const std::string why = preloadRefused(); !why.empty()) KT_SKIP(why);
  TempDir dir;
  const std::string offset = dir.write("offset", "+0\n");
  Spawn how = in(nsA());
  how.env = {"LD_PRELOAD=" + *lib, "FAKETIME_TIMESTAMP_FILE=" + offset, "FAKETIME_NO_CACHE=1",
             "DONT_FAKE_MONOTONIC=1"};
  NetacctOptions o;
  o.interval = 1.0;
  Netacct na(o, how);
  std::vector<Finished> truth;
  tcpDuplex(nsA(), hostA(AF_INET), nsB(), 1 * MiB, truth);
  na.waitReportLines(na.reportLines() + 1, scaled(10));

  dir.write("offset", "+3600\n");
  udpEchoes(nsA(), hostA(AF_INET), nsB(), 100, truth);
  na.waitReportLines(na.reportLines() + 2, scaled(10));
  const double ahead_seen = wallNow();
  const size_t ahead_line = na.reportLines() - 1;
  tcpDuplex(nsA(), hostA(AF_INET), nsB(), 1 * MiB, truth);

  dir.write("offset", "+0\n");
  udpEchoes(nsA(), hostA(AF_INET), nsB(), 100, truth);
  na.waitReportLines(na.reportLines() + 2, scaled(10));
  const NetacctRun run = na.stop();
  const double stopped = wallNow();
  expectOnlyReadyLine(run);
  expectAllAccounted(run, truth);
  expectTotalsExact(run);

  ASSERT_GT(run.reports.size(), ahead_line);
  const double ahead_end = timestamp(run.reports[ahead_line], "end");
  EXPECT_NEAR(ahead_end - ahead_seen, 3600, 2 * timeoutScale()) << "the wall clock an hour ahead";
  EXPECT_NEAR(timestamp(run.reports.back(), "end"), stopped, 2 * timeoutScale())
      << "the wall clock back";
  int forward = 0, back = 0;
  for (size_t i = 0; i < run.reports.size(); ++i) {
    const json& r = run.reports[i];
    const double interval = numField(r, "interval_s");
    if (i + 1 < run.reports.size()) {  // the last is the partial window of the stop
      EXPECT_NEAR(interval, 1.0, 0.25 * timeoutScale()) << "window " << i << ": " << r.dump();
    }
    const double spanned = timestamp(r, "end") - timestamp(r, "start") - interval;
    if (std::abs(spanned - 3600) < 2)
      ++forward;
    else if (std::abs(spanned + 3600) < 2)
      ++back;
    else
      EXPECT_NEAR(spanned, 0, 0.01) << "window " << i << ": " << r.dump();
    for (const auto& p : arrayField(r, "processes")) {
      const double want = double(u64Field(p, "tx_bytes")) / interval;
      EXPECT_NEAR(numField(p, "tx_rate"), want, want * 1e-6 + 1e-9) << p.dump();
    }
  }
  EXPECT_EQ(forward, 1);
  EXPECT_EQ(back, 1);
}

}  // namespace
}  // namespace kt
