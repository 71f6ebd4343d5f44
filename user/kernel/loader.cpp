#include "kernel/loader.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>

#include "kernel/abi.hpp"
#include "kernel/libbpf_log.hpp"
#include "netacct.skel.h"

namespace netacct {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Program names carry their backend as a suffix (sock_send_length_tp,
// inet_sendmsg_fexit, inet_sendmsg_kretprobe): load only the chosen one.
bool belongs(const std::string& prog, Backend b) {
  switch (b) {
    case Backend::tracepoint:
      return ends_with(prog, "_tp");
    case Backend::fentry:
      return ends_with(prog, "_fexit") || ends_with(prog, "_fentry");
    case Backend::kprobe:
      return ends_with(prog, "_kprobe") || ends_with(prog, "_kretprobe");
    default:
      return false;
  }
}

void configure(netacct_bpf* skel, const LoadConfig& cfg) {
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel->obj) {
    std::string name = bpf_program__name(prog);
    bool on = belongs(name, cfg.backend);
    if (name.starts_with("inet_sendpage")) on = on && cfg.has_inet_sendpage;
    bpf_program__set_autoload(prog, on);
  }
  if (cfg.backend != Backend::kprobe) {
    bpf_map__set_max_entries(skel->maps.inflight, 1);
    bpf_map__set_max_entries(skel->maps.sk_gens, 1);
  }
  skel->rodata->sock_id_is_pointer = cfg.backend == Backend::kprobe;
}

// The ABI header is compiled into both sides; this catches a stale object.
bool abi_matches(netacct_bpf* skel) {
  return bpf_map__key_size(skel->maps.procs) == sizeof(na_proc_key) &&
         bpf_map__value_size(skel->maps.procs) == sizeof(na_proc_val) &&
         bpf_map__key_size(skel->maps.conns) == sizeof(na_conn_key) &&
         bpf_map__value_size(skel->maps.conns) == sizeof(na_conn_val);
}

std::string errno_text(int err) { return strerror(err < 0 ? -err : err); }

}  // namespace

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
  if (cfg.attach && netacct_bpf__attach(skel) != 0) {
    int err = errno;
    *error = "cannot attach " + what + ": " + errno_text(err) + " (see 'netacct doctor')";
    return nullptr;
  }
  return s;
}

Session::~Session() { netacct_bpf__destroy(skel_); }

int enable_run_time_stats() { return bpf_enable_stats(BPF_STATS_RUN_TIME); }

Session::RunStats Session::run_stats() const {
  RunStats total;
  bpf_program* prog;
  bpf_object__for_each_program(prog, skel_->obj) {
    int fd = bpf_program__fd(prog);
    if (fd < 0) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) continue;
    total.ns += info.run_time_ns;
    total.runs += info.run_cnt;
  }
  return total;
}

int Session::procs_fd() const { return bpf_map__fd(skel_->maps.procs); }
int Session::conns_fd() const { return bpf_map__fd(skel_->maps.conns); }
int Session::stats_fd() const { return bpf_map__fd(skel_->maps.stats); }

}  // namespace netacct
