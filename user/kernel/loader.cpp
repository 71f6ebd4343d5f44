#include "kernel/loader.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "kernel/abi.hpp"
#include "kernel/libbpf_log.hpp"
#include "kernel/map_dump.hpp"
#include "kernel/snapshot.hpp"
#include "netacct.skel.h"

namespace netacct {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Program names carry their backend as a suffix (sock_send_length_tp,
// inet_sendmsg_fexit, inet_sendmsg_kretprobe): load only the chosen one. The
// tracepoint backend's one cgroup program (dgram_ingress_cgroup: see
// bpf/netacct.bpf.c for why) ends in _cgroup; the fentry and kprobe backends'
// TCP baseline iterator (tcp_baseline_iter) in _iter.
bool belongs(const std::string& prog, Backend b) {
  if (ends_with(prog, "_tc") || ends_with(prog, "_wire")) return true;  // wire layer: every backend
  if (ends_with(prog, "_dns")) return true;  // DNS answers: every backend
  switch (b) {
    case Backend::tracepoint:
      return ends_with(prog, "_tp") || ends_with(prog, "_cgroup");
    case Backend::fentry:
      return ends_with(prog, "_fexit") || ends_with(prog, "_fentry") || ends_with(prog, "_iter");
    case Backend::kprobe:
      return ends_with(prog, "_kprobe") || ends_with(prog, "_kretprobe") ||
             ends_with(prog, "_iter");
    default:
      return false;
  }
}

bool has_net_admin() {
  __user_cap_header_struct hdr{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  return data[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32));
}

void configure(netacct_bpf* skel, const LoadConfig& cfg) {
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) {
    std::string name = bpf_program__name(prog);
    bool on = belongs(name, cfg.backend);
    if (name.starts_with("inet_sendpage")) on = on && cfg.has_inet_sendpage;
    if (ends_with(name, "_iter")) on = on && (cfg.backend == Backend::fentry || cfg.loads_tracing);
    if (ends_with(name, "_tc") || ends_with(name, "_wire")) on = cfg.wire.enabled;
    if (name == "tcp_retransmit_wire") on = on && !cfg.retransmit_err;
    if (name == "tcp_retransmit_err_wire") on = on && cfg.retransmit_err;
    if (ends_with(name, "_dns")) on = cfg.dns_names && has_net_admin();
    bpf_program__set_autoload(prog, on);
  }
  // Loading a cgroup_skb program takes CAP_NET_ADMIN as well; without it the
  // backend still runs (Session::warning says what is lost). Attached by
  // attach_ingress, to a cgroup the skeleton cannot know.
  bpf_program* ingress = skel->progs.dgram_ingress_cgroup;
  bpf_program__set_autoload(ingress, bpf_program__autoload(ingress) && has_net_admin());
  bpf_program__set_autoattach(ingress, false);
  bpf_program__set_autoattach(skel->progs.cgroup_ip_egress_wire, false);
  bpf_program__set_autoattach(skel->progs.dns_answer_dns, false);
  bpf_program__set_autoattach(skel->progs.cgroup_ip_ingress_wire, false);
  bpf_program__set_autoattach(skel->progs.tcp_baseline_iter, false);
  bpf_program__set_autoattach(skel->progs.wire_ingress_tc, false);  // kernel/wire.cpp
  bpf_program__set_autoattach(skel->progs.wire_egress_tc, false);
  if (!cfg.wire.enabled)
    for (bpf_map* m : {skel->maps.ifaces, skel->maps.flows, skel->maps.retrans})
      bpf_map__set_max_entries(m, 1);
  // A ring buffer's size is a power of two pages: one page when unused.
  if (!bpf_program__autoload(skel->progs.dns_answer_dns))
    bpf_map__set_max_entries(skel->maps.dns_answers, uint32_t(sysconf(_SC_PAGESIZE)));
  if (cfg.backend != Backend::kprobe) {
    bpf_map__set_max_entries(skel->maps.inflight, 1);
    bpf_map__set_max_entries(skel->maps.sk_gens, 1);
    bpf_map__set_max_entries(skel->maps.tcp_seq, 1);  // socket storage instead
  }
  skel->rodata->sock_id_is_pointer = cfg.backend == Backend::kprobe;
  skel->rodata->dgram_rx_from_ring = cfg.backend == Backend::tracepoint;
}

// The ABI header is compiled into both sides; this catches a stale object.
bool abi_matches(netacct_bpf* skel) {
  return bpf_map__key_size(skel->maps.procs) == sizeof(na_proc_key) &&
         bpf_map__key_size(skel->maps.conns) == sizeof(na_conn_key) &&
         bpf_map__value_size(skel->maps.proc_slots) == sizeof(na_proc_slot) &&
         bpf_map__value_size(skel->maps.conn_slots) == sizeof(na_conn_slot) &&
         bpf_map__max_entries(skel->maps.touched) == NA_TOUCHED_WORDS &&
         bpf_map__value_size(skel->maps.ifaces) == sizeof(na_iface_val) &&
         bpf_map__value_size(skel->maps.cgroup_slots) == sizeof(na_cgroup_slot);
}

std::string errno_text(int err) { return strerror(err < 0 ? -err : err); }

// A directory fd of the cgroup v2 root: the mount netacct was given, else a
// private mount made for the purpose (`ip netns exec` hides /sys's cgroup
// mounts), detached again as soon as the fd is open.
int open_cgroup2_root(const std::string& mount_point, std::string* error) {
  if (!mount_point.empty()) {
    int fd = open(mount_point.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) *error = "cannot open " + mount_point + ": " + errno_text(errno);
    return fd;
  }
  char dir[] = "/tmp/netacct-cgroup2.XXXXXX";
  if (!mkdtemp(dir)) {
    *error = "no cgroup v2 mount, and cannot make one: " + errno_text(errno);
    return -1;
  }
  int fd = -1;
  if (mount("cgroup2", dir, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0) {
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) *error = "cannot open the cgroup v2 root: " + errno_text(errno);
    umount2(dir, MNT_DETACH);
  } else {
    *error = "no cgroup v2 mount, and cannot make one: " + errno_text(errno);
  }
  rmdir(dir);
  return fd;
}

// Runs the TCP baseline iterator once (see tcp_baseline_iter): the program
// does its work while the iterator is read; the link and the iterator fd go
// when this returns. A read returns EAGAIN after a million objects when the
// program printed nothing (bpf_seq_read); the next read resumes.
bool run_tcp_baseline(netacct_bpf* skel, std::string* why) {
  bpf_link* link = bpf_program__attach_iter(skel->progs.tcp_baseline_iter, nullptr);
  if (!link) {
    *why = "TCP baseline iterator: " + errno_text(errno);
    return false;
  }
  int fd = bpf_iter_create(bpf_link__fd(link));
  bool ok = fd >= 0;
  if (ok) {
    char buf[256];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN))) {
    }
    ok = n == 0;
  }
  if (!ok) *why = "TCP baseline iterator: " + errno_text(errno);
  if (fd >= 0) close(fd);
  bpf_link__destroy(link);
  return ok;
}

}  // namespace

// Each loaded cgroup_skb program goes on the cgroup v2 root through a link,
// which holds the cgroup: the directory fd is not needed once attached.
// Without CAP_NET_ADMIN the tracepoint backend's datagram program was not
// loaded: netacct runs, and says what it cannot tell apart. A loaded program
// that cannot attach is an attach failure like any other: nothing stays,
// netacct does not run.
bool Session::attach_cgroup_programs(const LoadConfig& cfg, std::string* error) {
  std::vector<bpf_program*> progs;
  for (bpf_program* p : {skel_->progs.dgram_ingress_cgroup, skel_->progs.cgroup_ip_egress_wire,
                         skel_->progs.cgroup_ip_ingress_wire, skel_->progs.dns_answer_dns})
    if (bpf_program__fd(p) >= 0) progs.push_back(p);
  if (cfg.backend == Backend::tracepoint && bpf_program__fd(skel_->progs.dgram_ingress_cgroup) < 0)
    warning_ =
        "without CAP_NET_ADMIN, datagrams received over loopback (UDP, ping, raw) cannot be told "
        "from network ones and count as network traffic";
  if (cfg.dns_names && bpf_program__fd(skel_->progs.dns_answer_dns) < 0)
    warning_ += std::string(warning_.empty() ? "" : "; ") +
                "without CAP_NET_ADMIN, DNS answers are not captured: remote names come only from "
                "--resolve";
  if (progs.empty()) return true;
  std::string why;
  int fd = open_cgroup2_root(cfg.cgroup2_mount, &why);
  for (size_t i = 0; fd >= 0 && i < progs.size() && why.empty(); ++i) {
    bpf_link* link = bpf_program__attach_cgroup(progs[i], fd);
    if (link)
      cgroup_links_.push_back(link);
    else
      why = "cgroup v2 root: " + errno_text(errno);
  }
  if (fd >= 0) close(fd);
  if (why.empty()) return true;
  *error = "cannot attach the " + backend_name(cfg.backend) + " backend: " + why +
           " (see 'netacct doctor')";
  return false;
}

std::unique_ptr<Session> Session::open(const LoadConfig& cfg, std::string* error) {
  set_libbpf_verbose(cfg.verbose);
  netacct_bpf* skel = netacct_bpf__open();
  if (!skel) {
    *error = "cannot open the BPF object: " + errno_text(errno);
    return nullptr;
  }
  std::unique_ptr<Session> s(new Session(skel, cfg.backend));
  configure(skel, cfg);
  std::string what = "the " + backend_name(cfg.backend) + " backend";
  if (int err = netacct_bpf__load(skel)) {
    *error = "cannot load " + what + ": " + errno_text(err) +
             (cfg.verbose ? "" : " (run with -v for the verifier log)");
    return nullptr;
  }
  if (!abi_matches(skel)) {
    *error = "BPF object and netacct disagree on map layouts: rebuild netacct";
    return nullptr;
  }
  s->reader_ = MapReader::open(s->maps(), error);
  if (!s->reader_) return nullptr;
  if (cfg.attach && netacct_bpf__attach(skel) != 0) {
    int err = errno;
    *error = "cannot attach " + what + ": " + errno_text(err) + " (see 'netacct doctor')";
    return nullptr;
  }
  if (cfg.attach && !s->attach_cgroup_programs(cfg, error)) return nullptr;
  if (cfg.attach && cfg.wire.enabled) {
    s->wire_ = Wire::open({.ingress = bpf_program__fd(skel->progs.wire_ingress_tc),
                           .egress = bpf_program__fd(skel->progs.wire_egress_tc),
                           .counters = bpf_map__fd(skel->maps.ifaces),
                           .flows = bpf_map__fd(skel->maps.flows),
                           .retrans = bpf_map__fd(skel->maps.retrans)},
                          cfg.wire, error);
    if (!s->wire_) return nullptr;
  }
  s->source_ =
      std::make_unique<Source>(*s->reader_, s->wire_.get(), bpf_map__fd(skel->maps.cgroup_slots),
                               &skel->bss->next_cgroup_slot);
  // Without the baseline every hook still counts; only a read already
  // blocked when netacct started can miss its first bytes: a warning.
  std::string why;
  if (cfg.attach && bpf_program__fd(skel->progs.tcp_baseline_iter) >= 0 &&
      !run_tcp_baseline(skel, &why))
    s->warning_ =
        why + "; a TCP read already blocked when netacct started may miss its first bytes";
  if (cfg.attach && bpf_program__fd(skel->progs.dns_answer_dns) >= 0) {
    s->dns_ =
        DnsCapture::open(bpf_map__fd(skel->maps.dns_answers),
                         reinterpret_cast<const volatile uint64_t*>(&skel->bss->dns_lost), error);
    if (!s->dns_) return nullptr;
  }
  return s;
}

class Session::Source : public SnapshotSource {
 public:
  // `cgroup_slots`: the array's fd; `used`: how many of its slots the
  // kernel has handed out (next_cgroup_slot, in the object's .bss).
  Source(MapReader& reader, Wire* wire, int cgroup_slots, const volatile __u64* used)
      : reader_(reader), wire_(wire), cgroup_slots_fd_(cgroup_slots), cgroup_slots_used_(used) {}
  Snapshot read() override {
    Snapshot s = reader_.read();
    read_cgroups(s);
    if (wire_) wire_->read(s);
    return s;
  }
  uint64_t remove(const std::vector<ProcId>& gone, const Snapshot& snap) override {
    return reader_.remove(gone, snap);
  }

 private:
  MapReader& reader_;
  Wire* wire_;
  int cgroup_slots_fd_;
  const volatile __u64* cgroup_slots_used_;
  MapDump<uint32_t, na_cgroup_slot> cgroups_;

  // After the processes (reader_.read()): see Snapshot::cgroups. A slot at
  // zero carries nothing (one that lost a race, or not counted yet).
  void read_cgroups(Snapshot& s) {
    uint64_t used = *cgroup_slots_used_;
    uint32_t n =
        cgroups_.read(cgroup_slots_fd_, uint32_t(std::min<uint64_t>(used, NA_MAX_CGROUPS)));
    s.cgroups.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      const na_cgroup_slot& slot = cgroups_.values[i];
      const na_cgroup_val& v = slot.val;
      CgroupEntry e{.id = slot.id,
                    .bytes = {.tx = v.tx_bytes,
                              .rx = v.rx_bytes,
                              .lo_tx = v.lo_tx_bytes,
                              .lo_rx = v.lo_rx_bytes},
                    .ip_bytes = {.tx = slot.ip.tx_bytes,
                                 .rx = slot.ip.rx_bytes,
                                 .lo_tx = slot.lo_ip.tx_bytes,
                                 .lo_rx = slot.lo_ip.rx_bytes},
                    .ip_packets = {.tx = slot.ip.tx_packets,
                                   .rx = slot.ip.rx_packets,
                                   .lo_tx = slot.lo_ip.tx_packets,
                                   .lo_rx = slot.lo_ip.rx_packets}};
      if (e.bytes == ByteCounters{} && e.ip_packets == ByteCounters{}) continue;
      e.name = std::string(slot.name, strnlen(slot.name, sizeof slot.name));
      e.parent = slot.parent_id;
      s.cgroups.push_back(std::move(e));
    }
  }
};

Session::Session(netacct_bpf* skel, Backend b) : skel_(skel), backend_(b) {}

Session::~Session() {
  source_.reset();
  dns_.reset();
  wire_.reset();  // before the programs it attached go
  reader_.reset();
  for (bpf_link* link : cgroup_links_) bpf_link__destroy(link);
  netacct_bpf__destroy(skel_);
}

int enable_run_time_stats() { return bpf_enable_stats(BPF_STATS_RUN_TIME); }

Session::RunStats Session::run_stats() const {
  RunStats total;
  for (const ProgramRun& p : program_runs()) {
    total.ns += p.run_time_ns;
    total.runs += p.runs;
  }
  return total;
}

std::vector<ProgramRun> Session::program_runs() const {
  std::vector<ProgramRun> out;
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel_->obj) {
    int fd = bpf_program__fd(prog);
    if (fd < 0) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) continue;
    out.push_back({.program = bpf_program__name(prog),
                   .run_time_ns = info.run_time_ns,
                   .runs = info.run_cnt});
  }
  return out;
}

std::vector<MapFill> Session::tables() const {
  const auto& m = skel_->maps;
  uint64_t cgroups_used = skel_->bss->next_cgroup_slot;
  return {{.map = "procs", .entries = 0, .capacity = bpf_map__max_entries(m.procs)},
          {.map = "conns", .entries = 0, .capacity = bpf_map__max_entries(m.conns)},
          {.map = "cgroups",
           .entries = std::min<uint64_t>(cgroups_used, bpf_map__max_entries(m.cgroup_slots)),
           .capacity = bpf_map__max_entries(m.cgroup_slots)}};
}

SnapshotSource& Session::reader() const { return *source_; }

KernelMaps Session::maps() const {
  const auto& m = skel_->maps;
  return {.procs = bpf_map__fd(m.procs),
          .conns = bpf_map__fd(m.conns),
          .proc_slots = bpf_map__fd(m.proc_slots),
          .conn_slots = bpf_map__fd(m.conn_slots),
          .touched = bpf_map__fd(m.touched),
          .free_procs = bpf_map__fd(m.free_procs),
          .free_conns = bpf_map__fd(m.free_conns),
          .stats = bpf_map__fd(m.stats)};
}

}  // namespace netacct
