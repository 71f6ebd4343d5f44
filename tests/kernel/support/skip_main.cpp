// main() of the test binaries that need root and a capable kernel (kernel
// tests, verifier tests), in place of gtest_main. It makes a skip visible
// to ctest and to CI instead of passing quietly:
//
//  - CI=true: any skipped test fails the run (exit 1) and is named, unless
//    its full name is listed in NETACCT_TEST_ALLOWED_SKIPS (space-separated),
//    the audit the VM tier (tests/vm/vm.sh) does on the guest's output;
//  - otherwise, a run in which tests were skipped and none passed (no root,
//    no BPF) exits 77, which ctest shows as "Skipped" (SKIP_RETURN_CODE 77 in
//    the CMakeLists), never as "Passed".
//
// Failures keep gtest's exit code (1). No dependency on the kernel-test
// support code: the verifier tests link this file alone.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::string envOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v == nullptr ? fallback : v;
}

class SkipAudit : public ::testing::EmptyTestEventListener {
 public:
  std::vector<std::string> skipped;

 private:
  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (info.result() != nullptr && info.result()->Skipped())
      skipped.push_back(std::string(info.test_suite_name()) + "." + info.name());
  }
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  auto* audit = new SkipAudit;  // owned by gtest once appended
  ::testing::UnitTest::GetInstance()->listeners().Append(audit);
  const int rc = RUN_ALL_TESTS();
  if (rc != 0) return rc;

  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  if (envOr("CI", "") == "true") {
    std::set<std::string> allowed;
    std::istringstream in(envOr("NETACCT_TEST_ALLOWED_SKIPS", ""));
    for (std::string name; in >> name;) allowed.insert(name);
    std::vector<std::string> bad;
    for (const auto& name : audit->skipped)
      if (!allowed.count(name)) bad.push_back(name);
    if (!bad.empty()) {
      std::fprintf(stderr, "[SKIP AUDIT] CI=true: %zu test(s) skipped that must run here:\n",
                   bad.size());
      for (const auto& name : bad) std::fprintf(stderr, "[SKIP AUDIT]   %s\n", name.c_str());
      std::fprintf(stderr,
                   "[SKIP AUDIT] (a test that cannot run on a CI machine is a failure; list "
                   "deliberate exceptions in NETACCT_TEST_ALLOWED_SKIPS)\n");
      return 1;
    }
    return 0;
  }
  if (unit.successful_test_count() == 0 && unit.skipped_test_count() > 0) {
    std::fprintf(stderr,
                 "[SKIP AUDIT] every test that ran was skipped (%d): exit 77, reported as "
                 "skipped, not passed\n",
                 unit.skipped_test_count());
    return 77;
  }
  return 0;
}
