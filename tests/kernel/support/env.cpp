#include "env.hpp"

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace kt {
namespace {

std::optional<std::string> envVar(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

// Loads "r0 = 0; exit" as a socket filter: the cheapest proof that this
// kernel and these privileges allow loading BPF programs at all.
std::string probeBpf() {
  bpf_insn prog[2] = {};
  prog[0].code = BPF_ALU64 | BPF_MOV | BPF_K;  // r0 = 0
  prog[1].code = BPF_JMP | BPF_EXIT;
  static const char license[] = "GPL";
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insns = reinterpret_cast<__u64>(prog);
  attr.insn_cnt = 2;
  attr.license = reinterpret_cast<__u64>(license);
  long fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
  if (fd < 0) return std::string("cannot load a BPF program: ") + std::strerror(errno);
  close(static_cast<int>(fd));
  return "";
}

}  // namespace

#ifndef NETACCT_BIN
#error "NETACCT_BIN must name the netacct binary under test"
#endif

const std::string& netacctBinary() {
  static const std::string bin = envVar("NETACCT_TEST_BINARY").value_or(NETACCT_BIN);
  return bin;
}

std::vector<std::string> hostSafe(std::vector<std::string> args, const std::string& netns) {
  bool counts = !args.empty() && (args[0] == "report" || args[0] == "top" || args[0] == "serve");
  bool chosen = std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a == "--interface" || a.starts_with("--interface=") || a == "--no-wire";
  });
  if (counts && !chosen && netns.empty()) args.push_back("--no-wire");
  return args;
}

bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::string testBackend() { return envVar("NETACCT_TEST_BACKEND").value_or("auto"); }
std::optional<std::string> expectedBackend() { return envVar("NETACCT_EXPECT_BACKEND"); }
double timeoutScale() {
  static const double scale = [] {
    const double v = std::atof(envVar("NETACCT_TEST_TIMEOUT_SCALE").value_or("1").c_str());
    return v > 0 ? v : 1.0;
  }();
  return scale;
}
int scaledSeconds(int seconds) { return static_cast<int>(seconds * timeoutScale() + 0.5); }

bool ciMode() { return envVar("CI").value_or("") == "true"; }

std::string unavailableReason() {
  static const std::string reason = [] {
    if (geteuid() != 0) return std::string("kernel tests need root (real BPF, network namespaces)");
    return probeBpf();
  }();
  return reason;
}

}  // namespace kt
