// NETACCT_TEST_BYSTANDER=1: another netacct runs for the whole test run, so
// every test shows it holds with a second netacct on the machine (its
// programs on the same hooks, its cgroup programs on the same root, its own
// maps counting the same sockets). Started before the first test and
// stopped after the last, as a gtest environment: `netacct report
// --interval 1` with the wire layer on, inside a namespace pair of its own
// (TC only on interfaces the test made: na0 there), output discarded. The
// run fails if it died meanwhile, did not exit 0 on SIGINT, or left any of
// its BPF objects loaded (by id) or anything on its interface.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "bpf_objects.hpp"
#include "env.hpp"
#include "netacct.hpp"
#include "netns.hpp"
#include "wire_check.hpp"

namespace kt {
namespace {

class Bystander : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string why = unavailableReason();
    if (!why.empty()) {
      // The tests skip (or fail under CI=true) with the reason themselves.
      std::fprintf(stderr, "[BYSTANDER] not started: %s\n", why.c_str());
      return;
    }
    net_ = std::make_unique<NetnsPair>("yz");
    devnull_ = open("/dev/null", O_WRONLY | O_CLOEXEC);
    ASSERT_GE(devnull_, 0) << std::strerror(errno);
    NetacctOptions o;
    o.interval = 1;
    Spawn how;
    how.netns = net_->a();
    how.stdout_fd = devnull_;
    na_ = std::make_unique<Netacct>(o, how);
    held_ = heldBy(na_->pid());
    std::fprintf(stderr, "[BYSTANDER] netacct %d running (%zu BPF objects, %zu on na0 of %s)\n",
                 na_->pid(), held_.size(), wireProgsOn(net_->a(), "na0").size(), net_->a().c_str());
    ASSERT_EQ(wireProgsOn(net_->a(), "na0").size(), 2u) << "the bystander's wire layer is not on";
  }

  void TearDown() override {
    if (!na_) return;
    const pid_t pid = na_->pid();
    const auto early = na_->process().exited();
    EXPECT_FALSE(early) << "the bystander netacct " << pid << " ended during the run (wait status "
                        << early.value_or(0) << "); stderr:\n"
                        << na_->process().err();
    if (!early) {
      const NetacctRun run = na_->stop();
      EXPECT_TRUE(run.exitedZero()) << "the bystander netacct " << run.describe();
    }
    EXPECT_TRUE(wireProgsOn(net_->a(), "na0").empty())
        << "the bystander left on na0:" << describe(tcProgs(net_->a(), "na0"));
    const BpfIds left = waitGone(held_, scaled(3));
    EXPECT_TRUE(left.empty()) << "the bystander left loaded: " << describe(left);
    na_.reset();
    net_.reset();
    close(devnull_);
  }

 private:
  std::unique_ptr<NetnsPair> net_;
  std::unique_ptr<Netacct> na_;
  BpfIds held_;
  int devnull_ = -1;
};

// Registered before main() runs (gtest owns the environment).
const bool kRegistered = [] {
  const char* on = std::getenv("NETACCT_TEST_BYSTANDER");
  if (on != nullptr && std::string(on) == "1") ::testing::AddGlobalTestEnvironment(new Bystander);
  return true;
}();

}  // namespace
}  // namespace kt
