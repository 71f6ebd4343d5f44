// What is attached to an interface's TC hooks, and what the interface itself
// counted, read inside a test's network namespace: the ground truth of the
// wire layer's tests (wire_test.cpp).
//
// Every call runs on a thread of its own that joined the namespace (setns
// moves only the calling thread), so ifindexes, netlink sockets and TC hooks
// are the namespace's, and the test process never leaves its own. Listings
// come from rtnetlink dumps and bpf(2) queries made here, not from libbpf
// (netacct's own library): libbpf only plays "another tool" (ForeignFilter).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kt {

// Whether this kernel has TCX (Linux >= 6.6): BPF_PROG_QUERY for attach
// type 46 (BPF_TCX_INGRESS) on loopback fails with EINVAL where the kernel
// does not know the type. Asked of the kernel, never of its version string.
bool kernelHasTcx();

// ifindex of `dev` in namespace `ns`; 0 if there is none.
uint32_t ifIndex(const std::string& ns, const std::string& dev);

// The interface's own counters (IFLA_STATS64: what `ip -s link` shows; for a
// veth, what /sys/class/net/DEV/statistics says in its namespace).
struct DevCounters {
  uint64_t tx_bytes = 0, rx_bytes = 0, tx_packets = 0, rx_packets = 0;
};
DevCounters devCounters(const std::string& ns, const std::string& dev);  // throws if no `dev`

enum class TcDir { ingress, egress };
const char* name(TcDir d);

// One program on a TC hook of an interface: a TCX attachment, or a filter
// under the clsact qdisc (kind "bpf" for cls_bpf; other kinds have no program).
struct TcProg {
  TcDir dir = TcDir::ingress;
  bool tcx = false;
  std::string kind;  // "tcx", "bpf", "matchall"...
  uint32_t prog_id = 0;
  std::string name;               // the program's name as the kernel keeps it (15 characters)
  uint32_t prio = 0, handle = 0;  // filters only
  uint32_t link_id = 0;           // TCX: the link holding it (0: attached without a link)
};
// Everything on both hooks of `dev`: TCX programs (where the kernel has TCX)
// and every filter under clsact ingress and egress. Throws if no `dev`.
std::vector<TcProg> tcProgs(const std::string& ns, const std::string& dev);
std::string describe(const std::vector<TcProg>& progs);  // for messages
// netacct's wire classifiers (wire_ingress_tc, wire_egress_tc) among them.
std::vector<TcProg> wireProgsOn(const std::string& ns, const std::string& dev);

// Whether `dev` has a clsact qdisc (RTM_GETQDISC dump).
bool hasClsact(const std::string& ns, const std::string& dev);

// "Another tool": a clsact qdisc on `dev` (created here; it must not exist
// yet) and, on both hooks, a direct-action cls_bpf filter at handle 1 and
// each priority of `prios`, running a program of its own (`r0 = -1; exit`:
// TC_ACT_UNSPEC, the packet goes on). Made with libbpf's bpf_tc_* calls,
// as such a tool would. Removed with the qdisc when destroyed.
class ForeignFilters {
 public:
  static constexpr uint32_t kHandle = 1;
  ForeignFilters(const std::string& ns, const std::string& dev, std::vector<uint32_t> prios);
  ~ForeignFilters();
  ForeignFilters(const ForeignFilters&) = delete;
  ForeignFilters& operator=(const ForeignFilters&) = delete;

  uint32_t progId() const { return prog_id_; }
  const std::vector<uint32_t>& prios() const { return prios_; }
  // Those of our filters that are missing or no longer run our program.
  std::vector<std::string> missing() const;

 private:
  void remove();  // the qdisc (so every filter under it) and our program
  std::string ns_, dev_;
  std::vector<uint32_t> prios_;
  int prog_fd_ = -1;
  uint32_t prog_id_ = 0;
};

// A veth pair the test makes: `dev_a` in namespace `ns_a`, `dev_b` in
// `ns_b`, each with an IPv4 address (/24), no IPv6 address at all (no
// link-local, so no DAD, router or MLD chatter: only the test's packets
// cross it), up. Deleted when destroyed unless gone already.
class Veth {
 public:
  Veth(const std::string& ns_a, const std::string& dev_a, const std::string& addr_a,
       const std::string& ns_b, const std::string& dev_b, const std::string& addr_b);
  ~Veth();
  Veth(const Veth&) = delete;
  Veth& operator=(const Veth&) = delete;
  void remove();  // deletes the pair now (both ends)

 private:
  std::string ns_a_, dev_a_;
  bool live_ = true;
};

}  // namespace kt
