// How processes are named: after their program (the thread-group leader's
// name), not after the thread that moved the bytes; and a process that
// execve()s another program is two rows, each with its own program's name
// and bytes, the first one ended at the exec. Ground truth: see
// support/fixture.hpp.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "support/fixture.hpp"

namespace kt {
namespace {

constexpr uint64_t kPreExecTx = 20;        // the first program's request
constexpr uint64_t kPostExecTx = 7;        // the second program's request
constexpr uint64_t kDownload = MiB + 205;  // what the second program downloads

// Fixed-size records on the exec child's report pipe (< PIPE_BUF: atomic).
struct ExecMsg {
  enum Kind : uint32_t { kReady = 1, kPreExec = 2, kPostExec = 3 };
  uint32_t kind = 0;
  uint32_t pad = 0;
  uint64_t tx = 0;
  uint64_t rx = 0;
};

bool writeAll(int fd, const void* p, size_t n) { return write(fd, p, n) == ssize_t(n); }

bool sendAll(int fd, uint64_t n, uint64_t* sent) {
  char buf[4096] = {};
  *sent = 0;
  while (*sent < n) {
    ssize_t k = send(fd, buf, std::min<uint64_t>(sizeof buf, n - *sent), MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    *sent += k;
  }
  return true;
}

// The program the exec test's child turns into: this test binary, exec'd
// through a symlink that gives it another name, told by NA_EXEC_HELPER which
// fds it inherited. It sends its request, downloads to EOF, reports what its
// syscalls returned, and waits to be released. Runs before main and never
// returns to it; uses nothing that another file initialises.
__attribute__((constructor)) void execHelperMain() {
  const char* spec = std::getenv("NA_EXEC_HELPER");
  if (!spec) return;
  int sock = -1, report = -1, ctl = -1;
  if (std::sscanf(spec, "%d,%d,%d", &sock, &report, &ctl) != 3) _exit(90);
  ExecMsg m{.kind = ExecMsg::kPostExec};
  if (!sendAll(sock, kPostExecTx, &m.tx)) _exit(91);
  std::vector<char> buf(64 * KiB);
  for (;;) {
    ssize_t k = recv(sock, buf.data(), buf.size(), 0);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) _exit(92);
    if (k == 0) break;
    m.rx += k;
  }
  close(sock);
  if (!writeAll(report, &m, sizeof m)) _exit(93);
  char c;
  while (read(ctl, &c, 1) < 0 && errno == EINTR) {
  }
  _exit(0);
}

// A directory under /tmp with `name` -> this test binary: execve() through it
// names the new program `name` (the kernel takes comm from the path).
class HelperLink {
 public:
  explicit HelperLink(const std::string& name) {
    char dir[] = "/tmp/na-names.XXXXXX";
    if (!mkdtemp(dir)) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    dir_ = dir;
    chmod(dir_.c_str(), 0755);
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) throw std::system_error(errno, std::generic_category(), "readlink /proc/self/exe");
    self[n] = 0;
    path_ = dir_ + "/" + name;
    if (symlink(self, path_.c_str()) != 0)
      throw std::system_error(errno, std::generic_category(), "symlink " + path_);
  }
  ~HelperLink() {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

// A process in `netns` named `comm` that connects to `to`, waits for go(),
// sends kPreExecTx bytes, then execs the helper. Not a Child: Child expects
// its body to return, and this one becomes another program.
class ExecChild {
 public:
  ExecChild(const std::string& netns, const std::string& comm, const Endpoint& to,
            const std::string& helper) {
    int report[2], ctl[2];
    if (pipe(report) != 0 || pipe(ctl) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe");
    const pid_t parent = getpid();
    std::fflush(nullptr);
    pid_ = fork();
    if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid_ == 0) {
      close(report[0]);
      close(ctl[1]);
      run(parent, netns, comm, to, helper, report[1], ctl[0]);
    }
    close(report[1]);
    close(ctl[0]);
    report_ = report[0];
    ctl_ = ctl[1];
  }
  ~ExecChild() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(report_);
    close(ctl_);
  }
  pid_t pid() const { return pid_; }

  ExecMsg next(ExecMsg::Kind want) {
    ExecMsg m;
    pollfd p{report_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(scaledMs(20000).count())) != 1)
      throw std::runtime_error("exec child: timeout waiting for message " + std::to_string(want));
    if (read(report_, &m, sizeof m) != ssize_t(sizeof m) || m.kind != want)
      throw std::runtime_error("exec child: no message " + std::to_string(want) +
                               " (it failed: see stderr)");
    return m;
  }
  void signal() {
    if (write(ctl_, "g", 1) != 1) throw std::system_error(errno, std::generic_category(), "ctl");
  }
  // Waits for the exit; true when the helper exited 0.
  bool finish() {
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + scaled(20);
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    reaped_ = true;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }

 private:
  [[noreturn]] static void run(pid_t parent, const std::string& netns, const std::string& comm,
                               const Endpoint& to, const std::string& helper, int report, int ctl) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(120);
    alarm(scaledSeconds(40));  // survives the exec: a hung helper dies too
    try {
      enterNetns(netns);
      prctl(PR_SET_NAME, comm.c_str());
      int fd = tcpConnect(to);
      fcntl(fd, F_SETFD, 0);  // the helper inherits the connection
      ExecMsg ready{.kind = ExecMsg::kReady};
      if (!writeAll(report, &ready, sizeof ready)) _exit(4);
      char c;
      if (read(ctl, &c, 1) != 1) _exit(5);
      ExecMsg pre{.kind = ExecMsg::kPreExec};
      if (!sendAll(fd, kPreExecTx, &pre.tx)) _exit(6);
      if (!writeAll(report, &pre, sizeof pre)) _exit(7);
      const std::string env = "NA_EXEC_HELPER=" + std::to_string(fd) + "," +
                              std::to_string(report) + "," + std::to_string(ctl);
      char* const argv[] = {const_cast<char*>(helper.c_str()), nullptr};
      char* const envp[] = {const_cast<char*>(env.c_str()), nullptr};
      execve(helper.c_str(), argv, envp);
      std::fprintf(stderr, "exec child: execve %s: %s\n", helper.c_str(), strerror(errno));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "exec child %s (pid %d): %s\n", comm.c_str(), getpid(), e.what());
    }
    _exit(3);
  }

  pid_t pid_ = -1;
  bool reaped_ = false;
  int report_ = -1, ctl_ = -1;
};

// One pid's processes[] entries, per program name, over every report.
struct ProgramRow {
  Counts bytes;
  Counts conn_bytes;  // its connections[] entries
  int entries = 0;
  bool any_alive = false;    // some entry had exited: false
  bool last_exited = false;  // "exited" of its entry in the latest report listing it
};

std::map<std::string, ProgramRow> programsOf(const NetacctRun& run, pid_t pid) {
  std::map<std::string, ProgramRow> rows;
  for (const auto& rep : run.reports) {
    for (const auto& p : arrayField(rep, "processes")) {
      if (p.value("pid", -1) != pid) continue;
      ProgramRow& r = rows[strField(p, "comm")];
      r.bytes += Counts{u64Field(p, "tx_bytes"), u64Field(p, "rx_bytes")};
      ++r.entries;
      r.last_exited = boolField(p, "exited");
      r.any_alive = r.any_alive || !r.last_exited;
    }
    for (const auto& c : arrayField(rep, "connections"))
      if (c.value("pid", -1) == pid)
        rows[strField(c, "comm")].conn_bytes +=
            Counts{u64Field(c, "tx_bytes"), u64Field(c, "rx_bytes")};
  }
  return rows;
}

class ProgramNames : public KernelTest {};

// A runtime names its threads (tokio-worker-3, Go's and Java's workers): the
// row is still the program's, named after the thread-group leader, even when
// the renamed thread is the first and only one to move bytes.
TEST_F(ProgramNames, NamedAfterTheProgramNotTheThread) {
  Netacct na;
  auto server = tcpServer(nsB(), hostB(AF_INET), "na-names-srv", [](int fd, ChildCtx& ctx) {
    ctx.counts.rx += recvToEof(fd);
    ctx.counts.tx += sendBytes(fd, 5000);
  });
  const Endpoint to = server.ep;
  Child self(nsA(), "na-leader", [to](ChildCtx& ctx) {
    Counts c;
    std::string error;
    std::thread worker([&] {
      try {
        prctl(PR_SET_NAME, "tokio-worker-3");
        int fd = tcpConnect(to);
        c.tx += sendBytes(fd, 10000);
        shutdown(fd, SHUT_WR);
        c.rx += recvToEof(fd);
        close(fd);
      } catch (const std::exception& e) {
        error = e.what();
      }
    });
    worker.join();
    if (!error.empty()) throw std::runtime_error("worker: " + error);
    ctx.counts += c;
  });
  const Counts counts = self.finish();
  server.child.finish();
  const NetacctRun run = na.stop();

  expectAccounted(run, self, counts);  // every entry is named na-leader
  EXPECT_EQ(viewOf(run, self.pid()).comms, (std::set<std::string>{"na-leader"}))
      << describePid(run, self.pid());
}

// python3 sends a request, then execvp("curl") downloads: two programs, one
// PID. The first row holds exactly what the first program moved and is
// reported ended (exited) in the window of the exec; the second is named
// after the new program, holds exactly its bytes, and is alive.
TEST_F(ProgramNames, ExecSplitsTheRowAtTheExec) {
  NetacctOptions opts;
  opts.interval = 2;  // send and exec fall in one window (see below)
  Netacct na(opts);
  auto server = tcpServer(nsB(), hostB(AF_INET), "na-exec-srv", [](int fd, ChildCtx& ctx) {
    std::vector<char> buf(kPreExecTx + kPostExecTx);
    while (ctx.counts.rx < buf.size()) {
      ssize_t k = recv(fd, buf.data(), buf.size() - ctx.counts.rx, 0);
      if (k <= 0) throw std::runtime_error("exec server: short request");
      ctx.counts.rx += k;
    }
    ctx.counts.tx += sendBytes(fd, kDownload);
  });
  HelperLink helper("na-post-exec");
  ExecChild child(nsA(), "na-pre-exec", server.ep, helper.path());
  child.next(ExecMsg::kReady);
  // Start right after a report: the send and the exec, microseconds apart,
  // are then read together at the end of this window.
  na.waitReportLines(na.reportLines() + 1, scaled(10));
  child.signal();
  const ExecMsg pre = child.next(ExecMsg::kPreExec);
  const ExecMsg post = child.next(ExecMsg::kPostExec);
  // The new program stays alive for two more reports.
  na.waitReportLines(na.reportLines() + 2, scaled(10));
  child.signal();
  EXPECT_TRUE(child.finish()) << "the exec'd helper failed";
  const Counts served = server.child.finish();
  const NetacctRun run = na.stop();

  EXPECT_EQ(served.rx, pre.tx + post.tx);
  EXPECT_EQ(served.tx, post.rx);
  auto rows = programsOf(run, child.pid());
  ASSERT_EQ(rows.size(), 2u) << describePid(run, child.pid());
  const ProgramRow& before = rows["na-pre-exec"];
  const ProgramRow& after = rows["na-post-exec"];
  EXPECT_EQ(before.bytes.tx, pre.tx);
  EXPECT_EQ(before.bytes.rx, 0u);
  EXPECT_EQ(before.conn_bytes.tx, pre.tx);
  EXPECT_EQ(before.conn_bytes.rx, 0u);
  EXPECT_TRUE(before.last_exited) << "the first program was not reported ended at its exec: "
                                  << describePid(run, child.pid());
  EXPECT_EQ(after.bytes.tx, post.tx);
  EXPECT_EQ(after.bytes.rx, post.rx);
  EXPECT_EQ(after.conn_bytes.tx, post.tx);
  EXPECT_EQ(after.conn_bytes.rx, post.rx);
  EXPECT_TRUE(after.any_alive) << describePid(run, child.pid());
}

}  // namespace
}  // namespace kt
