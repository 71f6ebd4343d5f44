// The wire layer's attachments: the TC classifier (bpf/netacct.bpf.c,
// wire_ingress_tc / wire_egress_tc) on the ingress and egress of every
// interface netacct watches in its own network namespace, and the reading of
// their counters. Interfaces that appear later are attached at the next read
// (the kernel's link notifications say when to look); those that vanish are
// dropped after their last bytes are read.
//
// Two ways to attach, decided once per run:
//  - TCX links (Linux >= 6.6): file descriptors, so they go with netacct
//    however it ends, SIGKILL included.
//  - clsact + a direct-action cls_bpf filter (netlink; older kernels).
//    Filters outlive their process, so at start a filter of netacct's own
//    that no running process holds (left by a netacct that was killed) is
//    removed. Only netacct's own filters are ever deleted: never a qdisc
//    (another tool may have added filters to a clsact netacct created) and
//    never another tool's filter.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/types.hpp"

namespace netacct {

enum class TcAttach { automatic, tcx, legacy };

struct WireConfig {
  bool enabled = true;
  std::vector<std::string> interfaces;  // empty: every interface that is up
  bool loopback = false;                // the default set includes loopback (--loopback)
  TcAttach attach = TcAttach::automatic;
  // Run first in the legacy path's guard process, which only ever removes
  // filters (cli: drop_to_guard, keeping CAP_NET_ADMIN alone).
  void (*in_guard)() = nullptr;
};

struct WirePrograms {
  int ingress = -1, egress = -1;  // program fds
  int counters = -1;              // the `ifaces` map
  int flows = -1, retrans = -1;   // the `flows` and `retrans` maps
};

// "no interface named 'X' in this network namespace (...)" for the first
// name that is not an interface here, else nullopt.
std::optional<std::string> missing_interface(const std::vector<std::string>& names);

// Whether this kernel attaches TC programs through TCX links (Linux >= 6.6);
// nullopt when this process may not ask.
std::optional<bool> probe_tcx();

class Wire {
 public:
  // nullptr and a one-line *error (an interface named that does not exist,
  // an attach the kernel refused); nothing stays attached then.
  static std::unique_ptr<Wire> open(const WirePrograms& progs, const WireConfig& cfg,
                                    std::string* error);
  ~Wire();
  Wire(const Wire&) = delete;
  Wire& operator=(const Wire&) = delete;

  // "tcx" or "tc (clsact)": how the classifiers are attached.
  std::string mode() const;
  // The counters of every interface attached, every flow and retransmit
  // entry, then the interface set and local addresses brought up to date
  // (so an interface that vanished still gives its last bytes).
  void read(Snapshot& snap);
  size_t attached() const;

 private:
  struct Impl;
  explicit Wire(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace netacct
