#include "kernel/features.hpp"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "kernel/libbpf_log.hpp"
#include "kernel/privilege.hpp"
#include "kernel/wire.hpp"

namespace netacct {
namespace {

constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";

Capabilities read_caps() {
  __user_cap_header_struct hdr{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return {};
  auto has = [&](int cap) -> bool { return (data[cap / 32].effective >> (cap % 32)) & 1; };
  return {.known = true,
          .bpf = has(kCapBpf),
          .perfmon = has(kCapPerfmon),
          .sys_admin = has(CAP_SYS_ADMIN)};
}

std::string read_lockdown() {
  std::ifstream in("/sys/kernel/security/lockdown");
  std::string line;
  if (!std::getline(in, line)) return "unknown";
  auto open = line.find('['), close = line.find(']');
  if (open == std::string::npos || close == std::string::npos) return "unknown";
  return line.substr(open + 1, close - open - 1);
}

struct BtfDeleter {
  void operator()(btf* b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<btf, BtfDeleter>;

bool btf_has(const btf* b, const char* name, int kind) {
  return b && btf__find_by_name_kind(b, name, kind) > 0;
}

// Whether the tcp_retransmit_skb tracepoint passes an error: its prototype
// (btf_trace_tcp_retransmit_skb: a pointer to the function the tracepoint
// calls, with the tracepoint's data first) has a fourth parameter.
bool retransmit_tp_has_err(const btf* b) {
  int id = b ? btf__find_by_name_kind(b, "btf_trace_tcp_retransmit_skb", BTF_KIND_TYPEDEF) : -1;
  if (id <= 0) return false;
  const btf_type* t = btf__type_by_id(b, btf__type_by_id(b, id)->type);
  if (!t || !btf_is_ptr(t)) return false;
  t = btf__type_by_id(b, t->type);
  return t && btf_is_func_proto(t) && btf_vlen(t) >= 4;
}

// Loading is the only honest test for fentry: some kernels (this project's
// build machine among them) have BTF and the functions but refuse the load.
std::string try_load_fexit(const btf* b) {
  int id = btf__find_by_name_kind(b, "inet_sendmsg", BTF_KIND_FUNC);
  if (id <= 0) return "inet_sendmsg not in kernel BTF";
  struct bpf_insn insns[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FEXIT,
              .attach_btf_id = (__u32)id);
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "na_probe", "GPL", insns, 2, &opts);
  if (fd >= 0) {
    close(fd);
    return "";
  }
  return std::string("loading an fexit program failed: ") + strerror(errno);
}

bool kallsyms_has(const std::string& fn) {
  std::ifstream in("/proc/kallsyms");
  std::string addr, type, name;
  while (in >> addr >> type >> name) {
    if (name == fn) return true;
    in.ignore(256, '\n');  // skip an optional [module] column
  }
  return false;
}

BackendStatus unavailable(Backend b, std::string reason) {
  return {.backend = b, .available = false, .reason = std::move(reason)};
}

// Everything a process without privileges can see says yes; only a load,
// which it may not try, could say more: neither available nor unavailable.
// (Capabilities that could not be read are not held against the backend:
// loading will tell.)
BackendStatus available_if_privileged(Backend b, const Features& f, std::string hooks) {
  if (f.caps.known && !f.caps.enough())
    return {.backend = b, .checked = false, .reason = "needs root to check", .hooks = hooks};
  return {.backend = b, .available = true, .hooks = std::move(hooks)};
}

BackendStatus tracepoint_status(const btf* b, const Features& f) {
  constexpr Backend tp = Backend::tracepoint;
  if (!b) return unavailable(tp, "no kernel BTF");
  for (const char* name : {"btf_trace_sock_send_length", "btf_trace_sock_recv_length"})
    if (!btf_has(b, name, BTF_KIND_TYPEDEF))
      return unavailable(tp, "kernel lacks sock:sock_send_length/sock_recv_length (Linux >= 6.3)");
  return available_if_privileged(
      tp, f, "tp_btf sock:sock_send_length, sock:sock_recv_length, tcp:tcp_rcv_space_adjust");
}

BackendStatus fentry_status(const btf* b, const Features& f) {
  constexpr Backend fe = Backend::fentry;
  constexpr const char* hooks = "fexit inet_sendmsg, inet6_sendmsg, inet_recvmsg, inet6_recvmsg";
  if (!b) return unavailable(fe, "no kernel BTF");
  if (btf__find_by_name_kind(b, "inet_sendmsg", BTF_KIND_FUNC) <= 0)
    return unavailable(fe, "inet_sendmsg not in kernel BTF");
  if (f.caps.known && !f.caps.enough()) return available_if_privileged(fe, f, hooks);
  if (std::string error = try_load_fexit(b); !error.empty()) return unavailable(fe, error);
  return available_if_privileged(fe, f, hooks);
}

BackendStatus kprobe_status(const Features& f) {
  constexpr Backend kp = Backend::kprobe;
  if (!std::filesystem::exists("/sys/bus/event_source/devices/kprobe/type"))
    return unavailable(kp, "kernel built without kprobe events (no kprobe PMU)");
  if (!kallsyms_has("inet_sendmsg")) return unavailable(kp, "inet_sendmsg not in /proc/kallsyms");
  return available_if_privileged(
      kp, f, "kprobe/kretprobe inet_sendmsg, inet6_sendmsg, inet_recvmsg, inet6_recvmsg");
}

bool has_net_admin() {
  __user_cap_header_struct hdr{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  return (data[CAP_NET_ADMIN / 32].effective >> (CAP_NET_ADMIN % 32)) & 1;
}

// What the DNS answer program needs: a cgroup_skb program that may reserve
// ring buffer space, and the ring buffer (Linux >= 5.8).
DnsCaptureStatus dns_capture_status(const Features& f) {
  if (!has_net_admin() || (f.caps.known && !f.caps.enough()))
    return {.detail = "needs CAP_NET_ADMIN and BPF capabilities to check"};
  if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) != 1)
    return {.available = false, .detail = "kernel lacks BPF ring buffers (Linux >= 5.8)"};
  if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_CGROUP_SKB, BPF_FUNC_ringbuf_reserve, nullptr) != 1)
    return {.available = false, .detail = "cgroup_skb programs cannot use ring buffers"};
  return {.available = true,
          .detail = "cgroup_skb ingress on the cgroup v2 root: UDP answers from port 53"};
}

}  // namespace

Features probe_features() {
  Features f;
  struct utsname u {};
  if (uname(&u) == 0) f.kernel_release = u.release;
  f.btf = std::filesystem::exists(kVmlinuxBtf);
  f.lockdown = read_lockdown();
  f.caps = read_caps();
  f.root = geteuid() == 0;
  LibbpfQuiet quiet;  // the probes are expected to fail
  BtfPtr b(f.btf ? btf__parse(kVmlinuxBtf, nullptr) : nullptr);
  f.has_inet_sendpage = btf_has(b.get(), "inet_sendpage", BTF_KIND_FUNC);
  f.retransmit_err = retransmit_tp_has_err(b.get());
  f.backends = {tracepoint_status(b.get(), f), fentry_status(b.get(), f), kprobe_status(f)};
  f.loads_tracing = f.status(Backend::fentry).available;
  f.tcx = probe_tcx();
  f.dns = dns_capture_status(f);
  return f;
}

}  // namespace netacct
