// Attribution: the one step that turns a window of kernel deltas into
// traffic of known processes. Each process's identity is resolved here and
// nowhere else, the selection (--pid, --loopback) is applied here for every
// command, and "exited" comes from the poller's own list. Everything after
// this step (groupings, report sums, top histories) only reads.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "model/accountant.hpp"
#include "model/flat_map.hpp"
#include "model/remote_names.hpp"
#include "model/shared_text.hpp"
#include "model/wire_join.hpp"

namespace netacct {

// What every command shows: one definition, applied in one place.
struct Selection {
  std::set<uint32_t> pids;  // empty: every process
  // cgroup paths ("/system.slice/docker-<id>.scope"), each with its
  // subtree; empty: every cgroup
  std::vector<std::string> cgroups;
  bool loopback = false;  // include traffic that stays on this host
  bool wants(uint32_t pid) const { return pids.empty() || pids.count(pid) > 0; }
  // A cgroup path (null: unknown) is one of `cgroups` or below one.
  bool wants_cgroup(const std::string* path) const;
  bool narrowed() const { return !pids.empty() || !cgroups.empty(); }
};

// Who a process is, resolved once (and again only when the kernel reports
// a new program name or cgroup for it).
struct Identity {
  ProcId proc;
  std::string comm;
  uint32_t uid = 0;
  uint64_t cgroup_id = 0;
  SharedText user, exe, cgroup, container;
  std::optional<uint32_t> container_pid;  // its PID in its own PID namespace, if in one
  bool exited = false;
};

struct CgroupName {
  std::optional<std::string> path;       // "/system.slice/nginx.service"
  std::optional<std::string> container;  // "docker:0123456789ab", "nginx.service"
  // The container or unit the cgroup is, as its runtime names it
  // (resolve/containers): runtime "docker", "containerd", "crio",
  // "podman", "lxc", "systemd" or empty (a plain cgroup, named by its path).
  std::string runtime, id, name;
  std::optional<std::string> pod, namespace_;  // Kubernetes
};

// What attribution needs from the system: procfs, cgroupfs and the password
// database in the product (resolve/), a fake in tests.
class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual std::optional<std::string> exe(uint32_t pid) = 0;
  virtual std::optional<std::string> user(uint32_t uid) = 0;
  virtual CgroupName cgroup(uint64_t cgroup_id) = 0;
  // The PID inside the process's own PID namespace; nullopt outside one.
  virtual std::optional<uint32_t> ns_pid(uint32_t) { return std::nullopt; }
  // Names a cgroup path the way cgroup() names an id's (for a cgroup gone
  // before its id was resolved, whose path netacct pieced together).
  virtual CgroupName name_path(const std::string& path) { return {.path = path}; }
};

struct Identity;

// `who`: the process's identity in Attributed::who (null: not known), so
// that rows naming it need no lookup.
// Wire bytes (tx_wire, rx_wire: the flows of the process's connections as
// they crossed the interfaces netacct watches) and retransmitted payload
// stand beside payload bytes (tx, rx) on process and connection rows.
struct WireBytes {
  uint64_t tx_wire = 0, rx_wire = 0, retrans = 0;
};

struct ProcTraffic {
  ProcId id;
  uint64_t tx = 0, rx = 0;
  const Identity* who = nullptr;
  WireBytes wire;
};

struct ConnTraffic {
  ConnId id;
  ConnInfo info;
  uint64_t tx = 0, rx = 0;
  const Identity* who = nullptr;
  uint32_t slot = kNoSlot;  // the entry's (ConnEntry::slot): where state kept per row is found
  WireBytes wire;
  // One remote's part of an unconnected UDP socket (from its flows): the
  // socket's row keeps what no watched interface carried.
  bool per_remote = false;
  // The remote's name from DNS answers (null: none known).
  RemoteNameRef name;
};

// A cgroup's traffic in a window. Payload bytes are the kernel's per-cgroup
// counters (exact: bytes of processes that exited, or whose entries went,
// stay counted), or with --pid the selected processes' sum; wire bytes are
// its processes'. `processes`: those in it that moved bytes in the window.
// A cgroup's sockets' IP packets in the window (wire layer), loopback
// only with --loopback, counted in the kernel.
struct IpTraffic {
  uint64_t tx_bytes = 0, rx_bytes = 0, tx_packets = 0, rx_packets = 0;
};

struct ContainerTraffic {
  uint64_t cgroup_id = 0;
  std::shared_ptr<const CgroupName> name;
  uint64_t tx = 0, rx = 0;
  WireBytes wire;
  IpTraffic ip;
  uint64_t processes = 0;
};

// Where bytes went that per-socket detail does not show.
struct Loss {
  uint64_t conns_evicted = 0;    // since start
  uint64_t insert_failed = 0;    // in this window
  uint64_t unattributed_tx = 0;  // process bytes with no connection row
  uint64_t unattributed_rx = 0;
};

// Identities are shared, never changed once made: an exit or a new name
// makes a new one, so a window keeps the identities it was made with.
using IdentityRef = std::shared_ptr<const Identity>;

// One window, attributed and selected.
struct Attributed {
  int64_t start_mono = 0, end_mono = 0;
  int64_t start_wall = 0, end_wall = 0;
  std::unordered_map<ProcId, IdentityRef> who;  // every process named below
  std::vector<ProcTraffic> procs;               // processes that moved selected bytes
  std::vector<ConnTraffic> conns;               // their connections that did
  std::vector<ProcId> exited;                   // selected processes that exited at this poll
  std::vector<IfaceTraffic> ifaces;             // wire traffic per interface
  std::vector<FlowTraffic> flows;               // per flow (of selected processes, with --pid)
  std::vector<ContainerTraffic> containers;     // per cgroup
  Receipt receipt;                              // each interface's bytes broken down
  DnsStats dns;                                 // remote names (enabled: answers captured)
  uint64_t tx_bytes = 0, rx_bytes = 0;
  Loss loss;
  double seconds() const { return double(end_mono - start_mono) / 1e9; }
  const Identity& identity(const ProcId& id) const;
};

// A remote's name by reverse DNS (PTR), if one is known now.
using PtrLookup = std::function<std::optional<std::string>(const RemoteKey&)>;
// `report --resolve`: each connection that no DNS answer named takes its
// remote's PTR name (source ptr), the lowest rank (better_name). Returns
// how many were left unnamed (no name, or not known yet).
size_t name_by_ptr(std::vector<ConnTraffic>& conns, const PtrLookup& ptr);

// A connection as shown: IPv4-mapped IPv6 addresses as the IPv4 they are
// (family AF_INET); no ports for ICMP and raw sockets.
ConnInfo canonical(ConnInfo c);

class Attributor {
 public:
  // `namer`: remote names from DNS answers (null: off, --no-dns-names).
  Attributor(Selection selection, Resolver& resolver, RemoteNamer* namer = nullptr)
      : selection_(std::move(selection)), resolver_(resolver), namer_(namer) {}
  Attributed attribute(const Window& w);
  const Selection& selection() const { return selection_; }

 private:
  Selection selection_;
  Resolver& resolver_;
  RemoteNamer* namer_;
  FlatMap<ProcId, IdentityRef> known_;          // processes seen so far, until their entries go
  std::unordered_set<ProcId> gone_, was_gone_;  // the poller's exit list, this poll and the last

  FlowJoin join_;  // connections by tuple, for the wire layer
  // Every cgroup named so far, kept: a cgroup removed since keeps its name.
  std::unordered_map<uint64_t, std::shared_ptr<const CgroupName>> cgroup_names_;
  // This window's kernel records of cgroups (name, parent), by id.
  std::unordered_map<uint64_t, const CgroupEntry*> cgroup_records_;
  const std::shared_ptr<const CgroupName>& cgroup_name(uint64_t id);
  CgroupName resolve_cgroup(uint64_t id);
  void add_containers(const Window& w, Attributed& a);
  const IdentityRef& identify(const ProcId& id, const ProcInfo& info);
  // --pid and --cgroup: a process, by its PID and the cgroup its identity
  // names (known_: a process not named yet is not selected by --cgroup).
  bool selected(const ProcId& id) const;
  void add_procs(const Window& w, Attributed& a);
  void add_conns(const Window& w, Attributed& a);
  const Identity* owner(const ProcId& id, Attributed& a) const;
  void add_exited(const Window& w, Attributed& a);
  void add_wire(const Window& w, Attributed& a);
  void name_remotes(const Window& w, Attributed& a);
};

}  // namespace netacct
