// netacct doctor and the promises around privileges and kernel state: what
// an unprivileged user is told, which backend auto picks, and that no BPF
// program outlives netacct however it exits.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <system_error>
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

// A copy of the binary under test that any user can execute, for the
// unprivileged checks. Those run netacct as a real unprivileged user (nobody),
// because that is what such a user sees, but NETACCT_BIN lives in the build
// tree, wherever the checkout is: under /root (mode 0700) nobody cannot reach
// it and exec fails. So the copy goes to a fresh directory of its own, made
// 0755 like the binary, under /tmp itself rather than $TMPDIR (which may be a
// private per-user directory), and is removed afterwards. netacct links only
// system libraries, so the copy runs exactly like the original.
class WorldExecutableCopy {
 public:
  WorldExecutableCopy() {
    std::string tmpl = "/tmp/netacct-kt-bin-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr)
      throw std::system_error(errno, std::generic_category(), "mkdtemp " + tmpl);
    dir_ = tmpl;
    path_ = dir_ + "/netacct";
    std::error_code ec;
    std::filesystem::copy_file(NETACCT_BIN, path_, ec);
    if (!ec) std::filesystem::permissions(dir_, kMode, ec);
    if (!ec) std::filesystem::permissions(path_, kMode, ec);
    if (ec) {
      remove();
      throw std::runtime_error("cannot copy " + std::string(NETACCT_BIN) + " to " + path_ + ": " +
                               ec.message());
    }
  }
  ~WorldExecutableCopy() { remove(); }
  WorldExecutableCopy(const WorldExecutableCopy&) = delete;
  WorldExecutableCopy& operator=(const WorldExecutableCopy&) = delete;

  const std::string& path() const { return path_; }

 private:
  static constexpr auto kMode =
      std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
      std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
      std::filesystem::perms::others_exec;
  void remove() noexcept {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_, path_;
};

// Runs netacct to completion; as `uid` (which drops every capability) when
// set, from a world-executable copy and in "/", so that neither the binary's
// nor the test's directory needs to be reachable by that user. Outputs are
// small, so stdout is drained before stderr.
Result run(std::vector<std::string> args, std::optional<uid_t> uid = std::nullopt) {
  std::optional<WorldExecutableCopy> copy;
  if (uid) copy.emplace();
  args.insert(args.begin(), copy ? copy->path() : std::string(NETACCT_BIN));
  std::vector<char*> argv;  // built before fork: only exec-safe calls after it
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    if (uid && (chdir("/") || setgroups(0, nullptr) || setresgid(*uid, *uid, *uid) ||
                setresuid(*uid, *uid, *uid)))
      _exit(126);
    execv(argv[0], argv.data());
    dprintf(2, "exec %s as uid %d: %s\n", argv[0], uid ? int(*uid) : int(getuid()),
            strerror(errno));
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

// IDs of the BPF programs some live process holds a file descriptor of: a
// program fd or a link fd shows "prog_id:" in /proc/PID/fdinfo.
std::set<long> programs_held_by_live_processes() {
  std::set<long> held;
  std::error_code ec;
  for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = proc.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code gone;  // processes come and go while we look
    for (const auto& fd : std::filesystem::directory_iterator(proc.path() / "fdinfo", gone)) {
      std::ifstream in(fd.path());
      for (std::string line; std::getline(in, line);)
        if (line.rfind("prog_id:", 0) == 0) held.insert(std::atol(line.c_str() + 8));
    }
  }
  return held;
}

// Names of loaded BPF programs whose name matches one of netacct's and that
// no live process holds. A netacct that exited must leave none; programs of
// a netacct still running elsewhere on the machine (someone's `netacct
// top`, another checkout's tests) are held by it, so they do not count here.
std::vector<std::string> netacct_programs_orphaned(bool include_held = false) {
  FILE* p = popen("bpftool prog show -j 2>/dev/null", "r");
  if (!p) return {"(bpftool failed)"};
  std::string text;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) text.append(buf, n);
  pclose(p);
  const std::set<long> held = include_held ? std::set<long>{} : programs_held_by_live_processes();
  std::vector<std::string> ours;
  // The kernel keeps the first 15 characters of a program's name.
  const std::set<std::string> prefixes = {"sock_send_lengt", "sock_recv_lengt", "tcp_rcv_space_a",
                                          "inet_sock_set_s", "inet_sendmsg_",   "inet_recvmsg_"};
  for (const auto& prog : nlohmann::json::parse(text.empty() ? "[]" : text)) {
    const std::string name = prog.value("name", "");
    const long id = prog.value("id", -1L);
    if (held.count(id)) continue;
    for (const auto& pre : prefixes)
      if (name.rfind(pre, 0) == 0) ours.push_back(name + " (id " + std::to_string(id) + ")");
  }
  return ours;
}

// Every loaded netacct program, held or not.
std::vector<std::string> netacct_programs_loaded() { return netacct_programs_orphaned(true); }

// The kernel frees a program after an RCU grace period once its last fd is
// closed: poll briefly before calling it leaked.
std::vector<std::string> programs_left_after_exit() {
  auto deadline = std::chrono::steady_clock::now() + scaled(3);
  auto left = netacct_programs_orphaned();
  while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
    usleep(50 * 1000);
    left = netacct_programs_orphaned();
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
  if (auto want = expectedBackend()) {
    EXPECT_EQ(j["selected"], *want);
  }
}

// What an unprivileged user is told, by doctor and by report alike (one
// assessment names the first problem in the same words for both).
constexpr const char* kNoCapabilities =
    "missing CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN) to load BPF programs; run as root, e.g. "
    "'sudo netacct ...'";

TEST(Doctor, WithoutPrivilegesExplainsAndExitsOne) {
  KT_REQUIRE_KERNEL();
  Result r = run({"doctor"}, kNobody);
  EXPECT_EQ(r.exit_code(), 1) << r.out << r.err;
  EXPECT_NE(
      r.out.find("verdict             netacct cannot run: " + std::string(kNoCapabilities) + "\n"),
      std::string::npos)
      << r.out;
  auto j = doctor_json(kNobody);
  EXPECT_FALSE(j["can_run"].get<bool>());
  EXPECT_FALSE(j["capabilities"]["CAP_BPF"].get<bool>());
  EXPECT_EQ(j.value("problem", ""), kNoCapabilities) << j.dump();
}

TEST(Report, WithoutPrivilegesPrintsOneLineAndExitsOne) {
  KT_REQUIRE_KERNEL();
  Result r = run({"report", "--interval", "1"}, kNobody);
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_EQ(r.err, "netacct: " + std::string(kNoCapabilities) + "\n");
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
