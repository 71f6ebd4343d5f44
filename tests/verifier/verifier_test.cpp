// Loads every backend's programs through the real loader without attaching,
// so the verifier checks code this kernel cannot attach (kprobe programs load
// even where kprobes cannot attach). Needs root.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "kernel/features.hpp"
#include "kernel/loader.hpp"

using namespace netacct;

namespace {

void require_root() {
  if (geteuid() == 0) return;
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true")
    FAIL() << "verifier tests need root and CI=true forbids skipping";
  GTEST_SKIP() << "verifier tests need root (run tools/test as root)";
}

std::string load(Backend b, const Features& f) {
  std::string error;
  bool verbose = std::getenv("NETACCT_TEST_VERBOSE") != nullptr;
  auto s = Session::open({b, verbose, f.has_inet_sendpage, /*attach=*/false}, &error);
  return s ? "" : error;
}

}  // namespace

TEST(Verifier, TracepointProgramsLoadWhereTheTracepointsExist) {
  require_root();
  Features f = probe_features();
  if (!f.status(Backend::tracepoint).available)
    GTEST_SKIP() << "kernel lacks the sock tracepoints: " << f.status(Backend::tracepoint).reason;
  EXPECT_EQ(load(Backend::tracepoint, f), "");
}

// kprobe programs are plain BPF_PROG_TYPE_KPROBE: they load on any kernel
// with BTF, whether or not it can attach kprobes.
TEST(Verifier, KprobeProgramsLoad) {
  require_root();
  Features f = probe_features();
  EXPECT_EQ(load(Backend::kprobe, f), "");
}

// fexit programs load only where the kernel allows trampolines; the result
// must agree with what doctor reports.
TEST(Verifier, FentryLoadAgreesWithDoctor) {
  require_root();
  Features f = probe_features();
  std::string error = load(Backend::fentry, f);
  EXPECT_EQ(error.empty(), f.status(Backend::fentry).available) << error;
}
