// Forked traffic processes that report their own ground truth.
//
// A Child runs `body` in a fork of the test process, inside a network
// namespace, with a distinctive comm (prctl PR_SET_NAME). The body adds the
// return value of every byte-moving syscall it makes to ctx.counts; when it
// returns, the counts go to the parent over a pipe. The parent knows the pid
// from fork(), so it can look that pid up in netacct's reports.
//
// Bodies must not use gtest assertions (they would be lost in the child):
// they throw, and the child exits non-zero, which finish() turns into an error.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <utility>

namespace kt {

struct Counts {
  uint64_t tx = 0;
  uint64_t rx = 0;
  Counts& operator+=(const Counts& o) {
    tx += o.tx;
    rx += o.rx;
    return *this;
  }
};

// The child's side of its pipes.
class ChildCtx {
 public:
  Counts counts;
  // Sends two numbers to the parent (a listening port, a grandchild's pid...).
  // Atomic on the pipe, so a forked grandchild may post too.
  void post(uint64_t a, uint64_t b = 0) const;
  // Blocks until the parent calls Child::go().
  void waitGo() const;

 private:
  friend class Child;
  int msg_fd_ = -1;
  int go_fd_ = -1;
};

class Child {
 public:
  using Body = std::function<void(ChildCtx&)>;
  using Post = std::pair<uint64_t, uint64_t>;

  // netns: name under /run/netns, or "" to stay in the test's namespace.
  // comm: at most 15 characters (TASK_COMM_LEN - 1).
  Child(const std::string& netns, const std::string& comm, Body body);
  ~Child();  // kills and reaps a child that was not finished
  Child(Child&& other) noexcept;
  Child& operator=(Child&&) = delete;
  Child(const Child&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& comm() const { return comm_; }

  // Every wait on a child is bounded by this (scaled, see env.hpp).
  static std::chrono::seconds timeout();

  // The next ctx.post() of the child (waits up to `wait`, throws on timeout).
  Post nextPost(std::chrono::seconds wait = timeout());
  void go();  // releases a child blocked in ctx.waitGo()
  // Waits (up to `wait` for each message) for the result and the exit;
  // throws unless exit 0.
  Counts finish(std::chrono::seconds wait = timeout());

 private:
  struct Msg;
  Msg readMsg(std::chrono::seconds wait = timeout());
  void reap();

  pid_t pid_ = -1;
  std::string comm_;
  int msg_fd_ = -1;
  int go_fd_ = -1;
  bool reaped_ = false;
  std::deque<Post> posts_;
};

}  // namespace kt
