// The one go/no-go assessment (kernel/assess) as report/top's preflight and
// doctor show it: for every failing condition, and every combination, both
// name the same first problem in the same words.
#include "kernel/assess.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "cli/preflight.hpp"

using namespace netacct;

namespace {

const std::string kNoBtf =
    "this kernel has no BTF (/sys/kernel/btf/vmlinux); netacct needs a kernel built with "
    "CONFIG_DEBUG_INFO_BTF=y";
const std::string kLockdown =
    "kernel lockdown is 'confidentiality', which forbids BPF programs from reading kernel "
    "memory; boot with lockdown=integrity or none";
const std::string kNoCaps =
    "missing CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) to load BPF programs; run as root, e.g. "
    "'sudo netacct ...'";
const std::string kNoBackend =
    "no usable backend: needs the sock tracepoints (Linux >= 6.3), fentry or kprobes";

BackendStatus up(Backend b) {
  return {.backend = b, .available = true, .reason = "", .hooks = "some hooks"};
}
BackendStatus down(Backend b, std::string reason) {
  return {.backend = b, .available = false, .reason = std::move(reason), .hooks = ""};
}

Capabilities caps(bool bpf, bool perfmon, bool sys_admin) {
  return {.known = true, .bpf = bpf, .perfmon = perfmon, .sys_admin = sys_admin};
}

// A 6.18 kernel like the build machine's, run as root: the sock tracepoints,
// fentry refused, no kprobes.
Features healthy() {
  return {.kernel_release = "6.18.0",
          .btf = true,
          .lockdown = "integrity",
          .caps = caps(true, true, true),
          .root = true,
          .has_inet_sendpage = false,
          .backends = {up(Backend::tracepoint),
                       down(Backend::fentry, "loading an fexit program failed: EPERM"),
                       down(Backend::kprobe, "kernel built without kprobe events")}};
}

Features without_caps(Features f) {
  f.caps = caps(false, false, false);
  f.root = false;
  f.backends[1] = down(Backend::fentry, "not checked: needs root to try loading");
  return f;
}

Features without_btf(Features f) {
  f.btf = false;
  f.backends[0] = down(Backend::tracepoint, "no kernel BTF");
  f.backends[1] = down(Backend::fentry, "no kernel BTF");
  return f;
}

Features locked_down(Features f) {
  f.lockdown = "confidentiality";
  return f;
}

Features without_backends(Features f) {
  f.backends[0] = down(Backend::tracepoint, "kernel lacks sock:sock_send_length");
  return f;
}

// What report/top print (stderr, then exit 1) and what doctor says.
struct Shown {
  std::optional<Backend> preflight_backend;
  std::string preflight_err, doctor_verdict, doctor_problem;
};

Shown show(const Features& f, Backend requested = Backend::automatic) {
  std::ostringstream err;
  Shown s;
  s.preflight_backend = preflight(f, requested, err);
  s.preflight_err = err.str();
  Assessment a = assess(f, requested);
  s.doctor_verdict = doctor_verdict(a);
  s.doctor_problem = a.can_run() ? "" : a.message;  // doctor's JSON "problem"
  return s;
}

// Both refuse, with `message` in the same words; preflight points a backend
// problem at doctor, which lists every backend's detail.
void expect_first_problem(const Features& f, Problem problem, const std::string& message,
                          Backend requested = Backend::automatic) {
  Assessment a = assess(f, requested);
  EXPECT_EQ(a.problem, problem);
  EXPECT_EQ(a.message, message);
  EXPECT_FALSE(a.can_run());
  Shown s = show(f, requested);
  EXPECT_EQ(s.preflight_backend, std::nullopt);
  std::string see = problem == Problem::no_backend ? " (see 'netacct doctor')" : "";
  EXPECT_EQ(s.preflight_err, "netacct: " + message + see + "\n");
  EXPECT_EQ(s.doctor_verdict, "netacct cannot run: " + message);
  EXPECT_EQ(s.doctor_problem, message);
}

}  // namespace

TEST(Assess, HealthyKernelRunsWithTheFirstAvailableBackend) {
  Assessment a = assess(healthy(), Backend::automatic);
  EXPECT_TRUE(a.can_run());
  EXPECT_EQ(a.problem, Problem::none);
  EXPECT_EQ(a.message, "");
  EXPECT_EQ(a.backend, Backend::tracepoint);
  Shown s = show(healthy());
  EXPECT_EQ(s.preflight_backend, Backend::tracepoint);
  EXPECT_EQ(s.preflight_err, "");
  EXPECT_EQ(s.doctor_verdict, "netacct can run");
  EXPECT_EQ(s.doctor_problem, "");
}

TEST(Assess, AutoTakesBackendsInProbeOrder) {
  Features f = without_backends(healthy());
  f.backends[1] = up(Backend::fentry);
  f.backends[2] = up(Backend::kprobe);
  EXPECT_EQ(assess(f, Backend::automatic).backend, Backend::fentry);
  EXPECT_EQ(assess(f, Backend::kprobe).backend, Backend::kprobe);
  EXPECT_EQ(show(f, Backend::kprobe).preflight_backend, Backend::kprobe);
}

TEST(Assess, NoCapabilities) {
  expect_first_problem(without_caps(healthy()), Problem::no_capabilities, kNoCaps);
}

TEST(Assess, OneCapabilityMissingNamesIt) {
  Features f = healthy();
  f.caps = caps(true, false, false);
  expect_first_problem(f, Problem::no_capabilities,
                       "missing CAP_PERFMON (or CAP_SYS_ADMIN) to load BPF programs; run as "
                       "root, e.g. 'sudo netacct ...'");
  f.caps = caps(false, true, false);
  expect_first_problem(f, Problem::no_capabilities,
                       "missing CAP_BPF (or CAP_SYS_ADMIN) to load BPF programs; run as root, "
                       "e.g. 'sudo netacct ...'");
}

TEST(Assess, CapSysAdminAloneIsEnough) {
  Features f = healthy();
  f.caps = caps(false, false, true);
  EXPECT_TRUE(assess(f, Backend::automatic).can_run());
}

// capget failing says nothing about privileges: loading will tell.
TEST(Assess, UnknownCapabilitiesAreNotAProblem) {
  Features f = healthy();
  f.caps = Capabilities{};
  EXPECT_TRUE(assess(f, Backend::automatic).can_run());
  EXPECT_EQ(show(f).preflight_err, "");
}

TEST(Assess, NoBtf) { expect_first_problem(without_btf(healthy()), Problem::no_btf, kNoBtf); }

TEST(Assess, LockdownConfidentiality) {
  expect_first_problem(locked_down(healthy()), Problem::lockdown, kLockdown);
}

TEST(Assess, LockdownIntegrityOrUnknownIsFine) {
  for (const char* mode : {"none", "integrity", "unknown"}) {
    Features f = healthy();
    f.lockdown = mode;
    EXPECT_TRUE(assess(f, Backend::automatic).can_run()) << mode;
  }
}

TEST(Assess, NoBackend) {
  expect_first_problem(without_backends(healthy()), Problem::no_backend, kNoBackend);
}

TEST(Assess, RequestedBackendUnavailable) {
  expect_first_problem(healthy(), Problem::no_backend,
                       "the kprobe backend is not available: kernel built without kprobe events",
                       Backend::kprobe);
  expect_first_problem(healthy(), Problem::no_backend,
                       "the fentry backend is not available: loading an fexit program failed: "
                       "EPERM",
                       Backend::fentry);
}

// The order: what no privilege can fix (BTF, then lockdown) before
// capabilities, capabilities before the backend (fentry cannot be checked
// without them).
TEST(Assess, CombinationsNameTheSameFirstProblem) {
  const Features h = healthy();
  expect_first_problem(without_caps(without_btf(h)), Problem::no_btf, kNoBtf);
  expect_first_problem(without_caps(locked_down(h)), Problem::lockdown, kLockdown);
  expect_first_problem(without_btf(locked_down(h)), Problem::no_btf, kNoBtf);
  expect_first_problem(without_caps(without_backends(h)), Problem::no_capabilities, kNoCaps);
  expect_first_problem(locked_down(without_backends(h)), Problem::lockdown, kLockdown);
  expect_first_problem(without_btf(without_backends(h)), Problem::no_btf, kNoBtf);
  expect_first_problem(without_caps(without_btf(locked_down(without_backends(h)))), Problem::no_btf,
                       kNoBtf);
  expect_first_problem(without_caps(h), Problem::no_capabilities, kNoCaps, Backend::kprobe);
}

// doctor still shows which backend would be used when something else stops
// netacct; preflight loads nothing.
TEST(Assess, BackendIsShownEvenWhenAnotherProblemStops) {
  Assessment a = assess(without_caps(healthy()), Backend::automatic);
  EXPECT_EQ(a.backend, Backend::tracepoint);
  EXPECT_FALSE(a.can_run());
  EXPECT_EQ(show(without_caps(healthy())).preflight_backend, std::nullopt);
}

// What an unprivileged doctor could not check is neither available nor
// unavailable, and no backend is picked from it.
TEST(Assess, UncheckedBackendIsUnknown) {
  BackendStatus unknown{.backend = Backend::tracepoint,
                        .checked = false,
                        .reason = "needs root to check",
                        .hooks = "some hooks"};
  EXPECT_EQ(unknown.state(), "unknown");
  EXPECT_EQ(unknown.detail(), "some hooks");
  EXPECT_EQ(up(Backend::fentry).state(), "available");
  EXPECT_EQ(down(Backend::kprobe, "no PMU").state(), "unavailable");
  Features f = healthy();
  f.caps = {.known = true};
  f.backends = {unknown};
  Assessment a = assess(f, Backend::automatic);
  EXPECT_FALSE(a.backend);
  EXPECT_EQ(a.problem, Problem::no_capabilities);
}
