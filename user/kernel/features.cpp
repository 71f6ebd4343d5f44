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

namespace netacct {
namespace {

constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";

Capabilities read_caps() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  Capabilities c;
  if (syscall(SYS_capget, &hdr, data) != 0) return c;
  auto has = [&](int cap) { return (data[cap / 32].effective >> (cap % 32)) & 1; };
  c.known = true;
  c.bpf = has(39);      // CAP_BPF
  c.perfmon = has(38);  // CAP_PERFMON
  c.sys_admin = has(CAP_SYS_ADMIN);
  return c;
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

// Loading is the only honest test for fentry: some kernels (this project's
// build machine among them) have BTF and the functions but refuse the load.
std::string try_load_fexit(const btf* b) {
  int id = btf__find_by_name_kind(b, "inet_sendmsg", BTF_KIND_FUNC);
  if (id <= 0) return "inet_sendmsg not in kernel BTF";
  struct bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
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

BackendStatus tracepoint_status(const btf* b) {
  BackendStatus s{Backend::tracepoint};
  if (!b) return s.why = "no kernel BTF", s;
  for (const char* tp : {"btf_trace_sock_send_length", "btf_trace_sock_recv_length"})
    if (!btf_has(b, tp, BTF_KIND_TYPEDEF))
      return s.why = "kernel lacks sock:sock_send_length/sock_recv_length (Linux >= 6.3)", s;
  s.available = true;
  s.why = "tp_btf sock:sock_send_length, sock:sock_recv_length, tcp:tcp_rcv_space_adjust";
  return s;
}

BackendStatus fentry_status(const btf* b, const Features& f) {
  BackendStatus s{Backend::fentry};
  if (!b) return s.why = "no kernel BTF", s;
  if (!f.caps.enough()) return s.why = "not checked: needs root to try loading", s;
  s.why = try_load_fexit(b);
  s.available = s.why.empty();
  if (s.available) s.why = "fexit inet_sendmsg, inet6_sendmsg, inet_recvmsg, inet6_recvmsg";
  return s;
}

BackendStatus kprobe_status() {
  BackendStatus s{Backend::kprobe};
  if (!std::filesystem::exists("/sys/bus/event_source/devices/kprobe/type"))
    return s.why = "kernel built without kprobe events (no kprobe PMU)", s;
  if (!kallsyms_has("inet_sendmsg")) return s.why = "inet_sendmsg not in /proc/kallsyms", s;
  s.available = true;
  s.why = "kprobe/kretprobe inet_sendmsg, inet6_sendmsg, inet_recvmsg, inet6_recvmsg";
  return s;
}

}  // namespace

std::string Capabilities::missing() const {
  if (enough()) return "";
  if (!bpf && !perfmon) return "CAP_BPF and CAP_PERFMON";
  return bpf ? "CAP_PERFMON" : "CAP_BPF";
}

const BackendStatus& Features::status(Backend b) const {
  for (const auto& s : backends)
    if (s.backend == b) return s;
  static const BackendStatus none{Backend::automatic, false, "unknown backend"};
  return none;
}

Features probe_features() {
  Features f;
  struct utsname u {};
  if (uname(&u) == 0) f.kernel_release = u.release;
  f.btf = std::filesystem::exists(kVmlinuxBtf);
  f.lockdown = read_lockdown();
  f.caps = read_caps();
  f.root = geteuid() == 0;
  libbpf_set_print(nullptr);  // probes are expected to fail quietly
  BtfPtr b(f.btf ? btf__parse(kVmlinuxBtf, nullptr) : nullptr);
  f.has_inet_sendpage = btf_has(b.get(), "inet_sendpage", BTF_KIND_FUNC);
  f.backends = {tracepoint_status(b.get()), fentry_status(b.get(), f), kprobe_status()};
  return f;
}

std::optional<Backend> choose_backend(const Features& f, Backend requested, std::string* why) {
  if (requested != Backend::automatic) {
    const auto& s = f.status(requested);
    if (s.available) return requested;
    *why = "the " + backend_name(requested) + " backend is not available: " + s.why;
    return std::nullopt;
  }
  for (const auto& s : f.backends)
    if (s.available) return s.backend;
  *why = "no usable backend: needs the sock tracepoints (Linux >= 6.3), fentry or kprobes";
  return std::nullopt;
}

}  // namespace netacct
