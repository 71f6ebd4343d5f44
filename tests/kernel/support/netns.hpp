// The test network: two network namespaces joined by a veth pair.
//
// This file is the ONLY place that knows how the network is built. Today it
// runs iproute2's `ip`; it can be swapped for raw netlink (for a busybox qemu
// guest) without touching any test. Removal uses only syscalls (umount2 +
// unlink, what `ip netns del` does), so it also works from signal handlers
// and atexit: namespaces are removed even when a test aborts.
//
//   namespace A  na0  10.213.1.1/24  fd00:213::1/64
//                     10.213.1.3/24  fd00:213::3/64  (a second host, same link)
//   namespace B  na1  10.213.1.2/24  fd00:213::2/64
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace kt {

class NetnsPair {
 public:
  // Creates both namespaces (names unique per test process), throws
  // std::runtime_error with the failing command's output on failure.
  // `sides` names them: "ab" gives na-t<pid>-a and na-t<pid>-b; a second
  // pair ("cd") is a copy of the first network (same interface names and
  // addresses), so the two pairs can carry identical 5-tuples.
  explicit NetnsPair(const std::string& sides = "ab");
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  const std::string& a() const { return a_; }
  const std::string& b() const { return b_; }

  static constexpr const char* kA4 = "10.213.1.1";
  static constexpr const char* kB4 = "10.213.1.2";
  static constexpr const char* kA6 = "fd00:213::1";
  static constexpr const char* kB6 = "fd00:213::2";
  // A second address of namespace A: to B, a second remote host.
  static constexpr const char* kA4second = "10.213.1.3";
  static constexpr const char* kA6second = "fd00:213::3";

 private:
  std::string a_;
  std::string b_;
};

// The namespace's inode number (what the kernel calls net->ns.inum, and
// netacct reports as "netns"); 0 if it does not exist.
uint64_t netnsInode(const std::string& name);

// Moves the calling (single-threaded, freshly forked) process into the named
// namespace: setns(open("/run/netns/NAME"), CLONE_NEWNET). Throws on failure.
void enterNetns(const std::string& name);

// Runs `ip ARGS...` without a shell; throws with its output if it fails.
void runIp(std::vector<std::string> args);

// Runs `fn` on a new thread that joined namespace `ns`; returns its result,
// rethrows its exception. The calling thread stays where it is.
template <class F>
auto inNetns(const std::string& ns, F fn) -> decltype(fn()) {
  std::optional<decltype(fn())> result;
  std::exception_ptr error;
  std::thread t([&] {
    try {
      enterNetns(ns);
      result.emplace(fn());
    } catch (...) {
      error = std::current_exception();
    }
  });
  t.join();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

}  // namespace kt
