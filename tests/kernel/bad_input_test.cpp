// Bad command lines and environments (bad_input_table.hpp), each run as its
// own test: netacct writes exactly the table's one line to stderr, nothing
// to stdout, exits with the table's code (2 usage, 1 cannot run here), and
// leaves no BPF object and no TC program behind. Every case runs in network
// namespace A of a test pair, so even a case that wrongly got as far as
// attaching could touch only the test's own interfaces (na0).
#include <sys/stat.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bad_input_table.hpp"
#include "support/bpf_objects.hpp"
#include "support/env.hpp"
#include "support/netacct.hpp"
#include "support/netns.hpp"
#include "support/tc.hpp"
#include "support/tempdir.hpp"

namespace kt {
namespace {

using bad_input::Case;
using bad_input::Setting;

constexpr int kCapDacOverride = 1, kCapDacReadSearch = 2, kCapSysAdmin = 21, kCapPerfmon = 38;

// The first cgroup2 mount in mountinfo: where netacct looks (resolve/cgroup).
std::string cgroup2Mount() {
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos || line.compare(dash + 3, 8, "cgroup2 ") != 0) continue;
    std::istringstream head(line.substr(0, dash));
    std::string id, parent, devno, root, mountpoint;
    head >> id >> parent >> devno >> root >> mountpoint;
    return mountpoint;
  }
  return "";
}

std::string replaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size())
    s.replace(at, from.size(), to);
  return s;
}

// What doctor says about this machine, asked once.
struct Machine {
  std::string selected;                      // the backend auto picks
  std::map<std::string, std::string> lacks;  // unavailable backend -> reason
};

const Machine& machine() {
  static const Machine m = [] {
    Machine m;
    Process doctor({"doctor", "--format", "json"});
    doctor.waitExit(scaled(20));
    const auto j = nlohmann::json::parse(doctor.out());
    m.selected = j.value("selected", "");
    for (const auto& [name, b] : j["backends"].items())
      if (b["available"] == false) m.lacks[name] = b.value("detail", "");
    return m;
  }();
  return m;
}

class BadInputCase : public ::testing::TestWithParam<Case> {
 protected:
  static void TearDownTestSuite() { net_.reset(); }
  void SetUp() override {
    KT_REQUIRE_KERNEL();
    if (!net_) net_ = std::make_unique<NetnsPair>();
  }

  // Runs one case with `fill` applied to its placeholders, and checks it.
  void check(const Case& c, const std::map<std::string, std::string>& fill);

  static std::unique_ptr<NetnsPair> net_;
};

std::unique_ptr<NetnsPair> BadInputCase::net_;

// What the setting does to netacct's process; `tmp` holds its directories.
Spawn spawnFor(const Case& c, const TempDir& tmp, const std::string& cgroup2) {
  Spawn how;
  how.env = c.env;
  switch (c.setting) {
    case Setting::none:
      break;
    case Setting::no_capabilities:
      how.drop_every_cap = true;
      break;
    case Setting::no_perfmon:
      how.drop_caps = {kCapPerfmon, kCapSysAdmin};
      break;
    case Setting::no_btf:
      how.binds = {{tmp.path(), "/sys/kernel/btf"}};
      break;
    case Setting::unreadable_cgroup: {
      const std::string locked = tmp.path() + "/locked";
      if (mkdir(locked.c_str(), 0) != 0 || chmod(locked.c_str(), 0) != 0)
        throw std::runtime_error("cannot make " + locked);
      how.binds = {{locked, cgroup2}};
      how.drop_caps = {kCapDacOverride, kCapDacReadSearch};
      break;
    }
  }
  return how;
}

std::string statusText(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

void BadInputCase::check(const Case& c, const std::map<std::string, std::string>& fill) {
  auto filled = [&](std::string s) {
    for (const auto& [key, value] : fill) s = replaceAll(std::move(s), "{" + key + "}", value);
    return s;
  };
  std::vector<std::string> args;
  for (const auto& a : c.args) args.push_back(filled(a));
  std::string want = c.err.empty() ? "" : filled(c.err) + "\n";
  if (c.runs) want += "netacct: ready (backend " + machine().selected + ")\n";
  SCOPED_TRACE(bad_input::commandLine(c));

  TempDir tmp;
  Spawn how = spawnFor(c, tmp, fill.at("cgroup2"));
  how.netns = net_->a();
  const BpfIds before = allLoaded();
  std::optional<int> status;
  std::string out, err;
  {
    Process na(args, how);
    status = na.waitExit(scaled(c.runs ? 30 : 20));
    out = na.out();
    err = na.err();
  }
  ASSERT_TRUE(status) << "netacct did not exit; stderr:\n" << err;
  EXPECT_EQ(statusText(*status), "exit " + std::to_string(c.exit_code)) << "stderr:\n" << err;
  EXPECT_EQ(err, want);
  if (c.runs)
    EXPECT_NE(out, "") << "a run that ends by --count prints what it counted";
  else
    EXPECT_EQ(out, "");

  // Nothing of this run stays: no object created since `before` that no
  // process holds (the kernel frees them a grace period after the last
  // reference: waited for), and no program on the namespace's TC hooks (an
  // empty clsact qdisc made on the legacy path stays, as README says:
  // netacct never deletes a qdisc).
  const BpfIds orphans = stillLoaded(allLoaded().minus(before).minus(heldByAnyone()));
  const BpfIds left = waitGone(orphans, scaled(3));
  EXPECT_TRUE(left.empty()) << "left loaded: " << describe(left);
  for (const char* dev : {"na0", "lo"})
    EXPECT_EQ(describe(tcProgs(net_->a(), dev)), describe(std::vector<TcProg>{})) << dev;
}

TEST_P(BadInputCase, OneLineAndTheDocumentedExitCode) {
  const Case& c = GetParam();
  const std::string cgroup2 = cgroup2Mount();
  if (c.setting == Setting::unreadable_cgroup && cgroup2.empty())
    KT_SKIP("no cgroup v2 mount to make unreadable (netacct mounts one of its own)");
  std::map<std::string, std::string> fill = {{"selected", machine().selected},
                                             {"cgroup2", cgroup2}};
  if (c.err.find("{backend}") == std::string::npos) return check(c, fill);
  // Every backend doctor calls unavailable here, each refused alone.
  if (machine().lacks.empty()) KT_SKIP("every backend is available on this kernel");
  for (const auto& [backend, reason] : machine().lacks) {
    fill["backend"] = backend;
    fill["reason"] = reason;
    SCOPED_TRACE("--backend " + backend);
    check(c, fill);
  }
}

INSTANTIATE_TEST_SUITE_P(BadInput, BadInputCase, ::testing::ValuesIn(bad_input::cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace kt
