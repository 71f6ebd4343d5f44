#include "tc.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <tuple>

#include "netns.hpp"

extern char** environ;

namespace kt {
namespace {

// enum bpf_attach_type values of Linux 6.6 (Debian 12's headers predate
// them; the ABI never renumbers).
constexpr uint32_t kTcxIngress = 46, kTcxEgress = 47;

[[noreturn]] void fail(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

uint32_t indexHere(const std::string& dev) { return if_nametoindex(dev.c_str()); }

uint32_t indexOrThrow(const std::string& dev) {
  const uint32_t index = indexHere(dev);
  if (index == 0) fail(errno, "no interface " + dev);
  return index;
}

// ---- rtnetlink ----

// One rtnetlink socket in the calling thread's namespace.
class Rtnl {
 public:
  Rtnl() {
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd_ < 0) fail(errno, "netlink socket");
    timeval tv{5, 0};  // a kernel that never answers must not hang the test
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~Rtnl() { close(fd_); }
  Rtnl(const Rtnl&) = delete;
  Rtnl& operator=(const Rtnl&) = delete;

  // The answer to one request: its reply, or every message of a dump.
  std::vector<std::string> ask(uint16_t type, uint16_t flags, const void* body, size_t len) {
    send(type, flags, body, len);
    std::vector<std::string> out;
    std::vector<uint64_t> buf(8192);  // 64 KiB, aligned for nlmsghdr
    for (;;) {
      ssize_t n = recv(fd_, buf.data(), buf.size() * sizeof buf[0], 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail(errno, "netlink recv");
      int left = static_cast<int>(n);
      for (auto* m = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(m, left);
           m = NLMSG_NEXT(m, left)) {
        if (m->nlmsg_seq != seq_) continue;
        if (m->nlmsg_type == NLMSG_DONE) return out;
        if (m->nlmsg_type == NLMSG_ERROR) {
          const int err = reinterpret_cast<nlmsgerr*>(NLMSG_DATA(m))->error;
          if (err != 0) fail(-err, "netlink request " + std::to_string(type));
          return out;
        }
        out.emplace_back(reinterpret_cast<char*>(m), m->nlmsg_len);
        if (!(m->nlmsg_flags & NLM_F_MULTI)) return out;
      }
    }
  }

 private:
  void send(uint16_t type, uint16_t flags, const void* body, size_t len) {
    std::string req(NLMSG_LENGTH(len), '\0');
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(req.size());
    h.nlmsg_type = type;
    h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
    h.nlmsg_seq = ++seq_;
    std::memcpy(req.data(), &h, sizeof h);
    std::memcpy(req.data() + NLMSG_HDRLEN, body, len);
    sockaddr_nl to{};
    to.nl_family = AF_NETLINK;
    if (sendto(fd_, req.data(), req.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
      fail(errno, "netlink send");
  }

  int fd_ = -1;
  uint32_t seq_ = 0;
};

using Attrs = std::map<uint16_t, std::string>;

Attrs parseAttrs(const char* p, size_t len) {
  Attrs out;
  int left = static_cast<int>(len);
  for (auto* a = reinterpret_cast<const rtattr*>(p); RTA_OK(a, left); a = RTA_NEXT(a, left))
    out[a->rta_type & NLA_TYPE_MASK].assign(static_cast<const char*>(RTA_DATA(a)), RTA_PAYLOAD(a));
  return out;
}

// A message's fixed header (T) and its attributes.
template <class T>
std::pair<T, Attrs> split(const std::string& msg) {
  T hdr{};
  const size_t at = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(T));
  if (msg.size() < NLMSG_HDRLEN + sizeof(T)) throw std::runtime_error("short netlink message");
  std::memcpy(&hdr, msg.data() + NLMSG_HDRLEN, sizeof(T));
  return {hdr, msg.size() > at ? parseAttrs(msg.data() + at, msg.size() - at) : Attrs{}};
}

std::string cstr(const std::string& attr) { return std::string(attr.c_str()); }

uint32_t u32(const std::string& attr) {
  uint32_t v = 0;
  std::memcpy(&v, attr.data(), std::min(attr.size(), sizeof v));
  return v;
}

// tcmsg for a dump of `ifindex`'s qdiscs or of the filters under `parent`.
tcmsg tcRequest(uint32_t ifindex, uint32_t parent) {
  tcmsg t{};
  t.tcm_family = AF_UNSPEC;
  t.tcm_ifindex = static_cast<int>(ifindex);
  t.tcm_parent = parent;
  return t;
}

// ---- bpf(2) ----

long sysBpf(int cmd, void* attr, size_t size) { return syscall(SYS_bpf, cmd, attr, size); }

std::string progName(uint32_t id) {
  bpf_attr a{};
  a.prog_id = id;
  const int fd = static_cast<int>(sysBpf(BPF_PROG_GET_FD_BY_ID, &a, sizeof a));
  if (fd < 0) return "(prog " + std::to_string(id) + ": " + std::strerror(errno) + ")";
  bpf_prog_info info{};
  bpf_attr q{};
  q.info.bpf_fd = static_cast<uint32_t>(fd);
  q.info.info_len = sizeof info;
  q.info.info = reinterpret_cast<uint64_t>(&info);
  const long rc = sysBpf(BPF_OBJ_GET_INFO_BY_FD, &q, sizeof q);
  close(fd);
  return rc == 0 ? std::string(info.name) : "(no info)";
}

// bpf_attr.query as of Linux 6.6 (TCX added link_ids and revision).
struct ProgQuery {
  uint32_t target_ifindex = 0, attach_type = 0, query_flags = 0, attach_flags = 0;
  uint64_t prog_ids = 0;
  uint32_t count = 0, pad = 0;
  uint64_t prog_attach_flags = 0, link_ids = 0, link_attach_flags = 0, revision = 0;
};

// TCX programs on one hook of `ifindex` in the calling thread's namespace.
std::vector<TcProg> tcxHere(uint32_t ifindex, TcDir dir) {
  uint32_t progs[64] = {}, links[64] = {};
  ProgQuery q;
  q.target_ifindex = ifindex;
  q.attach_type = dir == TcDir::ingress ? kTcxIngress : kTcxEgress;
  q.prog_ids = reinterpret_cast<uint64_t>(progs);
  q.link_ids = reinterpret_cast<uint64_t>(links);
  q.count = 64;
  if (sysBpf(BPF_PROG_QUERY, &q, sizeof q) != 0) fail(errno, "BPF_PROG_QUERY (TCX)");
  std::vector<TcProg> out;
  for (uint32_t i = 0; i < std::min(q.count, 64u); ++i)
    out.push_back({.dir = dir,
                   .tcx = true,
                   .kind = "tcx",
                   .prog_id = progs[i],
                   .name = progName(progs[i]),
                   .link_id = links[i]});
  return out;
}

// Every filter under clsact's hook `dir` of `ifindex`.
std::vector<TcProg> filtersHere(Rtnl& nl, uint32_t ifindex, TcDir dir) {
  const uint32_t parent =
      TC_H_MAKE(TC_H_CLSACT, dir == TcDir::ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
  const tcmsg req = tcRequest(ifindex, parent);
  std::vector<TcProg> out;
  for (const auto& msg : nl.ask(RTM_GETTFILTER, NLM_F_DUMP, &req, sizeof req)) {
    auto [t, attrs] = split<tcmsg>(msg);
    // Each priority's classifier is listed first on its own (handle 0).
    if (t.tcm_handle == 0 || static_cast<uint32_t>(t.tcm_ifindex) != ifindex) continue;
    TcProg p{.dir = dir,
             .kind = cstr(attrs[TCA_KIND]),
             .prio = TC_H_MAJ(t.tcm_info) >> 16,
             .handle = t.tcm_handle};
    if (p.kind == "bpf" && attrs.count(TCA_OPTIONS)) {
      const std::string& o = attrs[TCA_OPTIONS];
      Attrs opts = parseAttrs(o.data(), o.size());
      p.prog_id = u32(opts[TCA_BPF_ID]);
      p.name = progName(p.prog_id);
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

bool kernelHasTcx() {
  static const bool has = [] {
    ProgQuery q;
    q.target_ifindex = 1;  // loopback, in every namespace
    q.attach_type = kTcxIngress;
    if (sysBpf(BPF_PROG_QUERY, &q, sizeof q) == 0) return true;
    // EINVAL: an attach type this kernel does not know. Anything else
    // (EPERM...) says nothing about TCX: assume it, and let TCX tests fail.
    return errno != EINVAL;
  }();
  return has;
}

uint32_t ifIndex(const std::string& ns, const std::string& dev) {
  return inNetns(ns, [&] { return indexHere(dev); });
}

DevCounters devCounters(const std::string& ns, const std::string& dev) {
  return inNetns(ns, [&] {
    ifinfomsg req{};
    req.ifi_family = AF_UNSPEC;
    req.ifi_index = static_cast<int>(indexOrThrow(dev));
    Rtnl nl;
    for (const auto& msg : nl.ask(RTM_GETLINK, 0, &req, sizeof req)) {
      auto [info, attrs] = split<ifinfomsg>(msg);
      auto it = attrs.find(IFLA_STATS64);
      if (info.ifi_index != req.ifi_index || it == attrs.end()) continue;
      rtnl_link_stats64 s{};
      std::memcpy(&s, it->second.data(), std::min(it->second.size(), sizeof s));
      return DevCounters{s.tx_bytes, s.rx_bytes, s.tx_packets, s.rx_packets};
    }
    throw std::runtime_error("no IFLA_STATS64 for " + dev + " in " + ns);
  });
}

const char* name(TcDir d) { return d == TcDir::ingress ? "ingress" : "egress"; }

std::vector<TcProg> tcProgs(const std::string& ns, const std::string& dev) {
  return inNetns(ns, [&] {
    const uint32_t index = indexOrThrow(dev);
    std::vector<TcProg> out;
    Rtnl nl;
    for (TcDir dir : {TcDir::ingress, TcDir::egress}) {
      if (kernelHasTcx())
        for (auto& p : tcxHere(index, dir)) out.push_back(std::move(p));
      for (auto& p : filtersHere(nl, index, dir)) out.push_back(std::move(p));
    }
    return out;
  });
}

std::vector<TcProg> wireProgsOn(const std::string& ns, const std::string& dev) {
  std::vector<TcProg> all = tcProgs(ns, dev);
  std::erase_if(all, [](const TcProg& p) {
    return p.name != "wire_ingress_tc" && p.name != "wire_egress_tc";
  });
  return all;
}

std::string describe(const std::vector<TcProg>& progs) {
  if (progs.empty()) return "(nothing)";
  std::ostringstream o;
  for (const auto& p : progs) {
    o << "\n  " << name(p.dir) << " " << p.kind;
    if (!p.tcx) o << " prio " << p.prio << " handle 0x" << std::hex << p.handle << std::dec;
    if (p.link_id) o << " link " << p.link_id;
    if (p.prog_id) o << " prog " << p.prog_id << " " << p.name;
  }
  return o.str();
}

bool hasClsact(const std::string& ns, const std::string& dev) {
  return inNetns(ns, [&] {
    const uint32_t index = indexOrThrow(dev);
    const tcmsg req = tcRequest(index, 0);
    Rtnl nl;
    bool found = false;
    for (const auto& msg : nl.ask(RTM_GETQDISC, NLM_F_DUMP, &req, sizeof req)) {
      auto [t, attrs] = split<tcmsg>(msg);
      if (static_cast<uint32_t>(t.tcm_ifindex) == index && cstr(attrs[TCA_KIND]) == "clsact")
        found = true;
    }
    return found;
  });
}

// ---- ForeignFilters ----

ForeignFilters::ForeignFilters(const std::string& ns, const std::string& dev,
                               std::vector<uint32_t> prios)
    : ns_(ns), dev_(dev), prios_(std::move(prios)) {
  if (hasClsact(ns_, dev_)) throw std::runtime_error(dev_ + " has a clsact qdisc already");
  bpf_insn insns[2] = {};
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;  // r0 = -1 (TC_ACT_UNSPEC)
  insns[0].imm = -1;
  insns[1].code = BPF_JMP | BPF_EXIT;
  prog_fd_ = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "kt_foreign", "GPL", insns, 2, nullptr);
  if (prog_fd_ < 0) fail(-prog_fd_, "loading the foreign TC program");
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(prog_fd_, &info, &len) == 0) prog_id_ = info.id;
  const int err = inNetns(ns_, [&] {
    bpf_tc_hook hook{};
    hook.sz = sizeof hook;
    hook.ifindex = static_cast<int>(indexOrThrow(dev_));
    hook.attach_point = BPF_TC_INGRESS;
    if (int e = bpf_tc_hook_create(&hook)) return e;  // clsact: both hooks
    for (auto point : {BPF_TC_INGRESS, BPF_TC_EGRESS})
      for (uint32_t prio : prios_) {
        hook.attach_point = point;
        bpf_tc_opts o{};
        o.sz = sizeof o;
        o.prog_fd = prog_fd_;
        o.handle = kHandle;
        o.priority = prio;
        if (int e = bpf_tc_attach(&hook, &o)) return e;
      }
    return 0;
  });
  if (err != 0) {
    remove();
    fail(-err, "attaching the foreign filters to " + dev_);
  }
}

ForeignFilters::~ForeignFilters() { remove(); }

void ForeignFilters::remove() {
  try {
    inNetns(ns_, [&] {
      bpf_tc_hook hook{};
      hook.sz = sizeof hook;
      hook.ifindex = static_cast<int>(indexHere(dev_));
      hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
      return hook.ifindex ? bpf_tc_hook_destroy(&hook) : 0;  // the qdisc and every filter
    });
  } catch (const std::exception&) {
    // The namespace is gone, and everything in it.
  }
  if (prog_fd_ >= 0) close(prog_fd_);
  prog_fd_ = -1;
}

std::vector<std::string> ForeignFilters::missing() const {
  const std::vector<TcProg> now = tcProgs(ns_, dev_);
  std::vector<std::string> out;
  for (TcDir dir : {TcDir::ingress, TcDir::egress})
    for (uint32_t prio : prios_) {
      bool found = false;
      for (const auto& p : now)
        found |= !p.tcx && p.dir == dir && p.prio == prio && p.handle == kHandle &&
                 p.prog_id == prog_id_;
      if (!found) out.push_back(std::string(name(dir)) + " prio " + std::to_string(prio));
    }
  return out;
}

// ---- Veth ----

Veth::Veth(const std::string& ns_a, const std::string& dev_a, const std::string& addr_a,
           const std::string& ns_b, const std::string& dev_b, const std::string& addr_b)
    : ns_a_(ns_a), dev_a_(dev_a) {
  runIp({"-n", ns_a, "link", "add", dev_a, "type", "veth", "peer", "name", dev_b, "netns", ns_b});
  try {
    using Side = std::tuple<std::string, std::string, std::string>;
    for (const auto& [ns, dev, addr] : {Side{ns_a, dev_a, addr_a}, Side{ns_b, dev_b, addr_b}}) {
      runIp({"-n", ns, "link", "set", dev, "addrgenmode", "none"});  // before up: no link-local
      runIp({"-n", ns, "addr", "add", addr + "/24", "dev", dev});
    }
    runIp({"-n", ns_b, "link", "set", dev_b, "up"});
    runIp({"-n", ns_a, "link", "set", dev_a, "up"});
  } catch (...) {
    remove();
    throw;
  }
}

Veth::~Veth() {
  try {
    remove();
  } catch (const std::exception&) {
    // Gone with its namespace.
  }
}

void Veth::remove() {
  if (!live_) return;
  live_ = false;
  runIp({"-n", ns_a_, "link", "del", dev_a_});
}

}  // namespace kt
