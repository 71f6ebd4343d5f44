#include "netacct.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <system_error>

#ifndef NETACCT_BIN
#error "NETACCT_BIN must name the netacct binary under test"
#endif

extern char** environ;

namespace kt {
namespace {

size_t countLines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }

bool hasReadyLine(const std::string& err) {
  std::istringstream in(err);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("netacct: ready", 0) == 0) return true;
  return false;
}

std::string fmt(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

// ---- Process ----

namespace {

// The environment netacct gets: ours, with `changes` applied.
std::vector<std::string> environmentWith(const std::vector<std::string>& changes) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  for (const auto& c : changes) {
    const std::string name = c.substr(0, c.find('='));
    std::erase_if(
        env, [&](const std::string& v) { return v.compare(0, name.size() + 1, name + "=") == 0; });
    if (c.find('=') != std::string::npos) env.push_back(c);
  }
  return env;
}

// In the forked child: takes `caps` (every one when `every`) out of the
// bounding and inheritable sets, which is what root's capabilities after
// exec are made of, and clears the ambient set. Only syscalls.
bool dropCaps(const std::vector<int>& caps, bool every) {
  auto drop = [](int cap) { return prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0 || errno == EINVAL; };
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  for (int cap = 0; cap < 64; ++cap) {
    if (!every && std::find(caps.begin(), caps.end(), cap) == caps.end()) continue;
    if (!drop(cap)) return false;
    data[cap / 32].inheritable &= ~(1u << (cap % 32));
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) return false;
  return syscall(SYS_capset, &hdr, data) == 0;
}

// In the forked child, before exec: only syscalls. Returns false on failure.
bool applySpawn(const Spawn& how, int netns_fd) {
  if (!how.binds.empty()) {
    if (unshare(CLONE_NEWNS) != 0) return false;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return false;
    for (const auto& [file, over] : how.binds)
      if (mount(file.c_str(), over.c_str(), nullptr, MS_BIND, nullptr) != 0) return false;
  }
  if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) != 0) return false;
  if (how.nofile) {
    rlimit rl{*how.nofile, *how.nofile};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return false;
  }
  if ((how.drop_every_cap || !how.drop_caps.empty()) &&
      !dropCaps(how.drop_caps, how.drop_every_cap))
    return false;
  return true;
}

// A seccomp filter that sends write(2, ...) and writev(2, ...) to a user
// notification listener; everything else is allowed.
int installStderrFilter() {
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_write, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_writev, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  return static_cast<int>(
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog));
}

bool sendFd(int sock, int fd) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  return sendmsg(sock, &msg, 0) == 1;
}

int recvFd(int sock, std::chrono::milliseconds timeout) {
  pollfd p{sock, POLLIN, 0};
  if (poll(&p, 1, int(timeout.count())) <= 0) return -1;
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctl;
  msg.msg_controllen = sizeof ctl;
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1) return -1;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(c), sizeof(int));
  return fd;
}

}  // namespace

Process::Process(const std::vector<std::string>& args, const Spawn& how) {
  std::vector<std::string> full{NETACCT_BIN};
  for (auto& a : hostSafe(args, how.netns)) full.push_back(std::move(a));
  std::vector<std::string> env = environmentWith(how.env);
  std::vector<char*> argv, envp;  // built before fork: only exec-safe calls after it
  for (auto& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int netns_fd = -1;
  if (!how.netns.empty()) {
    const std::string path = "/run/netns/" + how.netns;
    netns_fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (netns_fd < 0) throw std::system_error(errno, std::generic_category(), "open " + path);
  }

  int out[2], err[2], fdpass[2] = {-1, -1};
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe");
  if (how.watch_stderr && socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fdpass) != 0)
    throw std::system_error(errno, std::generic_category(), "socketpair");
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid_ == 0) {
    // SIGTERM, not SIGKILL: netacct must clean up its kernel state if we die.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(how.stdout_fd >= 0 ? how.stdout_fd : out[1], 1);
    dup2(how.stderr_fd >= 0 ? how.stderr_fd : err[1], 2);
    // netacct starts with no signal blocked and the stop signals at their
    // defaults, whatever the test runner (a thread, nohup) left behind.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGHUP, SIGINT, SIGTERM}) signal(sig, SIG_DFL);
    if (!applySpawn(how, netns_fd)) {
      dprintf(err[1], "test harness: cannot prepare netacct's process: %s\n", strerror(errno));
      _exit(126);
    }
    if (how.watch_stderr) {  // last: from here on, a write to fd 2 waits for the test
      const int listener = installStderrFilter();
      if (listener < 0 || !sendFd(fdpass[1], listener)) _exit(125);
      close(listener);
    }
    syscall(SYS_close_range, 3U, ~0U, 0U);  // inherits nothing of the test's (a flock fd...)
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  if (netns_fd >= 0) close(netns_fd);
  if (how.watch_stderr) {
    close(fdpass[1]);
    listener_fd_ = recvFd(fdpass[0], std::chrono::seconds(scaledSeconds(10)));
    close(fdpass[0]);
    if (listener_fd_ < 0) throw std::runtime_error("no seccomp listener from netacct's process");
  }
  close(out[1]);
  close(err[1]);
  out_fd_ = out[0];
  err_fd_ = err[0];
  reader_ = std::thread([this] { drain(); });
}

Process::~Process() {
  // Only reached on a failed test: let netacct detach cleanly, then insist.
  if (!reaped_) {
    kill(pid_, SIGTERM);
    if (!waitExit(5s)) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  if (reader_.joinable()) reader_.join();
  close(out_fd_);
  close(err_fd_);
  if (listener_fd_ >= 0) close(listener_fd_);
}

void Process::drain() {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  char buf[65536];
  int open_streams = 2;
  while (open_streams > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock(mu_);
      if (n <= 0) {
        fds[i].fd = -1;
        --open_streams;
      } else {
        (i == 0 ? out_ : err_).append(buf, n);
        if (i == 0) arrivals_.emplace_back(std::chrono::steady_clock::now(), out_.size());
      }
      cv_.notify_all();
    }
  }
  std::lock_guard lock(mu_);
  closed_ = true;
  cv_.notify_all();
}

bool Process::waitOutput(const std::function<bool(const std::string&, const std::string&)>& pred,
                         std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return closed_ || pred(out_, err_); });
  return pred(out_, err_);
}

std::optional<int> Process::waitExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!reaped_) {
    pid_t r = waitpid(pid_, &status_, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) {
      reaped_ = true;
      break;
    }
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(5ms);
  }
  if (reader_.joinable()) reader_.join();  // streams close once it exited
  return status_;
}

std::vector<std::pair<std::chrono::steady_clock::time_point, size_t>> Process::outArrivals() {
  std::lock_guard lock(mu_);
  return arrivals_;
}

std::string Process::out() {
  std::lock_guard lock(mu_);
  return out_;
}

std::string Process::err() {
  std::lock_guard lock(mu_);
  return err_;
}

// ---- Netacct ----

std::vector<std::string> reportArgs(const NetacctOptions& o) {
  std::vector<std::string> a{"report",   "--interval", fmt(o.interval), "--count", "0",
                             "--format", o.format,     "--backend",     o.backend};
  if (o.loopback) a.push_back("--loopback");
  for (pid_t p : o.pids) {
    a.push_back("--pid");
    a.push_back(std::to_string(p));
  }
  a.insert(a.end(), o.extra.begin(), o.extra.end());
  return a;
}

Netacct::Netacct(const NetacctOptions& opts, const Spawn& how)
    : proc_(reportArgs(opts), how), json_(opts.format == "json") {
  // Traffic before the ready line is not counted: wait for it.
  bool ready = proc_.waitOutput([](auto&, const std::string& err) { return hasReadyLine(err); },
                                std::chrono::seconds(scaledSeconds(20)));
  if (!ready) {
    auto status = proc_.waitExit(0ms);
    throw std::runtime_error(
        "netacct did not print `netacct: ready` (" +
        (status ? "exited, wait status " + std::to_string(*status) : std::string("still running")) +
        "); stderr:\n" + proc_.err());
  }
}

size_t Netacct::reportLines() { return countLines(proc_.out()); }

void Netacct::waitReportLines(size_t n, std::chrono::milliseconds timeout) {
  if (!proc_.waitOutput([n](const std::string& out, auto&) { return countLines(out) >= n; },
                        timeout))
    throw std::runtime_error("netacct printed fewer than " + std::to_string(n) +
                             " report lines in time; stderr:\n" + proc_.err());
}

NetacctRun Netacct::stop(int sig) {
  NetacctRun run;
  const auto t0 = std::chrono::steady_clock::now();
  kill(proc_.pid(), sig);
  run.wait_status = proc_.waitExit(std::chrono::seconds(scaledSeconds(10)));
  run.stop_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!run.wait_status) {
    kill(proc_.pid(), SIGKILL);
    proc_.waitExit(5s);
  }
  run.err = proc_.err();
  run.out = proc_.out();
  std::istringstream in(run.out);
  for (std::string line; std::getline(in, line);) {
    run.lines.push_back(line);
    if (!json_) continue;
    try {
      run.reports.push_back(nlohmann::json::parse(line));
    } catch (const std::exception& e) {
      ADD_FAILURE() << "netacct printed a line that is not JSON (" << e.what() << "): " << line;
    }
  }
  EXPECT_TRUE(run.exitedZero()) << "netacct did not exit 0 after signal " << sig << "\n"
                                << run.describe();
  if (std::getenv("NETACCT_TEST_VERBOSE") != nullptr)  // for debugging a failing scenario
    std::fprintf(stderr, "---- netacct stderr\n%s---- netacct stdout\n%s----\n", run.err.c_str(),
                 proc_.out().c_str());
  return run;
}

bool NetacctRun::exitedZero() const {
  return wait_status && WIFEXITED(*wait_status) && WEXITSTATUS(*wait_status) == 0;
}

std::string NetacctRun::describe() const {
  std::ostringstream o;
  if (!wait_status)
    o << "netacct: did not exit after the stop signal (killed)\n";
  else if (WIFEXITED(*wait_status))
    o << "netacct: exit " << WEXITSTATUS(*wait_status) << "\n";
  else
    o << "netacct: killed by signal " << WTERMSIG(*wait_status) << "\n";
  o << "stderr:\n" << err << "\n" << lines.size() << " report line(s)";
  return o.str();
}

}  // namespace kt
