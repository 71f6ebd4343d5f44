// The one owner of netacct's kernel objects: open -> configure -> load ->
// attach, all or nothing. Destroying the Session detaches and unloads
// everything; links are file descriptors, so even SIGKILL leaves nothing.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "kernel/backend.hpp"
#include "kernel/dns_capture.hpp"
#include "kernel/features.hpp"
#include "kernel/wire.hpp"
#include "model/exporter.hpp"
#include "model/types.hpp"

struct netacct_bpf;
struct bpf_link;

namespace netacct {

class MapReader;    // kernel/snapshot.hpp
struct KernelMaps;  // kernel/snapshot.hpp

// Turns on the kernel's per-program run time accounting for as long as the
// returned fd is open (BPF_ENABLE_STATS); -1 when not permitted.
int enable_run_time_stats();

struct LoadConfig {
  Backend backend = Backend::tracepoint;  // already resolved, never automatic
  bool verbose = false;                   // libbpf and verifier output
  bool has_inet_sendpage = false;
  bool retransmit_err = false;  // Features::retransmit_err
  // Tracing programs load (Features::loads_tracing): the kprobe backend then
  // runs the TCP baseline iterator too; the fentry backend always does.
  bool loads_tracing = false;
  bool attach = true;  // false: load (run the verifier) only, for tests
  // Where cgroup v2 is mounted (tracepoint backend: its datagram ingress hook
  // is attached to the root); "" when not mounted: a private mount is made.
  std::string cgroup2_mount;
  // The TC classifier and the interfaces it attaches to (every backend).
  WireConfig wire;
  // DNS answers captured for remote names (every backend; --no-dns-names).
  bool dns_names = true;
};

class Session {
 public:
  // nullptr and a one-line *error when any step fails; nothing stays attached.
  static std::unique_ptr<Session> open(const LoadConfig& cfg, std::string* error);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Backend backend() const { return backend_; }
  // What this session cannot do although it runs (one line), or "".
  const std::string& warning() const { return warning_; }
  // The counters, read through the change feed (opened with the session).
  SnapshotSource& reader() const;
  // The wire layer, or nullptr when off (--no-wire) or not attached.
  const Wire* wire() const { return wire_.get(); }
  // The DNS answers captured, or nullptr when off (--no-dns-names, no
  // CAP_NET_ADMIN, or not attached).
  DnsCapture* dns() const { return dns_.get(); }
  KernelMaps maps() const;

  // Total run time and runs of our programs so far (kernel.bpf_stats must be
  // on: see enable_run_time_stats).
  struct RunStats {
    uint64_t ns = 0, runs = 0;
  };
  RunStats run_stats() const;
  // The same per program, by the program's name.
  std::vector<ProgramRun> program_runs() const;
  // The counting tables (procs, conns, cgroups) and their capacities;
  // `entries` only for cgroups (the slots handed out: never freed in a
  // run), the others' come from what the reader holds (Pipeline).
  std::vector<MapFill> tables() const;

 private:
  Session(netacct_bpf* skel, Backend b);
  bool attach_cgroup_programs(const LoadConfig& cfg, std::string* error);
  netacct_bpf* skel_;
  Backend backend_;
  // On the cgroup v2 root: the tracepoint backend's datagram ingress
  // program, the wire layer's per-cgroup IP counters.
  std::vector<bpf_link*> cgroup_links_;
  std::unique_ptr<MapReader> reader_;
  std::unique_ptr<Wire> wire_;
  std::unique_ptr<DnsCapture> dns_;
  class Source;  // the reader's snapshot with the wire layer's counters
  std::unique_ptr<Source> source_;
  std::string warning_;
};

}  // namespace netacct
