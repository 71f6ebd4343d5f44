// Two netacct at once, on the same traffic: each counts exactly, as if it
// were alone, and each removes only what is its own. Nothing in the kernel
// is shared between two runs (no pinned object, no fixed path, no lock
// file: every map, and so every TCP receive position the compare-and-swap
// claims, is the run's own); what they do share is the hooks: the cgroup v2
// root (cgroup programs attach there through links, several at once) and,
// with the wire layer, the TC hooks of one interface (TCX links, or legacy
// clsact filters at one handle and a priority of a band each run picks
// free, removed by priority only while the program there is the run's own).
//
// Ground truth: the children's own syscall sums (support/fixture.hpp), the
// interface's own counters (support/tc.hpp), and the kernel's answer, by
// id, to what is attached to the TC hooks and to the cgroup root and what
// is still loaded (support/bpf_objects.hpp).
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <memory>
#include <string>
#include <vector>

#include "support/bpf_objects.hpp"
#include "support/cgroups.hpp"
#include "support/fixture.hpp"
#include "support/tc.hpp"
#include "support/wire_check.hpp"

namespace kt {
namespace {

// One child of a traffic phase and what its own syscalls moved.
struct Moved {
  pid_t pid = 0;
  std::string comm;
  Counts counts;
};

// One netacct in namespace A and what it held and attached once ready.
struct Instance {
  std::unique_ptr<Netacct> na;
  BpfIds held;                   // every BPF object its fds referred to
  std::vector<TcProg> on_na0;    // its two programs on na0
  std::set<uint32_t> on_cgroup;  // its programs attached to the cgroup v2 root
  pid_t guard = 0;               // legacy path
};

// The reports printed so far, as a run, for the shared assertions.
NetacctRun soFar(Netacct& na) {
  NetacctRun run;
  run.reports = reportsIn(na.process().out());
  return run;
}

// `progs` by program id, priority, handle and link: how a TC attachment is
// told apart from a new one at the same place.
std::string attachmentKey(const std::vector<TcProg>& progs) {
  std::string key;
  for (const auto& p : progs)
    key += std::string(name(p.dir)) + " prog " + std::to_string(p.prog_id) + " prio " +
           std::to_string(p.prio) + " handle " + std::to_string(p.handle) + " link " +
           std::to_string(p.link_id) + "; ";
  return key;
}

class InstancesTest : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) return;
    auto mount = cgroup2Mount();
    if (!mount) KT_SKIP("no cgroup v2 mount: netacct's cgroup programs cannot be checked");
    root_ = *mount;
  }

  bool tcx() const { return usesTcx(attach_); }

  // `netacct report` on na0 (JSON, 0.5 s windows) in namespace A, ready,
  // with what it holds and attached; without the capabilities `drop_caps`.
  Instance start(std::vector<int> drop_caps = {}) {
    NetacctOptions o;
    o.interval = 0.5;
    o.extra = {"--interface", "na0", "--tc-attach", attachName(attach_)};
    Spawn how;
    how.netns = nsA();
    how.drop_caps = std::move(drop_caps);
    Instance i;
    i.na = std::make_unique<Netacct>(o, how);
    i.held = heldBy(i.na->pid());
    for (const auto& p : wireProgsOn(nsA(), "na0"))
      if (i.held.progs.count(p.prog_id)) i.on_na0.push_back(p);
    for (uint32_t id : cgroupProgs(root_))
      if (i.held.progs.count(id)) i.on_cgroup.insert(id);
    i.guard = tcx() ? 0 : guardOf(i.na->pid());
    return i;
  }

  // Its two programs on na0, attached as asked (TCX: the links its own);
  // its cgroup programs on the root.
  void expectAttached(const Instance& i) {
    SCOPED_TRACE("netacct " + std::to_string(i.na->pid()));
    const std::vector<TcProg> all = tcProgs(nsA(), "na0");
    ASSERT_EQ(i.on_na0.size(), 2u) << describe(all);
    for (const auto& p : i.on_na0) {
      EXPECT_EQ(p.name, p.dir == TcDir::ingress ? "wire_ingress_tc" : "wire_egress_tc");
      EXPECT_EQ(p.tcx, tcx()) << describe(all);
      if (p.tcx) {
        EXPECT_TRUE(i.held.links.count(p.link_id)) << "not its link:" << describe(all);
      } else {
        EXPECT_EQ(p.handle, kNetacctHandle) << describe(all);
      }
    }
    EXPECT_FALSE(i.on_cgroup.empty()) << "none of its programs on " << root_;
    EXPECT_TRUE(tcx() || i.guard > 0) << "no netacct-guard child";
  }

  // Still as it was at start, by id: the same attachments on na0 (none
  // added or removed), the same cgroup programs, every object still loaded
  // and held.
  void expectUntouched(const Instance& i) {
    SCOPED_TRACE("netacct " + std::to_string(i.na->pid()) + " after the other ended");
    std::vector<TcProg> now;
    for (const auto& p : wireProgsOn(nsA(), "na0"))
      if (i.held.progs.count(p.prog_id)) now.push_back(p);
    EXPECT_EQ(attachmentKey(now), attachmentKey(i.on_na0)) << describe(tcProgs(nsA(), "na0"));
    std::set<uint32_t> cgroup;
    for (uint32_t id : cgroupProgs(root_))
      if (i.held.progs.count(id)) cgroup.insert(id);
    EXPECT_EQ(cgroup, i.on_cgroup) << "its programs on " << root_;
    EXPECT_EQ(describe(stillLoaded(i.held)), describe(i.held));
    EXPECT_EQ(describe(heldBy(i.na->pid()).plus(i.held)), describe(heldBy(i.na->pid())));
    if (i.guard > 0) {
      EXPECT_TRUE(running(i.guard)) << "its guard " << i.guard;
    }
  }

  // Nothing of `i` anywhere: not on na0, not on the cgroup root, not
  // loaded; its guard gone. A killed run's guard may take a moment.
  void expectGone(const Instance& i) {
    SCOPED_TRACE("netacct " + std::to_string(i.na->pid()) + " ended");
    auto anyOnNa0 = [&] {
      for (const auto& p : tcProgs(nsA(), "na0"))
        if (i.held.progs.count(p.prog_id)) return true;
      return false;
    };
    EXPECT_TRUE(waitFor([&] { return !anyOnNa0(); }, scaledMs(2000)))
        << describe(tcProgs(nsA(), "na0"));
    const BpfIds left = waitGone(i.held, scaled(3));
    EXPECT_TRUE(left.empty()) << "still loaded: " << describe(left);
    for (uint32_t id : cgroupProgs(root_)) {
      EXPECT_FALSE(i.on_cgroup.count(id)) << "prog " << id << " still on " << root_;
    }
    if (i.guard > 0) {
      EXPECT_TRUE(waitFor([&] { return !running(i.guard); }, scaled(3))) << "guard " << i.guard;
    }
  }

  // TCP both ways (A serves, B connects) and UDP echoes from B to A: each
  // child with what its syscalls moved.
  std::vector<Moved> traffic(const std::string& tag) {
    auto tcp = tcpServerA(AF_INET, "na-i" + tag + "-ts",
                          [](int fd, ChildCtx& ctx) { ctx.counts += duplexExchange(fd, MiB + 3); });
    auto tcpClient = tcpClientB(tcp.ep, "na-i" + tag + "-tc", [](int fd, ChildCtx& ctx) {
      ctx.counts += duplexExchange(fd, 2 * MiB + 5);
    });
    auto udp = udpServer(nsA(), hostA(AF_INET), "na-i" + tag + "-us",
                         [](int fd, ChildCtx& ctx) { ctx.counts += udpEcho(fd, 100); });
    const Endpoint to = udp.ep;
    Child udpClient(nsB(), "na-i" + tag + "-uc", [to](ChildCtx& ctx) {
      int fd = udpSocket(AF_INET);
      ctx.counts += udpPingPong(fd, &to, 100);
      close(fd);
    });
    std::vector<Moved> out;
    for (Child* c : {&tcp.child, &tcpClient, &udp.child, &udpClient})
      out.push_back({c->pid(), c->comm(), c->finish()});
    return out;
  }

  // Every byte of `moved` on its pid's rows, exactly, and na0's wire bytes
  // within `around`, in `run`.
  static void expectCounted(const NetacctRun& run, const std::vector<Moved>& moved,
                            const Around& around, const std::string& who) {
    SCOPED_TRACE(who);
    for (const auto& m : moved) expectAccounted(run, m.pid, m.comm, m.counts);
    const IfaceSum s = ifaceSum(run.reports, "na0");
    expectWithin(s.tx, &DevCounters::tx_bytes, around, "tx_wire_bytes of na0");
    expectWithin(s.rx, &DevCounters::rx_bytes, around, "rx_wire_bytes of na0");
  }

  // Waits until `na` printed two more reports: the later one's window began
  // after the traffic that ended before this call, so every byte of it is in
  // the reports printed by then.
  static void waitPastTraffic(Netacct& na) { na.waitReportLines(na.reportLines() + 2, scaled(10)); }

  Attach attach_ = Attach::Legacy;
  std::string root_;
};

class InstancesAttachTest : public InstancesTest, public ::testing::WithParamInterface<Attach> {
 protected:
  void SetUp() override {
    attach_ = GetParam();
    InstancesTest::SetUp();
  }
};

// Two netacct on na0 at once, both counting the same children exactly
// (payload on their rows, wire bytes between two readings of na0's own
// counters); then the first ends, by SIGTERM (exit 0, last report) or
// SIGKILL (the legacy path's guard removes its filters): nothing of it
// remains, the second's TC attachments and cgroup programs are the same
// ids as before, and it counts further traffic exactly; once it ends too,
// nothing of either remains.
TEST_P(InstancesAttachTest, BothCountExactlyAndEachCleansUpOnlyItsOwn) {
  for (int sig : {SIGTERM, SIGKILL}) {
    SCOPED_TRACE(std::string("the first ends by ") + strsignal(sig));
    const BpfIds before = allLoaded();
    const DevCounters begin = devCounters(nsA(), "na0");
    Instance first = start(), second = start();
    expectAttached(first);
    expectAttached(second);
    ASSERT_FALSE(HasFatalFailure());
    EXPECT_EQ(wireProgsOn(nsA(), "na0").size(), 4u) << describe(tcProgs(nsA(), "na0"));

    const DevCounters ready = devCounters(nsA(), "na0");
    const std::vector<Moved> one = traffic("1");
    const DevCounters moved1 = devCounters(nsA(), "na0");
    waitPastTraffic(*first.na);
    waitPastTraffic(*second.na);
    const Around phase1{minus(moved1, ready), minus(devCounters(nsA(), "na0"), begin)};
    // Reports printed after the traffic, summed over the whole run so far.
    expectCounted(soFar(*first.na), one, phase1, "the first");
    expectCounted(soFar(*second.na), one, phase1, "the second");

    if (sig == SIGTERM) {
      const NetacctRun run = first.na->stop(SIGTERM);
      EXPECT_TRUE(run.exitedZero()) << run.describe();
    } else {
      kill(first.na->pid(), SIGKILL);
      ASSERT_TRUE(first.na->process().waitExit(scaled(10))) << "netacct did not exit";
    }
    expectGone(first);
    expectUntouched(second);

    const std::vector<Moved> two = traffic("2");
    const DevCounters stopping = devCounters(nsA(), "na0");
    waitPastTraffic(*second.na);
    const NetacctRun run = second.na->stop();
    ASSERT_TRUE(run.exitedZero()) << run.describe();
    std::vector<Moved> both = one;
    both.insert(both.end(), two.begin(), two.end());
    expectCounted(run, both, {minus(stopping, ready), minus(devCounters(nsA(), "na0"), begin)},
                  "the second, over its whole run");
    expectGone(second);
    EXPECT_TRUE(wireProgsOn(nsA(), "na0").empty()) << describe(tcProgs(nsA(), "na0"));
    const BpfIds orphans = waitGone(wireOrphansSince(before), scaled(3));
    EXPECT_TRUE(orphans.empty()) << "wire programs left loaded: " << describe(orphans);
  }
}

// A legacy filter of netacct's that no process holds is a leftover, which
// a starting netacct removes; whether a process holds it, it learns from
// /proc/PID/fd, which a netacct without CAP_SYS_PTRACE cannot read for a
// root process with more capabilities (or one in a PID namespace it cannot
// see). A second netacct started so, on the same interface, must take the
// running one's filters for held (it cannot tell) and leave them: same ids
// before and after, and both count the same traffic exactly. Regression: it
// detached them and took their priority.
TEST_F(InstancesTest, OneThatCannotSeeTheOthersFdsLeavesItsFiltersAlone) {
  constexpr int kCapSysPtrace = 19;
  const DevCounters begin = devCounters(nsA(), "na0");
  Instance full = start();
  expectAttached(full);
  ASSERT_FALSE(HasFatalFailure());
  const DevCounters ready = devCounters(nsA(), "na0");
  Instance blind = start({kCapSysPtrace});
  expectAttached(blind);
  expectUntouched(full);
  const DevCounters both = devCounters(nsA(), "na0");
  const std::vector<Moved> moved = traffic("b");
  const DevCounters stopping = devCounters(nsA(), "na0");
  waitPastTraffic(*full.na);
  waitPastTraffic(*blind.na);
  const NetacctRun a = blind.na->stop(), b = full.na->stop();
  ASSERT_TRUE(a.exitedZero()) << a.describe();
  ASSERT_TRUE(b.exitedZero()) << b.describe();
  const DevCounters after = devCounters(nsA(), "na0");
  expectCounted(a, moved, {minus(stopping, both), minus(after, ready)}, "without CAP_SYS_PTRACE");
  expectCounted(b, moved, {minus(stopping, ready), minus(after, begin)}, "with every capability");
  expectGone(blind);
  expectGone(full);
}

// The attach modes this kernel has: TCX only from Linux 6.6 (the qemu
// tier's 6.1 runs the legacy case alone).
std::vector<Attach> attachModesHere() {
  if (kernelHasTcx()) return {Attach::Tcx, Attach::Legacy};
  return {Attach::Legacy};
}

INSTANTIATE_TEST_SUITE_P(Instances, InstancesAttachTest, ::testing::ValuesIn(attachModesHere()),
                         [](const auto& info) { return attachName(info.param); });

}  // namespace
}  // namespace kt
