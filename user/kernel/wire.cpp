#include "kernel/wire.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "kernel/abi.hpp"
#include "kernel/map_dump.hpp"

namespace netacct {
namespace {

// enum bpf_attach_type values of Linux 6.6 (uapi/linux/bpf.h), which
// Debian 12's headers predate; the kernel ABI never renumbers them.
constexpr int kTcxIngress = 46, kTcxEgress = 47;

// The legacy filters' identity: a fixed handle and a small band of
// priorities (one per netacct running at once on an interface), low enough
// to run before filters `tc` adds without a priority (49152 and down).
constexpr uint32_t kHandle = 0x6e61;  // "na"
constexpr uint32_t kFirstPrio = 0x6e61, kPrios = 16;
constexpr const char* kProgNames[2] = {"wire_ingress_tc", "wire_egress_tc"};

std::string errno_text(int err) { return strerror(err < 0 ? -err : err); }

struct Link {
  uint32_t index = 0;
  std::string name;
  unsigned flags = 0;               // IFF_*
  uint32_t l2_len = NA_L2_UNKNOWN;  // the link-layer header's length, where known
};

// The interfaces of this network namespace, over netlink (glibc's
// if_nameindex), not /sys/class/net: `ip netns exec` remounts /sys.
std::vector<Link> list_links() {
  std::vector<Link> out;
  struct if_nameindex* all = if_nameindex();
  if (!all) return out;
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  for (struct if_nameindex* i = all; i->if_index != 0; ++i) {
    Link l{.index = i->if_index, .name = i->if_name};
    ifreq req{};
    strncpy(req.ifr_name, i->if_name, IFNAMSIZ - 1);
    if (sock >= 0 && ioctl(sock, SIOCGIFFLAGS, &req) == 0) l.flags = unsigned(req.ifr_flags);
    // Ethernet and loopback frames start with a 14-byte header.
    if (sock >= 0 && ioctl(sock, SIOCGIFHWADDR, &req) == 0 &&
        (req.ifr_hwaddr.sa_family == ARPHRD_ETHER || req.ifr_hwaddr.sa_family == ARPHRD_LOOPBACK))
      l.l2_len = 14;
    out.push_back(std::move(l));
  }
  if (sock >= 0) close(sock);
  if_freenameindex(all);
  return out;
}

uint32_t own_netns() {
  struct stat st {};
  return stat("/proc/self/ns/net", &st) == 0 ? uint32_t(st.st_ino) : 0;
}

// Readable when links or addresses were added, removed or changed; drained
// at each read.
class LinkWatch {
 public:
  LinkWatch() {
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
    sockaddr_nl addr{.nl_family = AF_NETLINK,
                     .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR};
    if (fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close(fd_);
      fd_ = -1;
    }
  }
  ~LinkWatch() {
    if (fd_ >= 0) close(fd_);
  }
  LinkWatch(const LinkWatch&) = delete;
  LinkWatch& operator=(const LinkWatch&) = delete;
  // True when anything happened since the last call (or when no socket: then
  // every read looks).
  bool changed() {
    if (fd_ < 0) return true;
    bool any = false;
    char buf[8192];
    for (;;) {
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n > 0 || (n < 0 && errno == ENOBUFS)) {
        any = true;  // ENOBUFS: messages were lost, so something changed
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return any;
    }
  }

 private:
  int fd_ = -1;
};

std::string prog_name(uint32_t id) {
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) return "";
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  std::string name = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.name : "";
  close(fd);
  return name;
}

// Whether the process of /proc directory `dir` is a netacct by its name
// (comm: what it was exec'd as, readable without ptrace rights; the guard
// is named netacct-guard and holds nothing).
bool named_netacct(const std::string& dir) {
  std::ifstream in(dir + "/comm");
  std::string comm;
  return std::getline(in, comm) && comm == "netacct";
}

// Whether any process has the program open (a running netacct holds its
// programs' fds): /proc/PID/fdinfo of each BPF program fd names its id. A
// netacct whose descriptors this one may not read (its fd directory or
// links refused, EACCES: no CAP_SYS_PTRACE over a process with more
// capabilities) may hold it: then it cannot tell, and says held, so another
// netacct's filter is never taken for a leftover (such a leftover stays
// until a netacct that can see every netacct starts).
bool held_by_a_process(uint32_t prog_id) {
  DIR* proc = opendir("/proc");
  if (!proc) return true;  // cannot tell: leave it
  const std::string want = "prog_id:\t" + std::to_string(prog_id);
  bool held = false;
  while (dirent* p = readdir(proc)) {
    if (held || p->d_name[0] < '1' || p->d_name[0] > '9') continue;
    std::string dir = std::string("/proc/") + p->d_name;
    DIR* fds = opendir((dir + "/fd").c_str());
    if (!fds) {
      held = (errno == EACCES || errno == EPERM) && named_netacct(dir);
      continue;
    }
    bool refused = false;
    while (dirent* f = held || refused ? nullptr : readdir(fds)) {
      char target[64] = {};
      std::string path = dir + "/fd/" + f->d_name;
      if (readlink(path.c_str(), target, sizeof target - 1) <= 0) {
        // The directory lists, but its links are refused (EACCES): all of
        // them are, so the process is judged once, by its name.
        refused = errno == EACCES || errno == EPERM;
        continue;
      }
      if (strcmp(target, "anon_inode:bpf-prog") != 0) continue;
      std::ifstream info(dir + "/fdinfo/" + f->d_name);
      for (std::string line; std::getline(info, line);)
        if (line == want) held = true;
    }
    closedir(fds);
    held = held || (refused && named_netacct(dir));
  }
  closedir(proc);
  return held;
}

// Direction 0 is ingress, 1 egress.
bpf_tc_hook tc_hook(uint32_t ifindex, int dir) {
  bpf_tc_hook h{};
  h.sz = sizeof h;
  h.ifindex = int(ifindex);
  h.attach_point = dir == 0 ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  return h;
}

bpf_tc_opts tc_opts(uint32_t prio) {
  bpf_tc_opts o{};
  o.sz = sizeof o;
  o.handle = kHandle;
  o.priority = prio;
  return o;
}

uint32_t prog_id(int prog_fd) {
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  return bpf_obj_get_info_by_fd(prog_fd, &info, &len) == 0 ? info.id : 0;
}

FlowKey flow_key(const na_flow_key& k) {
  FlowKey f{.ifindex = k.ifindex,
            .ethertype = k.ethertype,
            .proto = k.proto,
            .lport = k.lport,
            .rport = k.rport};
  std::copy(std::begin(k.laddr), std::end(k.laddr), f.laddr.begin());
  std::copy(std::begin(k.raddr), std::end(k.raddr), f.raddr.begin());
  return f;
}

// The addresses of this network namespace (IPv4 in the first 4 bytes).
std::vector<std::array<uint8_t, 16>> local_addresses() {
  std::vector<std::array<uint8_t, 16>> out;
  ifaddrs* all = nullptr;
  if (getifaddrs(&all) != 0) return out;
  for (ifaddrs* a = all; a; a = a->ifa_next) {
    if (!a->ifa_addr) continue;
    std::array<uint8_t, 16> addr{};
    if (a->ifa_addr->sa_family == AF_INET) {
      auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      std::memcpy(addr.data(), &in->sin_addr, 4);
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      auto* in6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
      std::memcpy(addr.data(), &in6->sin6_addr, 16);
    } else {
      continue;
    }
    out.push_back(addr);
  }
  freeifaddrs(all);
  return out;
}

// The legacy filters outlive netacct. A guard process, forked before the
// first filter is attached, removes them when netacct ends without doing
// so itself (SIGKILL, a crash): it holds the read end of a pipe whose write
// end only netacct has, and learns each filter as it is made. EOF without a
// "done" record means netacct died. It removes a filter only while the
// program there is still netacct's (by program id), so it never touches one
// another netacct attached since.
class Guard {
 public:
  struct Record {
    uint32_t op;  // kAdd, kRemove, kDone
    uint32_t ifindex, prio;
  };
  enum : uint32_t { kAdd = 1, kRemove = 2, kDone = 3 };

  // in_guard: run first in the guard (WireConfig::in_guard).
  Guard(uint32_t ingress_id, uint32_t egress_id, void (*in_guard)()) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(p[1]);
      if (in_guard) in_guard();
      run(p[0], {ingress_id, egress_id});
    }
    close(p[0]);
    if (pid_ < 0)
      close(p[1]);
    else
      fd_ = p[1];
  }
  ~Guard() {
    if (fd_ < 0) return;
    send({kDone, 0, 0});
    close(fd_);
    waitpid(pid_, nullptr, 0);
  }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  bool running() const { return fd_ >= 0; }
  void send(Record r) {
    if (fd_ >= 0 && write(fd_, &r, sizeof r) != ssize_t(sizeof r)) {
      // The guard is gone: filters then stay only until the next start.
    }
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;

  // Nothing of netacct's stays open here (its stdout, its BPF objects), so
  // a reader of netacct's output or a check for its programs never waits
  // for the guard; stop signals (blocked already) are ignored.
  [[noreturn]] static void run(int in, std::array<uint32_t, 2> prog_ids) {
    prctl(PR_SET_NAME, "netacct-guard");
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT}) signal(sig, SIG_IGN);
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd < 3; ++fd) dup2(null, fd);
    dup2(in, 3);
    close_range(4, ~0u, 0);
    std::vector<std::pair<uint32_t, uint32_t>> filters;
    Record r{};
    while (read(3, &r, sizeof r) == ssize_t(sizeof r)) {
      if (r.op == kDone) _exit(0);
      std::pair<uint32_t, uint32_t> f{r.ifindex, r.prio};
      if (r.op == kAdd) filters.push_back(f);
      if (r.op == kRemove) std::erase(filters, f);
    }
    for (auto [ifindex, prio] : filters)
      for (int dir = 0; dir < 2; ++dir) remove_if_ours(ifindex, prio, dir, prog_ids[dir]);
    _exit(0);
  }
  static void remove_if_ours(uint32_t ifindex, uint32_t prio, int dir, uint32_t id) {
    bpf_tc_hook h = tc_hook(ifindex, dir);
    bpf_tc_opts q = tc_opts(prio);
    if (bpf_tc_query(&h, &q) != 0 || q.prog_id != id) return;
    bpf_tc_opts d = tc_opts(prio);
    bpf_tc_detach(&h, &d);
  }
};

}  // namespace

std::optional<std::string> missing_interface(const std::vector<std::string>& names) {
  std::vector<Link> links = list_links();
  for (const auto& name : names)
    if (std::none_of(links.begin(), links.end(), [&](const Link& l) { return l.name == name; }))
      return "no interface named '" + name + "' in this network namespace (see 'ip link')";
  return std::nullopt;
}

// Asking which TCX programs loopback has fails with EINVAL where the kernel
// does not know the attach type (before Linux 6.6), and attaches nothing.
std::optional<bool> probe_tcx() {
  uint32_t count = 0;
  int err = bpf_prog_query(1, bpf_attach_type(kTcxIngress), 0, nullptr, nullptr, &count);
  if (err == 0) return true;
  if (errno == EINVAL) return false;
  return std::nullopt;  // EPERM: not allowed to ask
}

// One interface's attachment: two TCX links, or two legacy filters at
// (kHandle, prio).
struct Hook {
  Link link;
  uint64_t attach = 0;
  int links[2] = {-1, -1};
  uint32_t prio = 0;
};

struct Wire::Impl {
  WirePrograms progs;
  WireConfig cfg;
  bool tcx = true;
  uint32_t netns = own_netns();
  uint64_t attaches = 0;
  std::vector<Hook> hooks;
  LinkWatch watch;
  std::unique_ptr<Guard> guard;  // legacy path only
  MapDump<na_flow_key, na_wire_val> flow_dump;
  MapDump<na_flow_key, na_retrans_val> retrans_dump;
  std::vector<std::array<uint8_t, 16>> addrs = local_addresses();
  int ncpus = libbpf_num_possible_cpus();

  ~Impl() {
    for (auto& h : hooks) detach(h);
  }

  bool wanted(const Link& l) const {
    if (!cfg.interfaces.empty())
      return std::find(cfg.interfaces.begin(), cfg.interfaces.end(), l.name) !=
             cfg.interfaces.end();
    return (l.flags & IFF_UP) && (cfg.loopback || !(l.flags & IFF_LOOPBACK));
  }

  int prog(int dir) const { return dir == 0 ? progs.ingress : progs.egress; }

  // A priority of the band that is free for this netacct on both hooks of
  // the interface: a filter there that is netacct's and held by no process
  // is a leftover, removed; any other filter makes the priority taken.
  uint32_t free_prio(uint32_t ifindex) {
    for (uint32_t prio = kFirstPrio; prio < kFirstPrio + kPrios; ++prio) {
      bool free = true;
      for (int dir = 0; dir < 2 && free; ++dir) {
        bpf_tc_hook h = tc_hook(ifindex, dir);
        bpf_tc_opts q = tc_opts(prio);
        if (bpf_tc_query(&h, &q) != 0) continue;
        if (prog_name(q.prog_id) == kProgNames[dir] && !held_by_a_process(q.prog_id)) {
          bpf_tc_opts d = tc_opts(prio);
          free = bpf_tc_detach(&h, &d) == 0;
        } else {
          free = false;
        }
      }
      if (free) return prio;
    }
    return 0;
  }

  // Another netacct starting at the same moment may attach at the priority
  // found free here first (the kernel then refuses this one: EEXIST): what
  // was attached at it goes, and the next free one is tried.
  int attach_legacy(Hook& h) {
    for (int tries = 0; tries < 8; ++tries) {
      h.prio = free_prio(h.link.index);
      if (!h.prio) return -EBUSY;
      int err = attach_legacy_at(h);
      if (err != -EEXIST) return err;
      detach_filters(h);
    }
    return -EBUSY;
  }

  int attach_legacy_at(Hook& h) {
    for (int dir = 0; dir < 2; ++dir) {
      bpf_tc_hook hook = tc_hook(h.link.index, dir);
      int err = bpf_tc_hook_create(&hook);  // clsact: made once, kept
      if (err && err != -EEXIST) return err;
      bpf_tc_opts o = tc_opts(h.prio);
      o.prog_fd = prog(dir);
      if ((err = bpf_tc_attach(&hook, &o))) return err;
      if (dir == 0) guard->send({Guard::kAdd, h.link.index, h.prio});
    }
    return 0;
  }

  int attach_tcx(Hook& h) {
    for (int dir = 0; dir < 2; ++dir) {
      int fd = bpf_link_create(prog(dir), int(h.link.index),
                               bpf_attach_type(dir == 0 ? kTcxIngress : kTcxEgress), nullptr);
      if (fd < 0) return fd;
      h.links[dir] = fd;
    }
    return 0;
  }

  // The legacy filters at h.prio, ours only (a filter at that priority that
  // the kernel refused to make is another's, and a detach by handle and
  // priority of a filter running another program would remove it: so only
  // the directions attached are detached).
  void detach_filters(Hook& h) {
    for (int dir = 0; h.prio && dir < 2; ++dir) {
      bpf_tc_hook hook = tc_hook(h.link.index, dir);
      bpf_tc_opts q = tc_opts(h.prio);
      if (bpf_tc_query(&hook, &q) != 0 || q.prog_id != prog_id(prog(dir))) continue;
      bpf_tc_opts o = tc_opts(h.prio);
      bpf_tc_detach(&hook, &o);  // fails harmlessly when the interface is gone
    }
    if (h.prio) guard->send({Guard::kRemove, h.link.index, h.prio});
    h.prio = 0;
  }

  void detach(Hook& h) {
    for (int& fd : h.links)
      if (fd >= 0) close(std::exchange(fd, -1));
    detach_filters(h);
    uint32_t key = h.link.index;
    bpf_map_delete_elem(progs.counters, &key);
  }

  // Counters first (zeros), so the classifier finds its entry from its
  // first packet; then the two programs.
  int attach(const Link& l) {
    Hook h{.link = l, .attach = ++attaches};
    std::vector<na_iface_val> zeros(size_t(std::max(ncpus, 1)), na_iface_val{.l2_len = l.l2_len});
    uint32_t key = l.index;
    if (bpf_map_update_elem(progs.counters, &key, zeros.data(), BPF_ANY) != 0) return -errno;
    int err = tcx ? attach_tcx(h) : attach_legacy(h);
    if (err) {
      detach(h);
      return err;
    }
    hooks.push_back(std::move(h));
    return 0;
  }

  // Attaches to the wanted interfaces not attached yet, drops those gone.
  // An interface that cannot be attached later (it vanished meanwhile) is
  // tried again at the next change.
  int rescan(std::string* failed) {
    std::vector<Link> links = list_links();
    std::erase_if(hooks, [&](Hook& h) {
      auto now = std::find_if(links.begin(), links.end(), [&](const Link& l) {
        return l.index == h.link.index && l.name == h.link.name;
      });
      if (now != links.end()) return false;
      detach(h);
      return true;
    });
    for (const Link& l : links) {
      bool have = std::any_of(hooks.begin(), hooks.end(),
                              [&](const Hook& h) { return h.link.index == l.index; });
      if (have || !wanted(l)) continue;
      if (int err = attach(l)) {
        if (failed) *failed = l.name + ": " + errno_text(err);
        return err;
      }
    }
    return 0;
  }

  std::vector<IfaceEntry> all_counters();

  IfaceEntry counters(const Hook& h) {
    IfaceEntry e{
        .ifindex = h.link.index, .attach = h.attach, .name = h.link.name, .l2_len = h.link.l2_len};
    std::vector<na_iface_val> per_cpu(size_t(std::max(ncpus, 1)));
    uint32_t key = h.link.index;
    if (bpf_map_lookup_elem(progs.counters, &key, per_cpu.data()) != 0) return e;
    for (const auto& [v, l2_len, pad] : per_cpu) {
      e.tx_bytes += v.tx_bytes;
      e.rx_bytes += v.rx_bytes;
      e.tx_packets += v.tx_packets;
      e.rx_packets += v.rx_packets;
    }
    return e;
  }
};

std::unique_ptr<Wire> Wire::open(const WirePrograms& progs, const WireConfig& cfg,
                                 std::string* error) {
  auto impl = std::make_unique<Impl>();
  impl->progs = progs;
  impl->cfg = cfg;
  if (auto missing = missing_interface(cfg.interfaces)) {
    *error = *missing;
    return nullptr;
  }
  std::optional<bool> tcx = probe_tcx();
  if (cfg.attach == TcAttach::tcx && tcx == false) {
    *error = "this kernel has no TCX links (Linux >= 6.6): use --tc-attach legacy or auto";
    return nullptr;
  }
  impl->tcx = cfg.attach == TcAttach::tcx || (cfg.attach == TcAttach::automatic && tcx == true);
  if (!impl->tcx) {
    impl->guard =
        std::make_unique<Guard>(prog_id(progs.ingress), prog_id(progs.egress), cfg.in_guard);
    if (!impl->guard->running()) {
      *error = "cannot start the process that removes TC filters if netacct is killed: " +
               errno_text(errno);
      return nullptr;
    }
  }
  std::string failed;
  if (impl->rescan(&failed)) {
    *error = "cannot attach the TC classifier to " + failed + (impl->tcx ? " (TCX)" : " (clsact)") +
             " (see 'netacct doctor')";
    return nullptr;
  }
  return std::unique_ptr<Wire>(new Wire(std::move(impl)));
}

Wire::Wire(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Wire::~Wire() = default;

std::string Wire::mode() const { return impl_->tcx ? "tcx" : "tc (clsact)"; }
size_t Wire::attached() const { return impl_->hooks.size(); }

namespace {

bool same_counts(const std::vector<IfaceEntry>& a, const std::vector<IfaceEntry>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.tx_packets == y.tx_packets && x.rx_packets == y.rx_packets;
  });
}

}  // namespace

std::vector<IfaceEntry> Wire::Impl::all_counters() {
  std::vector<IfaceEntry> out;
  out.reserve(hooks.size());
  for (const Hook& h : hooks) out.push_back(counters(h));
  return out;
}

// The flow table is read between two readings of the interface counters;
// when a packet crossed an interface meanwhile (it may or may not be in the
// flows read), the table is read again, twice at most: the receipt then
// compares interface and flow bytes of the same moment, not counts a packet
// apart (what an idle or small window would show as unexplained). Under
// steady traffic the last reading is kept: what is left is the packets of
// one table read.
void Wire::read(Snapshot& snap) {
  Impl& w = *impl_;
  std::vector<IfaceEntry> before = w.all_counters();
  uint32_t n = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    n = w.flow_dump.read(w.progs.flows, NA_MAX_FLOWS);
    snap.ifaces = w.all_counters();
    if (same_counts(before, snap.ifaces)) break;
    before = snap.ifaces;
  }
  snap.ifaces_netns = w.netns;
  snap.flows.clear();
  snap.flows.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    const na_wire_val& v = w.flow_dump.values[i];
    snap.flows.push_back({.key = flow_key(w.flow_dump.keys[i]),
                          .tx_bytes = v.tx_bytes,
                          .rx_bytes = v.rx_bytes,
                          .tx_packets = v.tx_packets,
                          .rx_packets = v.rx_packets});
  }
  n = w.retrans_dump.read(w.progs.retrans, NA_MAX_RETRANS);
  snap.retrans.clear();
  for (uint32_t i = 0; i < n; ++i)
    snap.retrans.push_back({.key = flow_key(w.retrans_dump.keys[i]),
                            .bytes = w.retrans_dump.values[i].bytes,
                            .segments = w.retrans_dump.values[i].segments});
  if (w.watch.changed()) {
    w.rescan(nullptr);
    w.addrs = local_addresses();
  }
  snap.local_addrs = w.addrs;
}

}  // namespace netacct
