// What a loaded netacct keeps (kernel/privilege.hpp) and how doctor names
// capabilities (cli/privilege.hpp): pure, no root.
#include "kernel/privilege.hpp"

#include <gtest/gtest.h>

#include "cli/privilege.hpp"

using namespace netacct;

namespace {

// The kernel's numbers (uapi/linux/capability.h), written out: the test
// does not take them from the code under test.
constexpr int kDacReadSearch = 2, kNetBindService = 10, kNetAdmin = 12, kSysPtrace = 19,
              kSysAdmin = 21, kBpf = 39;

}  // namespace

TEST(Privilege, AsRootWithoutTheWireLayerOnlyPtraceReadsRemain) {
  EXPECT_EQ(capabilities_needed({}), (std::vector<int>{kSysPtrace}));
  EXPECT_EQ(bounding_set({}), (std::vector<int>{kSysPtrace}));
}

TEST(Privilege, AnotherUserKeepsDacReadSearchForRootsStateFiles) {
  EXPECT_EQ(capabilities_needed({.other_user = true}),
            (std::vector<int>{kDacReadSearch, kSysPtrace}));
}

TEST(Privilege, TheWireLayerKeepsNetAdminToAttachLaterAndDetach) {
  RunNeeds n{.wire = true};
  EXPECT_EQ(capabilities_needed(n), (std::vector<int>{kNetAdmin, kSysPtrace}));
  EXPECT_EQ(bounding_set(n), capabilities_needed(n));
}

TEST(Privilege, AGatedBpfSyscallKeepsCapBpfOrSysAdminBeforeIt) {
  EXPECT_EQ(capabilities_needed({.bpf_gated = true}), (std::vector<int>{kSysPtrace, kBpf}));
  EXPECT_EQ(capabilities_needed({.bpf_gated = true, .cap_bpf = false}),
            (std::vector<int>{kSysPtrace, kSysAdmin}));
  EXPECT_EQ(capabilities_needed({.bpf_gated = false, .cap_bpf = false}),
            (std::vector<int>{kSysPtrace}));
}

TEST(Privilege, BindingALowPortKeepsNetBindServiceButNeverInTheBoundingSet) {
  RunNeeds n{.wire = true, .other_user = true, .bind_port = true};
  EXPECT_EQ(capabilities_needed(n),
            (std::vector<int>{kDacReadSearch, kNetBindService, kNetAdmin, kSysPtrace}));
  EXPECT_EQ(bounding_set(n), (std::vector<int>{kDacReadSearch, kNetAdmin, kSysPtrace}));
}

TEST(Privilege, TheGuardKeepsNetAdminAlone) {
  EXPECT_EQ(guard_capabilities(), (std::vector<int>{kNetAdmin}));
}

TEST(Privilege, MaskIsWhatProcStatusShows) {
  EXPECT_EQ(capability_mask({}), 0u);
  EXPECT_EQ(capability_mask({kDacReadSearch, kNetAdmin, kSysPtrace}), 0x81004u);
  EXPECT_EQ(capability_mask({kBpf}), uint64_t(1) << 39);
}

TEST(Privilege, NamesAreTheKernelsInCapitals) {
  EXPECT_EQ(capability_name(kNetAdmin), "CAP_NET_ADMIN");
  EXPECT_EQ(capability_name(kBpf), "CAP_BPF");
  EXPECT_EQ(capability_name(63), "CAP_63");
  EXPECT_EQ(capability_names(0x81004),
            (std::vector<std::string>{"CAP_DAC_READ_SEARCH", "CAP_NET_ADMIN", "CAP_SYS_PTRACE"}));
  EXPECT_TRUE(capability_names(0).empty());
}
