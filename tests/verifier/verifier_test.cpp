// Loads every backend's programs through the real loader without attaching,
// so the verifier checks code this kernel cannot attach (kprobe programs load
// even where kprobes cannot attach). Needs root: without it every test skips
// and the binary exits 77 (ctest: Skipped), with CI=true it fails
// (tests/kernel/support/skip_main.cpp is its main).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "kernel/features.hpp"
#include "kernel/loader.hpp"

using namespace netacct;

namespace {

// A macro, not a function: GTEST_SKIP and FAIL return from the function
// they are written in, and the test must not go on without root.
#define REQUIRE_ROOT()                                                     \
  do {                                                                     \
    if (geteuid() != 0) {                                                  \
      const char* ci = std::getenv("CI");                                  \
      if (ci && std::string(ci) == "true")                                 \
        FAIL() << "verifier tests need root and CI=true forbids skipping"; \
      GTEST_SKIP() << "verifier tests need root (run tools/test as root)"; \
    }                                                                      \
  } while (0)

std::string load(Backend b, const Features& f) {
  std::string error;
  bool verbose = std::getenv("NETACCT_TEST_VERBOSE") != nullptr;
  auto s = Session::open({.backend = b,
                          .verbose = verbose,
                          .has_inet_sendpage = f.has_inet_sendpage,
                          .retransmit_err = f.retransmit_err,
                          .loads_tracing = f.loads_tracing,
                          .attach = false},
                         &error);
  return s ? "" : error;
}

}  // namespace

// Where the sock tracepoints exist the tracepoint programs load; where they
// do not (6.1 in tests/vm), the load fails, as doctor says. Never a skip.
TEST(Verifier, TracepointLoadAgreesWithDoctor) {
  REQUIRE_ROOT();
  Features f = probe_features();
  std::string error = load(Backend::tracepoint, f);
  EXPECT_EQ(error.empty(), f.status(Backend::tracepoint).available)
      << "doctor: " << f.status(Backend::tracepoint).reason << "; load: " << error;
}

// kprobe programs are plain BPF_PROG_TYPE_KPROBE: they load on any kernel
// with BTF, whether or not it can attach kprobes.
TEST(Verifier, KprobeProgramsLoad) {
  REQUIRE_ROOT();
  Features f = probe_features();
  EXPECT_EQ(load(Backend::kprobe, f), "");
}

// fexit programs load only where the kernel allows trampolines; the result
// must agree with what doctor reports.
TEST(Verifier, FentryLoadAgreesWithDoctor) {
  REQUIRE_ROOT();
  Features f = probe_features();
  std::string error = load(Backend::fentry, f);
  EXPECT_EQ(error.empty(), f.status(Backend::fentry).available) << error;
}
