// netacct doctor and the promises around privileges and kernel state: what
// an unprivileged user is told, which backend auto picks, and that no BPF
// program outlives netacct however it exits.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
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
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "support/bpf_objects.hpp"
#include "support/fixture.hpp"
#include "support/stderr_watch.hpp"

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
// because that is what such a user sees, but the binary under test lives in the build
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
    std::filesystem::copy_file(netacctBinary(), path_, ec);
    if (!ec) std::filesystem::permissions(dir_, kMode, ec);
    if (!ec) std::filesystem::permissions(path_, kMode, ec);
    if (ec) {
      remove();
      throw std::runtime_error("cannot copy " + netacctBinary() + " to " + path_ + ": " +
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
  args = hostSafe(std::move(args));
  args.insert(args.begin(), copy ? copy->path() : netacctBinary());
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

// ---- what a run left in the kernel ----
//
// Judged by id against what THIS run loaded (support/bpf_objects.hpp), not
// by a list of program names: every program, map, link and BTF object the
// netacct process held while it ran must be gone after it exits, and no
// object may have appeared during the run under one of its names without
// anyone holding it (e.g. a program attached without a link, its fd closed).

// What a ready netacct holds, minus what existed before it started.
struct RunObjects {
  BpfIds before;                // the machine before netacct started
  BpfIds held;                  // created by this run and held by netacct
  std::set<std::string> names;  // of its programs and maps
};

RunObjects objectsOf(pid_t pid, const BpfIds& before) {
  RunObjects r{before, heldBy(pid).minus(before), {}};
  r.names = namesOf(r.held);
  return r;
}

// Objects created since `before` under one of `names` (links and BTF
// objects: any) that no live process holds.
BpfIds orphansSince(const BpfIds& before, const std::set<std::string>& names) {
  const BpfIds fresh = named(allLoaded().minus(before), names);
  return stillLoaded(fresh.minus(heldByAnyone()));
}

// After netacct exited: nothing it held, no orphan of its making. The kernel
// frees an object after its last reference goes (a link's program a moment
// after the link): poll briefly before calling it a leak.
void expectNothingLeft(const RunObjects& run, const std::string& how) {
  SCOPED_TRACE(how);
  const BpfIds left = waitGone(run.held, scaled(3));
  EXPECT_TRUE(left.empty()) << "still loaded after netacct exited: " << describe(left);
  BpfIds orphans = orphansSince(run.before, run.names);
  for (auto deadline = std::chrono::steady_clock::now() + scaled(3);
       !orphans.empty() && std::chrono::steady_clock::now() < deadline;) {
    usleep(50 * 1000);
    orphans = orphansSince(run.before, run.names);
  }
  EXPECT_TRUE(orphans.empty()) << "created during the run and held by no process: "
                               << describe(orphans);
}

bool hasLine(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) return true;
  return false;
}

// Starts `args`, waits for `netacct: ready`, records what it holds.
RunObjects startAndRecord(Process& na, const BpfIds& before) {
  const bool ready = na.waitOutput(
      [](auto&, const std::string& err) { return hasLine(err, "netacct: ready"); }, scaled(20));
  EXPECT_TRUE(ready) << "netacct never got ready; stderr:\n" << na.err();
  RunObjects run = objectsOf(na.pid(), before);
  EXPECT_FALSE(run.held.progs.empty()) << "sanity: netacct's programs are visible by id";
  EXPECT_FALSE(run.held.maps.empty()) << "sanity: netacct's maps are visible by id";
  return run;
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

// What an unprivileged doctor cannot check is "unknown", never available or
// unavailable: a backend root finds available is unknown to nobody.
TEST(Doctor, WithoutPrivilegesWhatCannotBeCheckedIsUnknown) {
  KT_REQUIRE_KERNEL();
  auto root = doctor_json(), nobody = doctor_json(kNobody);
  for (const char* b : {"tracepoint", "fentry", "kprobe"}) {
    const auto& mine = nobody["backends"][b];
    EXPECT_NE(mine["status"], "available") << nobody.dump();
    if (root["backends"][b]["available"].get<bool>()) {
      EXPECT_EQ(mine["status"], "unknown") << b << ": " << nobody.dump();
      EXPECT_TRUE(mine["available"].is_null()) << b << ": " << nobody.dump();
    }
  }
  Result r = run({"doctor"}, kNobody);
  EXPECT_NE(r.out.find("unknown (needs root to check)"), std::string::npos) << r.out;
  // DNS capture (remote names): root loads it on every kernel netacct runs
  // on (ring buffers and cgroup_skb since 5.8); nobody cannot tell.
  EXPECT_EQ(root["dns_names"]["available"], true) << root.dump();
  EXPECT_TRUE(nobody["dns_names"]["available"].is_null()) << nobody.dump();
  EXPECT_NE(r.out.find("dns names           unknown: needs CAP_NET_ADMIN and BPF capabilities to "
                       "check\n"),
            std::string::npos)
      << r.out;
}

TEST(Report, WithoutPrivilegesPrintsOneLineAndExitsOne) {
  KT_REQUIRE_KERNEL();
  Result r = run({"report", "--interval", "1"}, kNobody);
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_EQ(r.err, "netacct: " + std::string(kNoCapabilities) + "\n");
  EXPECT_EQ(r.out, "");
}

// A backend doctor calls unavailable, forced: bad_input_test.cpp.

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

// Links are file descriptors: however netacct ends (SIGKILL, SIGTERM,
// SIGINT, SIGHUP, the last --count report, the last top --batch frame), every
// program, map, link and BTF object it loaded is gone, by id.
TEST(Report, NothingStaysLoadedHoweverNetacctExits) {
  KT_REQUIRE_KERNEL();
  const std::string backend = testBackend();
  for (int sig : {SIGKILL, SIGTERM, SIGINT, SIGHUP}) {
    const BpfIds before = allLoaded();
    Process na(reportArgs({}));
    const RunObjects run = startAndRecord(na, before);
    kill(na.pid(), sig);
    ASSERT_TRUE(na.waitExit(scaled(10))) << "netacct did not exit on signal " << sig;
    expectNothingLeft(run, "after signal " + std::to_string(sig) + " (" + strsignal(sig) + ")");
  }
  const std::vector<std::vector<std::string>> ends = {
      {"report", "--interval", "0.3", "--count", "2", "--backend", backend},
      {"top", "--batch", "--delay", "0.3", "--count", "2", "--backend", backend}};
  for (const auto& args : ends) {
    const BpfIds before = allLoaded();
    Process na(args);
    const RunObjects run = startAndRecord(na, before);
    const auto status = na.waitExit(scaled(20));
    ASSERT_TRUE(status) << args[0] << " --count 2 did not end";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << na.err();
    expectNothingLeft(run, "after netacct " + args[0] + " --count 2 ended");
  }
}

// ---- a load or attach that fails after something was loaded ----
//
// RLIMIT_NOFILE makes the kernel refuse the Nth file descriptor, and every
// BPF map, program and link is one: with a limit a little below what a
// ready netacct holds, its last links (or programs, or maps) cannot be
// created after the rest were. No hook in the product is needed.
//
// "A failed load or attach unloads everything before the error is printed"
// is checked at the moment the error line is written, not after exit
// (exiting closes every fd anyway and would hide a missing cleanup): every
// write netacct makes to stderr first stops on a seccomp notification
// (support/stderr_watch.hpp), and before the first byte of each line the
// test records what of this run is still loaded. Then netacct must exit 1.

struct FdLimitOutcome {
  enum Kind { ready, cannot_load, cannot_attach, other } kind = other;
  std::string stderr_text;
  std::string error_line;       // the "netacct: cannot ..." line, if any
  std::string loaded_at_error;  // what was loaded as it was written ("" = nothing)
  std::optional<int> status;
};

FdLimitOutcome runWithFdLimit(rlim_t limit, const std::vector<std::string>& args,
                              const std::set<std::string>& names) {
  FdLimitOutcome o;
  const BpfIds before = allLoaded();
  Spawn how;
  how.nofile = limit;
  how.watch_stderr = true;
  Process na(args, how);
  const pid_t pid = na.pid();
  {
    StderrWatch watch(na, [&](const std::string&) -> std::string {
      // This run's objects: held by netacct, or made since `before` under its
      // names and held by nobody (freed ids vanish at once; a moment's grace).
      auto mine = [&] {
        return heldBy(pid).minus(before).plus(
            stillLoaded(named(allLoaded().minus(before), names).minus(heldByAnyone())));
      };
      BpfIds left = mine();
      if (!left.empty()) left = waitGone(left, std::chrono::milliseconds(100));
      return left.empty() ? "" : describe(left);
    });
    // Ready (running) or exited.
    na.waitOutput([](auto&, const std::string& err) { return hasLine(err, "netacct: ready"); },
                  scaled(20));
    if (hasLine(na.err(), "netacct: ready")) {
      o.kind = FdLimitOutcome::ready;
      kill(pid, SIGTERM);
    }
    o.status = na.waitExit(scaled(10));
    for (const auto& line : watch.lines()) {
      if (line.text.rfind("netacct: cannot attach ", 0) == 0)
        o.kind = FdLimitOutcome::cannot_attach;
      else if (line.text.rfind("netacct: cannot load ", 0) == 0)
        o.kind = FdLimitOutcome::cannot_load;
      else
        continue;
      o.error_line = line.text;
      o.loaded_at_error = line.at;
    }
    o.stderr_text = watch.text();
  }
  return o;
}

// Counts file descriptors of a process (0, 1, 2 included).
int openFds(pid_t pid) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

TEST(Report, FailedLoadOrAttachUnloadsEverythingBeforeTheErrorIsPrinted) {
  KT_REQUIRE_KERNEL();
  const std::vector<std::string> args = {"report", "--interval", "1",          "--count",
                                         "0",      "--backend",  testBackend()};
  // A normal run: how many fds a ready netacct holds, and its object names.
  int ready_fds = 0;
  RunObjects reference;
  {
    const BpfIds before = allLoaded();
    Process na(args);
    reference = startAndRecord(na, before);
    ready_fds = openFds(na.pid());
    kill(na.pid(), SIGTERM);
    ASSERT_TRUE(na.waitExit(scaled(10)));
    expectNothingLeft(reference, "the reference run");
  }
  ASSERT_GT(ready_fds, 3);
  const size_t objects =
      reference.held.progs.size() + reference.held.maps.size() + reference.held.links.size();
  // Limits from one fd short of a ready netacct downwards, until both a
  // failed attach and a failed load (maps made, programs not all) were seen.
  // First the likeliest: one short (the last link fails), then around the
  // fds held before the first link (the attach may open a file or two of its
  // own); then every other.
  // Then part way through the programs (stdio, the maps and half of the
  // programs: a kprobe link holds a perf event fd too, so counting back from
  // the ready fds misses the load by far on that backend).
  const int links = int(reference.held.links.size()),
            lowest = std::max(4, ready_fds - int(objects) - 4);
  std::vector<int> limits = {ready_fds - 1};
  const int part_way = 3 + int(reference.held.maps.size()) + int(reference.held.progs.size()) / 2;
  for (int k : {0, -2, 2})
    if (part_way + k >= 4 && part_way + k < ready_fds - 1) limits.push_back(part_way + k);
  for (int k : {2, 1, 3, 0, 4})
    if (ready_fds - links - k >= lowest) limits.push_back(ready_fds - links - k);
  for (int limit = ready_fds - 2; limit >= lowest; --limit)
    if (std::find(limits.begin(), limits.end(), limit) == limits.end()) limits.push_back(limit);
  int attach_failures = 0, load_failures = 0;
  std::string seen;
  for (const int limit : limits) {
    if (attach_failures && load_failures) break;
    SCOPED_TRACE("RLIMIT_NOFILE " + std::to_string(limit) + " (ready netacct holds " +
                 std::to_string(ready_fds) + " fds)");
    const FdLimitOutcome o = runWithFdLimit(rlim_t(limit), args, reference.names);
    seen += "  limit " + std::to_string(limit) + ":\n" + o.stderr_text;
    ASSERT_TRUE(o.status) << "netacct did not exit; stderr:\n" << o.stderr_text;
    if (o.kind == FdLimitOutcome::ready) continue;  // it fit after all
    EXPECT_TRUE(WIFEXITED(*o.status) && WEXITSTATUS(*o.status) == 1)
        << "wait status " << *o.status << "; stderr:\n"
        << o.stderr_text;
    if (o.kind == FdLimitOutcome::other) {
      ADD_FAILURE() << "neither running nor a load/attach error; stderr:\n" << o.stderr_text;
      continue;
    }
    attach_failures += o.kind == FdLimitOutcome::cannot_attach;
    load_failures += o.kind == FdLimitOutcome::cannot_load;
    EXPECT_EQ(o.loaded_at_error, "")
        << "still loaded while netacct printed \"" << o.error_line << "\"";
    EXPECT_EQ(o.stderr_text.find(o.error_line + "\n"),
              o.stderr_text.size() - o.error_line.size() - 1)
        << "the error is the last line netacct prints:\n"
        << o.stderr_text;
  }
  if (std::getenv("NETACCT_TEST_VERBOSE") != nullptr)
    std::fprintf(stderr, "outcomes by RLIMIT_NOFILE:\n%s", seen.c_str());
  EXPECT_GT(attach_failures, 0) << "no limit made an attach fail after the load; outcomes:\n"
                                << seen;
  EXPECT_GT(load_failures, 0) << "no limit made the load fail part way; outcomes:\n" << seen;
  EXPECT_TRUE(orphansSince(reference.before, reference.names).empty());
}

}  // namespace
}  // namespace kt
