#include "flows_drop.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/tcp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "flows_net.hpp"

namespace kt::flows {
namespace {

constexpr int kEthHeader = 14;
constexpr int kActShot = 2, kActUnspec = -1;  // TC_ACT_SHOT; TC_ACT_UNSPEC: go on
constexpr int32_t kMinDataLen = 200;          // a bare ACK or SYN is 66..74 bytes

[[noreturn]] void fail(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// A program as a list of instructions, with forward jumps to one label
// ("pass") patched once the label's place is known.
class Program {
 public:
  void op(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
    insns_.push_back(bpf_insn{code, dst, src, off, imm});
  }
  void mov(uint8_t dst, int32_t imm) { op(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm); }
  void movReg(uint8_t dst, uint8_t src) { op(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
  void call(int32_t helper) { op(BPF_JMP | BPF_CALL, 0, 0, 0, helper); }
  // Jumps to "pass" when `dst OP imm`.
  void passIf(uint8_t jmp_op, uint8_t dst, int32_t imm) {
    to_pass_.push_back(insns_.size());
    op(BPF_JMP | jmp_op | BPF_K, dst, 0, 0, imm);
  }
  void loadMapFd(uint8_t dst, int fd) {  // 16-byte ld_imm64 with a map fd
    op(BPF_LD | BPF_DW | BPF_IMM, dst, BPF_PSEUDO_MAP_FD, 0, fd);
    op(0, 0, 0, 0, 0);
  }
  // r0 = `len` bytes of the packet at `offset`, read into the stack at -8.
  void loadPacket(int32_t offset, int32_t len) {
    movReg(BPF_REG_1, BPF_REG_6);
    mov(BPF_REG_2, offset);
    movReg(BPF_REG_3, BPF_REG_10);
    op(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_3, 0, 0, -8);
    mov(BPF_REG_4, len);
    call(BPF_FUNC_skb_load_bytes);
    passIf(BPF_JNE, BPF_REG_0, 0);
    op(BPF_LDX | BPF_MEM | (len == 1 ? BPF_B : BPF_H), BPF_REG_0, BPF_REG_10, -8, 0);
  }
  void passHere() {
    for (size_t at : to_pass_) insns_[at].off = static_cast<int16_t>(insns_.size() - at - 1);
    to_pass_.clear();
  }
  const std::vector<bpf_insn>& insns() const { return insns_; }

 private:
  std::vector<bpf_insn> insns_;
  std::vector<size_t> to_pass_;
};

// Where a family's packets say what they are: ethertype, the offset of
// the IP protocol (IPv6: next header) and the IP header's length.
struct IpLayout {
  uint16_t ethertype;
  int proto_at, header;
};
IpLayout layoutOf(int family) {
  if (family == AF_INET) return {0x0800, 9, 20};
  if (family == AF_INET6) return {0x86dd, 6, 40};
  throw std::invalid_argument("TcpDropper: family " + std::to_string(family));
}

// The dropper: counts the data segments to `dport` in map[0] and drops
// those whose count is a multiple of `every`, up to `every * max_drops`.
std::vector<bpf_insn> dropperCode(int map_fd, int family, uint16_t dport, uint32_t every,
                                  uint32_t max_drops) {
  const IpLayout ip = layoutOf(family);
  Program p;
  p.movReg(BPF_REG_6, BPF_REG_1);  // r6 = skb
  p.op(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_0, BPF_REG_6, offsetof(__sk_buff, len), 0);
  p.passIf(BPF_JLT, BPF_REG_0, kMinDataLen);
  p.op(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_0, BPF_REG_6, offsetof(__sk_buff, protocol), 0);
  p.passIf(BPF_JNE, BPF_REG_0, htons(ip.ethertype));
  p.loadPacket(kEthHeader + ip.proto_at, 1);
  p.passIf(BPF_JNE, BPF_REG_0, IPPROTO_TCP);
  p.loadPacket(kEthHeader + ip.header + 2, 2);  // the destination port, as the packet has it
  p.passIf(BPF_JNE, BPF_REG_0, htons(dport));
  p.op(BPF_ST | BPF_MEM | BPF_W, BPF_REG_10, 0, -4, 0);  // key 0
  p.loadMapFd(BPF_REG_1, map_fd);
  p.movReg(BPF_REG_2, BPF_REG_10);
  p.op(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_2, 0, 0, -4);
  p.call(BPF_FUNC_map_lookup_elem);
  p.passIf(BPF_JEQ, BPF_REG_0, 0);
  // ++count: not atomic across CPUs, which only blurs the rate of drops.
  p.op(BPF_LDX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_0, 0, 0);
  p.op(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_1, 0, 0, 1);
  p.op(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_0, BPF_REG_1, 0, 0);
  p.passIf(BPF_JGT, BPF_REG_1, static_cast<int32_t>(every * max_drops));
  p.op(BPF_ALU64 | BPF_MOD | BPF_K, BPF_REG_1, 0, 0, static_cast<int32_t>(every));
  p.passIf(BPF_JNE, BPF_REG_1, 0);
  p.mov(BPF_REG_0, kActShot);
  p.op(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  p.passHere();
  p.mov(BPF_REG_0, kActUnspec);
  p.op(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  return p.insns();
}

bpf_tc_hook ingressHook(const std::string& dev) {
  bpf_tc_hook hook{};
  hook.sz = sizeof hook;
  hook.ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
  if (hook.ifindex == 0) fail(errno, "no interface " + dev);
  hook.attach_point = BPF_TC_INGRESS;
  return hook;
}

}  // namespace

TcpDropper::TcpDropper(const std::string& ns, const std::string& dev, int family, uint16_t dport,
                       uint32_t every, uint32_t max_drops)
    : ns_(ns), dev_(dev), every_(every), max_drops_(max_drops) {
  layoutOf(family);  // throws before anything is made
  map_fd_ = bpf_map_create(BPF_MAP_TYPE_ARRAY, "flows_drop", 4, 8, 1, nullptr);
  if (map_fd_ < 0) fail(-map_fd_, "bpf_map_create");
  const std::vector<bpf_insn> code = dropperCode(map_fd_, family, dport, every, max_drops);
  static char log[65536];
  // libbpf loads again with the verifier's log only if the first load fails.
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_size = sizeof log, .log_buf = log);
  prog_fd_ =
      bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "flows_drop", "GPL", code.data(), code.size(), &opts);
  if (prog_fd_ < 0) {
    close(map_fd_);
    throw std::runtime_error("loading the dropper failed: " + std::string(log));
  }
  try {
    inNetns(ns_, [&] {
      bpf_tc_hook hook = ingressHook(dev_);
      if (int rc = bpf_tc_hook_create(&hook); rc != 0 && rc != -EEXIST)
        fail(-rc, "bpf_tc_hook_create");
      LIBBPF_OPTS(bpf_tc_opts, tc, .prog_fd = prog_fd_, .handle = 1, .priority = 1);
      if (int rc = bpf_tc_attach(&hook, &tc); rc != 0) fail(-rc, "bpf_tc_attach");
      return 0;
    });
  } catch (...) {
    close(prog_fd_);
    close(map_fd_);
    throw;
  }
}

TcpDropper::~TcpDropper() {
  try {
    inNetns(ns_, [&] {
      bpf_tc_hook hook = ingressHook(dev_);
      hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
      bpf_tc_hook_destroy(&hook);  // the clsact qdisc, and our filter with it
      return 0;
    });
  } catch (const std::exception&) {
    // Gone with its namespace.
  }
  close(prog_fd_);
  close(map_fd_);
}

uint64_t TcpDropper::dropped() const {
  uint32_t key = 0;
  uint64_t count = 0;
  if (bpf_map_lookup_elem(map_fd_, &key, &count) != 0) fail(errno, "bpf_map_lookup_elem");
  const uint64_t counted = std::min<uint64_t>(count, uint64_t(every_) * max_drops_);
  return counted / every_;
}

uint64_t tcpBytesRetrans(int fd) {
  tcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) fail(errno, "TCP_INFO");
  if (len < offsetof(tcp_info, tcpi_bytes_retrans) + sizeof info.tcpi_bytes_retrans)
    throw std::runtime_error("TCP_INFO without tcpi_bytes_retrans (Linux < 4.19)");
  return info.tcpi_bytes_retrans;
}

}  // namespace kt::flows
