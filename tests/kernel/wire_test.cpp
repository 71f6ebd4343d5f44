// The wire layer: `netacct report` attaches a TC classifier (wire_ingress_tc,
// wire_egress_tc) to the interfaces of its own network namespace and reports
// their wire bytes and packets in interfaces[]. Ground truth is the kernel's:
// the interface's own counters (IFLA_STATS64, which veth keeps from the same
// skb->len netacct counts), and what rtnetlink and bpf(2) say is attached to
// its TC hooks (support/tc.hpp). netacct always runs inside the test's
// namespace A (Spawn::netns), so it attaches only to interfaces the test
// made, never to the machine's.
//
// Each attach mode the kernel has is run: TCX links (Linux >= 6.6) and
// legacy clsact filters. Where the kernel has no TCX (the qemu tier's 6.1),
// `--tc-attach tcx` must be refused in one line instead; which kernel this
// is, the test asks the kernel (support/tc.hpp kernelHasTcx), not uname.
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
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
#include "support/wire_check.hpp"

namespace kt {
namespace {

using json = nlohmann::json;

size_t lineCount(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

class WireTest : public KernelTest {
 protected:
  Spawn inA() const {
    Spawn s;
    s.netns = nsA();
    return s;
  }

  // `netacct report` (JSON, windows of `interval` s) in namespace A, ready.
  std::unique_ptr<Netacct> startInA(Attach a, std::vector<std::string> wire, double interval = 1.0,
                                    std::vector<std::string> env = {}) {
    NetacctOptions o;
    o.interval = interval;
    o.extra = std::move(wire);
    o.extra.insert(o.extra.end(), {"--tc-attach", attachName(a)});
    Spawn s = inA();
    s.env = std::move(env);
    return std::make_unique<Netacct>(o, s);
  }

  // netacct's two programs are on `dev`, attached the way `tcx` says and
  // held by `pid` (a TCX link by its fd, a filter's program by netacct's fd).
  void expectAttached(const std::string& dev, bool tcx, pid_t pid) {
    SCOPED_TRACE("netacct's programs on " + dev);
    const std::vector<TcProg> all = tcProgs(nsA(), dev), wire = wireProgsOn(nsA(), dev);
    const BpfIds held = heldBy(pid);
    ASSERT_EQ(wire.size(), 2u) << describe(all);
    for (const auto& p : wire) {
      EXPECT_EQ(p.name, p.dir == TcDir::ingress ? "wire_ingress_tc" : "wire_egress_tc")
          << describe(all);
      EXPECT_EQ(p.tcx, tcx) << describe(all);
      EXPECT_TRUE(held.progs.count(p.prog_id)) << "not netacct's program: " << describe(all);
      if (p.tcx) {
        EXPECT_TRUE(held.links.count(p.link_id)) << "not netacct's link" << describe(all);
        continue;
      }
      EXPECT_EQ(p.kind, "bpf") << describe(all);
      EXPECT_EQ(p.handle, kNetacctHandle) << describe(all);
      EXPECT_TRUE(p.prio >= kNetacctFirstPrio && p.prio < kNetacctFirstPrio + kNetacctPrios)
          << describe(all);
    }
  }

  // Nothing of netacct's on `dev`, allowing a killed netacct's guard `wait`.
  void expectNoneOn(const std::string& dev, std::chrono::milliseconds wait) {
    const bool none = waitFor([&] { return wireProgsOn(nsA(), dev).empty(); }, wait);
    EXPECT_TRUE(none) << "left on " << dev << ":" << describe(tcProgs(nsA(), dev));
  }

  // Bytes both ways over na0: TCP in both directions at once, then, once
  // `na` has printed another report (so the sum spans windows), 300 UDP
  // echoes (1..1400 bytes) from B to A. Returns A's payload.
  Counts moveTraffic(Netacct& na) {
    auto tcp = tcpServerA(AF_INET, "na-wire-tsrv",
                          [](int fd, ChildCtx& ctx) { ctx.counts += duplexExchange(fd, 3 * MiB); });
    auto tcpClient = tcpClientB(tcp.ep, "na-wire-tcli", [](int fd, ChildCtx& ctx) {
      ctx.counts += duplexExchange(fd, 2 * MiB + 7);
    });
    Counts a = tcp.child.finish();
    tcpClient.finish();
    na.waitReportLines(na.reportLines() + 1, scaled(10));
    a += udpExchange(nsA(), hostA(AF_INET), nsB(), 300);
    return a;
  }

  // `count` UDP echoes from a client in `client_ns` to a server on `host` in
  // `server_ns`; returns the server's payload.
  static Counts udpExchange(const std::string& server_ns, const std::string& host,
                            const std::string& client_ns, int count) {
    return udpEchoes(server_ns, host, client_ns, count, "na-wire").first.counts;
  }

  // On a kernel without TCX, `--tc-attach tcx` exits non-zero with one line
  // on stderr that names TCX, leaving nothing; true when this was that case
  // (the calling test has nothing else to run here).
  bool tcxRefusedHere(Attach a) {
    if (a != Attach::Tcx || kernelHasTcx()) return false;
    const BpfIds before = allLoaded();
    Process p({"report", "--interval", "1", "--format", "json", "--backend", testBackend(),
               "--interface", "na0", "--tc-attach", "tcx"},
              inA());
    const auto status = p.waitExit(scaled(20));
    EXPECT_TRUE(status && WIFEXITED(*status) && WEXITSTATUS(*status) != 0)
        << "--tc-attach tcx without TCX must fail; stderr:\n"
        << p.err();
    const std::string err = p.err();
    EXPECT_EQ(lineCount(err), 1u) << err;
    EXPECT_EQ(err.rfind("netacct: ", 0), 0u) << err;
    EXPECT_NE(err.find("TCX"), std::string::npos) << err;
    EXPECT_EQ(p.out(), "");
    expectNoneOn("na0", std::chrono::milliseconds(0));
    EXPECT_TRUE(waitGone(wireOrphansSince(before), scaled(3)).empty());
    return true;
  }
};

class WireAttachTest : public WireTest, public ::testing::WithParamInterface<Attach> {};

// netacct's wire bytes for na0, summed over every report (0.2 s windows),
// are what na0's own counters moved: at least from just after netacct was
// ready to just before it was stopped, at most from before it started to
// after it exited (see Around). Its packets are segments, so more than the
// device's (which counts a GSO packet once). Only na0 is listed, with its
// index and the namespace's inode.
TEST_P(WireAttachTest, InterfaceTotalsEqualTheKernelsCounters) {
  if (tcxRefusedHere(GetParam())) return;
  const DevCounters start = devCounters(nsA(), "na0");
  auto na = startInA(GetParam(), {"--interface", "na0"}, 0.2);
  expectAttached("na0", usesTcx(GetParam()), na->pid());
  const DevCounters ready = devCounters(nsA(), "na0");
  const Counts payload = moveTraffic(*na);
  const DevCounters stopping = devCounters(nsA(), "na0");
  const NetacctRun run = na->stop();
  const Around around{minus(stopping, ready), minus(devCounters(nsA(), "na0"), start)};
  ASSERT_GE(around.inner.tx_bytes, payload.tx) << "sanity: the traffic crossed na0";
  ASSERT_GE(around.inner.rx_bytes, payload.rx) << "sanity: the traffic crossed na0";
  const IfaceSum s = ifaceSum(run.reports, "na0");
  expectWithin(s.tx, &DevCounters::tx_bytes, around, "tx_wire_bytes of na0");
  expectWithin(s.rx, &DevCounters::rx_bytes, around, "rx_wire_bytes of na0");
  // TCP over veth moves GSO packets both ways: more segments than skbs.
  EXPECT_GT(s.tx_packets, around.outer.tx_packets) << "packets are segments";
  EXPECT_GT(s.rx_packets, around.outer.rx_packets) << "packets are segments";
  EXPECT_EQ(s.indexes, std::set<uint64_t>{ifIndex(nsA(), "na0")});
  EXPECT_EQ(s.netns, std::set<uint64_t>{netnsInode(nsA())});
  EXPECT_EQ(s.names, std::set<std::string>{"na0"}) << "only the interface asked for";
  EXPECT_GE(s.entries, 2) << "the TCP and the UDP bytes were moved in different windows";
}

// However netacct ends, nothing of it stays on na0 (TCX links go with their
// fds; after a signal that kills it the guard removes the legacy filters,
// allowed 2 s), every BPF object it held is gone (the cgroup programs'
// links included), no program named wire_* is left loaded, and the guard
// itself exits. SIGINT, SIGTERM and SIGHUP are stop signals (exit 0 after a
// last report); SIGPIPE (a reader gone) and SIGKILL end it where it stands,
// as do SIGABRT (how an exception nothing catches ends a process:
// std::terminate calls abort) and SIGSEGV (a crash).
TEST_P(WireAttachTest, NothingLeftBehindHoweverItEnds) {
  if (tcxRefusedHere(GetParam())) return;
  const bool tcx = usesTcx(GetParam());
  // No core files from the two crashes (netacct inherits the limit).
  const rlimit no_core{0, 0};
  ASSERT_EQ(setrlimit(RLIMIT_CORE, &no_core), 0);
  // The SIGSEGV is sent, not a fault: an ASan build (the sanitizer tier
  // runs this test) would report it from its own handler and exit 1 instead
  // of dying by it, as a non-sanitized netacct does. Harmless elsewhere.
  const char* asan = getenv("ASAN_OPTIONS");
  const std::string die_by_signals = std::string("ASAN_OPTIONS=") + (asan ? asan : "") +
                                     (asan && *asan ? ":" : "") + "handle_segv=0:handle_abort=0";
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGKILL, SIGABRT, SIGSEGV}) {
    const bool kills = sig == SIGPIPE || sig == SIGKILL || sig == SIGABRT || sig == SIGSEGV;
    SCOPED_TRACE(std::string("after ") + strsignal(sig));
    const BpfIds before = allLoaded();
    auto na = startInA(GetParam(), {"--interface", "na0"}, 1.0, {die_by_signals});
    expectAttached("na0", tcx, na->pid());
    const BpfIds held = heldBy(na->pid()).minus(before);
    const pid_t guard = tcx ? 0 : guardOf(na->pid());
    EXPECT_TRUE(tcx || guard > 0) << "no netacct-guard child of netacct " << na->pid();
    kill(na->pid(), sig);
    const auto status = na->process().waitExit(scaled(10));
    ASSERT_TRUE(status) << "netacct did not exit";
    if (kills) {
      EXPECT_TRUE(WIFSIGNALED(*status) && WTERMSIG(*status) == sig) << na->process().err();
    } else {
      EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << na->process().err();
    }
    expectNoneOn("na0", kills ? scaledMs(2000) : std::chrono::milliseconds(0));
    const BpfIds left = waitGone(held, scaled(3));
    EXPECT_TRUE(left.empty()) << "still loaded: " << describe(left);
    const BpfIds orphans = waitGone(wireOrphansSince(before), scaled(3));
    EXPECT_TRUE(orphans.empty()) << "wire programs left loaded: " << describe(orphans);
    if (guard > 0) {
      EXPECT_TRUE(waitFor([&] { return !running(guard); }, scaled(3))) << "guard " << guard;
    }
  }
}

// Two netacct started at the same moment on the same interface both attach
// and both count it: on the legacy path both may find the same priority
// free, and the one the kernel refuses (EEXIST) takes the next. Both runs
// see the same interface bytes, and nothing stays after both exit.
// Regression: the second exited with "File exists (clsact)" (seen in the
// 6.1 guest when two tops started at once).
TEST_P(WireAttachTest, TwoStartedAtOnceBothAttachAndCount) {
  if (tcxRefusedHere(GetParam())) return;
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // The other one lives on a thread of its own to the end: a child's
    // parent-death signal follows the thread that started it.
    std::promise<void> ready, moved;
    std::optional<NetacctRun> a;
    std::thread other([&] {
      auto first = startInA(GetParam(), {"--interface", "na0"}, 0.2);
      ready.set_value();
      moved.get_future().wait();
      a = first->stop();
    });
    auto second = startInA(GetParam(), {"--interface", "na0"}, 0.2);
    ready.get_future().wait();
    const Counts payload = moveTraffic(*second);
    moved.set_value();
    other.join();
    ASSERT_TRUE(a);
    const NetacctRun b = second->stop();
    ASSERT_TRUE(a->exitedZero()) << a->describe();
    ASSERT_TRUE(b.exitedZero()) << b.describe();
    for (const NetacctRun* run : {static_cast<const NetacctRun*>(&*a), &b}) {
      const IfaceSum sum = ifaceSum(run->reports, "na0");
      EXPECT_GE(sum.tx, payload.tx) << "every byte A sent crossed na0 while both ran";
      EXPECT_GE(sum.rx, payload.rx);
    }
    expectNoneOn("na0", scaledMs(2000));
  }
}

// Another tool's clsact qdisc and filters, made before netacct started (one
// at a priority of its own, one at the priority netacct's first filter
// takes, with another handle), are still there, with the same program,
// after netacct ends by SIGINT or SIGKILL; netacct's are gone.
TEST_P(WireAttachTest, AnotherToolsQdiscAndFiltersAreLeftAlone) {
  if (tcxRefusedHere(GetParam())) return;
  const bool tcx = usesTcx(GetParam());
  for (int sig : {SIGINT, SIGKILL}) {
    SCOPED_TRACE(std::string("after ") + strsignal(sig));
    ForeignFilters foreign(nsA(), "na0", {7, kNetacctFirstPrio});
    ASSERT_TRUE(foreign.missing().empty()) << describe(tcProgs(nsA(), "na0"));
    {
      auto na = startInA(GetParam(), {"--interface", "na0"});
      expectAttached("na0", tcx, na->pid());
      EXPECT_TRUE(foreign.missing().empty()) << "at start:" << describe(tcProgs(nsA(), "na0"));
      kill(na->pid(), sig);
      ASSERT_TRUE(na->process().waitExit(scaled(10))) << "netacct did not exit";
      expectNoneOn("na0", sig == SIGKILL ? scaledMs(2000) : std::chrono::milliseconds(0));
    }
    EXPECT_TRUE(hasClsact(nsA(), "na0")) << "the other tool's clsact qdisc was deleted";
    const std::vector<std::string> missing = foreign.missing();
    EXPECT_TRUE(missing.empty()) << "the other tool's filters missing: "
                                 << ::testing::PrintToString(missing)
                                 << " on na0:" << describe(tcProgs(nsA(), "na0"));
  }
}

// Every test that lists interfaces runs for each attach mode; tcx where the
// kernel has no TCX checks the refusal instead.
INSTANTIATE_TEST_SUITE_P(WireMode, WireAttachTest,
                         ::testing::Values(Attach::Auto, Attach::Tcx, Attach::Legacy),
                         [](const auto& info) { return attachName(info.param); });

// A netacct killed together with its guard leaves its legacy filters behind;
// the next netacct on that interface removes them when it starts (they are
// netacct's, by handle, priority and program name, and held by no process),
// and leaves nothing itself when it ends.
TEST_F(WireTest, StaleLegacyFiltersAreRemovedByTheNextStart) {
  std::vector<TcProg> stale;
  {
    auto first = startInA(Attach::Legacy, {"--interface", "na0"});
    stale = wireProgsOn(nsA(), "na0");
    ASSERT_EQ(stale.size(), 2u) << describe(tcProgs(nsA(), "na0"));
    const pid_t guard = guardOf(first->pid());
    ASSERT_GT(guard, 0) << "no netacct-guard child of netacct " << first->pid();
    kill(guard, SIGKILL);  // first, or it would remove the filters
    ASSERT_TRUE(waitFor([&] { return !running(guard); }, scaled(3)));
    kill(first->pid(), SIGKILL);
    ASSERT_TRUE(first->process().waitExit(scaled(10)));
  }
  std::this_thread::sleep_for(scaledMs(300));
  auto ids = [](const std::vector<TcProg>& ps) {
    std::set<uint32_t> out;
    for (const auto& p : ps) out.insert(p.prog_id);
    return out;
  };
  ASSERT_EQ(ids(wireProgsOn(nsA(), "na0")), ids(stale))
      << "the killed netacct's filters should still be there:" << describe(tcProgs(nsA(), "na0"));

  auto second = startInA(Attach::Legacy, {"--interface", "na0"});
  expectAttached("na0", false, second->pid());
  for (const auto& p : wireProgsOn(nsA(), "na0"))
    EXPECT_FALSE(ids(stale).count(p.prog_id)) << "a leftover is still attached:" << describe(stale);
  BpfIds old;
  old.progs = ids(stale);
  EXPECT_TRUE(waitGone(old, scaled(3)).empty()) << "the leftovers' programs are still loaded";
  second->stop();
  expectNoneOn("na0", std::chrono::milliseconds(0));
}

// Without --interface netacct watches every interface that is up, loopback
// aside. A veth made after it started (one end in A, one in B, no IPv6) is
// attached within about two windows (1 s each), and within two more reports
// its bytes and packets are what the interface counted (see Around); deleted,
// it is dropped (TCX: its links closed) and netacct goes on. A namespace of ours
// deleted while netacct runs takes an interface of A with it (the peer of a
// veth that lived there): netacct goes on too, and exits 0.
TEST_P(WireAttachTest, InterfacesThatComeAndGoAreFollowed) {
  if (tcxRefusedHere(GetParam())) return;
  const bool tcx = usesTcx(GetParam());
  auto na = startInA(GetParam(), {});
  expectAttached("na0", tcx, na->pid());
  EXPECT_TRUE(wireProgsOn(nsA(), "lo").empty()) << "loopback is watched only with --loopback";

  Veth veth(nsA(), "nw0", "10.213.9.1", nsB(), "nw1", "10.213.9.2");
  const uint32_t nw0 = ifIndex(nsA(), "nw0");
  // Most likely before netacct attached; if not, nothing crossed nw0 yet.
  const DevCounters made = devCounters(nsA(), "nw0");
  ASSERT_TRUE(waitFor([&] { return wireProgsOn(nsA(), "nw0").size() == 2; }, scaledMs(3000)))
      << "nw0 not attached within 3 s:" << describe(tcProgs(nsA(), "nw0"));
  expectAttached("nw0", tcx, na->pid());
  BpfIds nw0_links;
  for (const auto& p : wireProgsOn(nsA(), "nw0"))
    if (p.tcx) nw0_links.links.insert(p.link_id);

  const DevCounters attached = devCounters(nsA(), "nw0");
  udpExchange(nsA(), "10.213.9.1", nsB(), 200);
  const DevCounters sent = devCounters(nsA(), "nw0");
  na->waitReportLines(na->reportLines() + 2, scaled(10));
  const IfaceSum s = ifaceSum(reportsIn(na->process().out()), "nw0");
  const Around around{minus(sent, attached), minus(devCounters(nsA(), "nw0"), made)};
  EXPECT_GT(s.tx, 0u);
  EXPECT_GT(s.rx, 0u);
  expectWithin(s.tx, &DevCounters::tx_bytes, around, "tx_wire_bytes of nw0");
  expectWithin(s.rx, &DevCounters::rx_bytes, around, "rx_wire_bytes of nw0");
  expectWithin(s.tx_packets, &DevCounters::tx_packets, around, "tx_packets of nw0");
  expectWithin(s.rx_packets, &DevCounters::rx_packets, around, "rx_packets of nw0");
  EXPECT_EQ(s.indexes, std::set<uint64_t>{nw0});

  veth.remove();
  na->waitReportLines(na->reportLines() + 2, scaled(10));
  ASSERT_FALSE(na->process().exited()) << "netacct ended after nw0 was deleted:\n"
                                       << na->process().err();
  if (tcx) {
    EXPECT_TRUE(waitGone(nw0_links, scaled(3)).empty()) << "nw0's TCX links are still open";
  }

  std::optional<NetnsPair> other(std::in_place, "cd");
  Veth cross(nsA(), "nx0", "10.213.8.1", other->a(), "nx1", "10.213.8.2");
  ASSERT_TRUE(waitFor([&] { return wireProgsOn(nsA(), "nx0").size() == 2; }, scaledMs(3000)))
      << "nx0 not attached within 3 s:" << describe(tcProgs(nsA(), "nx0"));
  other.reset();  // the kernel deletes nx1 with its namespace, and nx0 with it
  EXPECT_TRUE(waitFor([&] { return ifIndex(nsA(), "nx0") == 0; }, scaled(10)))
      << "nx0 outlived its peer's namespace";
  na->waitReportLines(na->reportLines() + 2, scaled(10));
  ASSERT_FALSE(na->process().exited()) << "netacct ended after a namespace was deleted:\n"
                                       << na->process().err();
  na->stop();  // exit 0 checked there
  expectNoneOn("na0", std::chrono::milliseconds(0));
}

// --interface of nothing or of an invalid name: bad_input_test.cpp.

}  // namespace
}  // namespace kt
