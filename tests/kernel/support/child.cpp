#include "child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "env.hpp"
#include "netns.hpp"

namespace kt {

// Fixed-size records (< PIPE_BUF) so concurrent writers never interleave.
struct Child::Msg {
  enum Kind : uint32_t { kPost = 1, kResult = 2 };
  uint32_t kind;
  uint32_t pad;
  uint64_t a;
  uint64_t b;
};

namespace {

void writeMsg(int fd, uint32_t kind, uint64_t a, uint64_t b) {
  struct {
    uint32_t kind, pad;
    uint64_t a, b;
  } m{kind, 0, a, b};
  if (write(fd, &m, sizeof m) != static_cast<ssize_t>(sizeof m))
    throw std::system_error(errno, std::generic_category(), "write to parent");
}

// Never returns: children must not run the test process's atexit handlers.
[[noreturn]] void runChild(const std::string& netns, const std::string& comm, Child::Body& body,
                           ChildCtx& ctx, int msg_fd, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(120);
  alarm(scaledSeconds(40));  // a hung child must not hang the suite
  signal(SIGPIPE, SIG_IGN);  // a vanished peer is an error result, not a silent death
  try {
    if (!netns.empty()) enterNetns(netns);
    prctl(PR_SET_NAME, comm.c_str());
    body(ctx);
    writeMsg(msg_fd, 2, ctx.counts.tx, ctx.counts.rx);
    _exit(0);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "child %s (pid %d): %s\n", comm.c_str(), getpid(), e.what());
  } catch (...) {
    std::fprintf(stderr, "child %s (pid %d): unknown exception\n", comm.c_str(), getpid());
  }
  _exit(3);
}

}  // namespace

void ChildCtx::post(uint64_t a, uint64_t b) const { writeMsg(msg_fd_, 1, a, b); }

void ChildCtx::waitGo() const {
  char c;
  ssize_t n;
  while ((n = read(go_fd_, &c, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) throw std::runtime_error("parent went away before go()");
}

Child::Child(const std::string& netns, const std::string& comm, Body body) : comm_(comm) {
  if (comm.size() > 15) throw std::invalid_argument("comm longer than 15: " + comm);
  int msg[2], go[2];
  if (pipe2(msg, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe");
  const pid_t parent = getpid();
  std::fflush(nullptr);
  pid_ = fork();
  if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
  if (pid_ == 0) {
    close(msg[0]);
    close(go[1]);
    ChildCtx ctx;
    ctx.msg_fd_ = msg[1];
    ctx.go_fd_ = go[0];
    runChild(netns, comm, body, ctx, msg[1], parent);
  }
  close(msg[1]);
  close(go[0]);
  msg_fd_ = msg[0];
  go_fd_ = go[1];
}

Child::Child(Child&& o) noexcept
    : pid_(o.pid_),
      comm_(std::move(o.comm_)),
      msg_fd_(o.msg_fd_),
      go_fd_(o.go_fd_),
      reaped_(o.reaped_),
      posts_(std::move(o.posts_)) {
  o.pid_ = -1;
  o.msg_fd_ = o.go_fd_ = -1;
  o.reaped_ = true;
}

Child::~Child() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (msg_fd_ >= 0) close(msg_fd_);
  if (go_fd_ >= 0) close(go_fd_);
}

std::chrono::seconds Child::timeout() { return std::chrono::seconds(scaledSeconds(20)); }

Child::Msg Child::readMsg(std::chrono::seconds wait) {
  pollfd p{msg_fd_, POLLIN, 0};
  int rc = poll(&p, 1, static_cast<int>(std::chrono::milliseconds(wait).count()));
  if (rc == 0) throw std::runtime_error("timeout waiting for child " + comm_);
  Msg m{};
  ssize_t n = read(msg_fd_, &m, sizeof m);
  if (n == 0) {
    reap();  // throws with the exit status
    throw std::runtime_error("child " + comm_ + " closed its pipe without a result");
  }
  if (n != static_cast<ssize_t>(sizeof m))
    throw std::runtime_error("short read from child " + comm_);
  return m;
}

Child::Post Child::nextPost(std::chrono::seconds wait) {
  if (posts_.empty()) {
    Msg m = readMsg(wait);
    if (m.kind != Msg::kPost)
      throw std::runtime_error("child " + comm_ + " finished without posting");
    return {m.a, m.b};
  }
  Post p = posts_.front();
  posts_.pop_front();
  return p;
}

void Child::go() {
  if (write(go_fd_, "g", 1) != 1) throw std::system_error(errno, std::generic_category(), "go");
}

void Child::reap() {
  if (reaped_) return;
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout();
  pid_t r;
  while ((r = waitpid(pid_, &status, WNOHANG)) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
      reaped_ = true;
      throw std::runtime_error("child " + comm_ + " did not exit; killed");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  reaped_ = true;
  if (r < 0) throw std::system_error(errno, std::generic_category(), "waitpid " + comm_);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("child " + comm_ + " (pid " + std::to_string(pid_) + ") failed: " +
                             (WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                                : "signal " + std::to_string(WTERMSIG(status))) +
                             " (see its message on stderr)");
  }
}

Counts Child::finish(std::chrono::seconds wait) {
  for (;;) {
    Msg m = readMsg(wait);
    if (m.kind == Msg::kResult) {
      reap();
      return Counts{m.a, m.b};
    }
    posts_.emplace_back(m.a, m.b);
  }
}

}  // namespace kt
