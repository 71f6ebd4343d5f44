// netacct doctor and the promises around privileges and kernel state: what
// an unprivileged user is told, which backend auto picks, and that no BPF
// program outlives netacct however it exits.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "support/fixture.hpp"

namespace kt {
namespace {

struct Result {
  int status = -1;
  std::string out, err;
  int exit_code() const { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
};

std::string drain(int fd) {
  std::string s;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) s.append(buf, size_t(n));
  close(fd);
  return s;
}

// Runs netacct to completion, as `uid` (dropping every capability) when set.
// Outputs are small, so stdout is drained before stderr.
Result run(std::vector<std::string> args, std::optional<uid_t> uid = std::nullopt) {
  args.insert(args.begin(), NETACCT_BIN);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    if (uid &&
        (setgroups(0, nullptr) || setresgid(*uid, *uid, *uid) || setresuid(*uid, *uid, *uid)))
      _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  Result r;
  r.out = drain(out[0]);
  r.err = drain(err[0]);
  waitpid(pid, &r.status, 0);
  return r;
}

nlohmann::json doctor_json(std::optional<uid_t> uid = std::nullopt) {
  Result r = run({"doctor", "--format", "json"}, uid);
  return nlohmann::json::parse(r.out);
}

constexpr uid_t kNobody = 65534;

// Names of loaded BPF programs whose name matches one of netacct's.
std::vector<std::string> netacct_programs_loaded() {
  FILE* p = popen("bpftool prog show -j 2>/dev/null", "r");
  if (!p) return {"(bpftool failed)"};
  std::string text;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) text.append(buf, n);
  pclose(p);
  std::vector<std::string> ours;
  // The kernel keeps the first 15 characters of a program's name.
  const std::set<std::string> prefixes = {"sock_send_lengt", "sock_recv_lengt", "tcp_rcv_space_a",
                                          "inet_sock_set_s", "inet_sendmsg_",   "inet_recvmsg_"};
  for (const auto& prog : nlohmann::json::parse(text.empty() ? "[]" : text)) {
    std::string name = prog.value("name", "");
    for (const auto& pre : prefixes)
      if (name.rfind(pre, 0) == 0) ours.push_back(name);
  }
  return ours;
}

// The kernel frees a program after an RCU grace period once its last fd is
// closed: poll briefly before calling it leaked.
std::vector<std::string> programs_left_after_exit() {
  auto deadline = std::chrono::steady_clock::now() + scaled(3);
  auto left = netacct_programs_loaded();
  while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
    usleep(50 * 1000);
    left = netacct_programs_loaded();
  }
  return left;
}

TEST(Doctor, AsRootSaysNetacctCanRunAndPicksTheFirstAvailableBackend) {
  KT_REQUIRE_KERNEL();
  Result text = run({"doctor"});
  EXPECT_EQ(text.exit_code(), 0) << text.err;
  EXPECT_NE(text.out.find("verdict             netacct can run\n"), std::string::npos) << text.out;
  auto j = doctor_json();
  EXPECT_TRUE(j["can_run"].get<bool>()) << j.dump();
  std::string first;
  for (const char* b : {"tracepoint", "fentry", "kprobe"})
    if (first.empty() && j["backends"][b]["available"].get<bool>()) first = b;
  ASSERT_FALSE(first.empty()) << j.dump();
  EXPECT_EQ(j["selected"], first);
  if (auto want = expectedBackend()) EXPECT_EQ(j["selected"], *want);
}

TEST(Doctor, WithoutPrivilegesExplainsAndExitsOne) {
  KT_REQUIRE_KERNEL();
  Result r = run({"doctor"}, kNobody);
  EXPECT_EQ(r.exit_code(), 1) << r.out << r.err;
  EXPECT_NE(r.out.find("verdict             netacct cannot run: missing CAP_BPF and CAP_PERFMON: "
                       "run as root\n"),
            std::string::npos)
      << r.out;
  auto j = doctor_json(kNobody);
  EXPECT_FALSE(j["can_run"].get<bool>());
  EXPECT_FALSE(j["capabilities"]["CAP_BPF"].get<bool>());
}

TEST(Report, WithoutPrivilegesPrintsOneLineAndExitsOne) {
  KT_REQUIRE_KERNEL();
  Result r = run({"report", "--interval", "1"}, kNobody);
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_EQ(r.err,
            "netacct: missing CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) to load BPF programs; "
            "run as root, e.g. 'sudo netacct ...'\n");
  EXPECT_EQ(r.out, "");
}

// Every backend doctor calls unavailable fails alone, in one line, leaving
// nothing loaded.
TEST(Report, UnavailableBackendFailsInOneLineAndLeavesNothing) {
  KT_REQUIRE_KERNEL();
  auto j = doctor_json();
  int tried = 0;
  for (const char* b : {"tracepoint", "fentry", "kprobe"}) {
    if (j["backends"][b]["available"].get<bool>()) continue;
    ++tried;
    Result r = run({"report", "--backend", b, "--interval", "1"});
    EXPECT_EQ(r.exit_code(), 1) << b;
    EXPECT_EQ(r.err, "netacct: the " + std::string(b) + " backend is not available: " +
                         j["backends"][b]["detail"].get<std::string>() +
                         " (see 'netacct doctor')\n");
    EXPECT_EQ(programs_left_after_exit(), std::vector<std::string>{});
  }
  if (tried == 0) GTEST_SKIP() << "every backend is available on this kernel";
}

TEST(Report, MissingPidIsAWarningNotAnError) {
  KT_REQUIRE_KERNEL();
  Result r = run({"report", "--interval", "0.2", "--count", "1", "--pid", "4194303", "--format",
                  "json", "--backend", testBackend()});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_NE(r.err.find("netacct: warning: no process with PID 4194303 (yet); watching for it\n"),
            std::string::npos)
      << r.err;
  auto rep = nlohmann::json::parse(r.out);
  EXPECT_EQ(rep["processes"], nlohmann::json::array());
}

// Links are file descriptors: SIGKILL, SIGTERM and --count all detach.
TEST(Report, NothingStaysLoadedHoweverNetacctExits) {
  KT_REQUIRE_KERNEL();
  ASSERT_EQ(programs_left_after_exit(), std::vector<std::string>{}) << "left over from before";
  for (int sig : {SIGKILL, SIGTERM}) {
    Process na(reportArgs({}));
    ASSERT_TRUE(na.waitOutput(
        [](auto&, const std::string& err) {
          return err.find("netacct: ready") != std::string::npos;
        },
        scaled(20)));
    EXPECT_FALSE(netacct_programs_loaded().empty()) << "sanity: netacct's programs are visible";
    kill(na.pid(), sig);
    ASSERT_TRUE(na.waitExit(scaled(10)));
    EXPECT_EQ(programs_left_after_exit(), std::vector<std::string>{}) << "after signal " << sig;
  }
  Result r = run({"report", "--interval", "0.1", "--count", "2", "--backend", testBackend()});
  EXPECT_EQ(r.exit_code(), 0) << r.err;
  EXPECT_EQ(programs_left_after_exit(), std::vector<std::string>{});
}

}  // namespace
}  // namespace kt
