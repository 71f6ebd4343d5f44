// The wire layer's checks, shared by wire_test.cpp and instances_test.cpp:
// how netacct is asked to attach, what of netacct's is on an interface's TC
// hooks, the legacy path's guard process, and an interface's wire bytes
// summed over a run set against the kernel's own counters (support/tc.hpp).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "bpf_objects.hpp"
#include "env.hpp"      // waitFor
#include "netacct.hpp"  // procStat, running, guardOf
#include "tc.hpp"

namespace kt {

// netacct's TC programs, by the names the kernel keeps.
extern const std::set<std::string> kWireProgs;
// netacct's legacy filters: this handle, one priority of a band of 16 from
// the first (user/kernel/wire.cpp).
constexpr uint32_t kNetacctHandle = 0x6e61, kNetacctFirstPrio = 0x6e61, kNetacctPrios = 16;

// `--tc-attach`.
enum class Attach { Auto, Tcx, Legacy };
std::string attachName(Attach a);
void PrintTo(Attach a, std::ostream* os);
// auto means TCX wherever the kernel has it.
bool usesTcx(Attach a);

// Programs named wire_* made since `before` that no process holds (links
// and BTF objects have no name: not counted here).
BpfIds wireOrphansSince(const BpfIds& before);

// Every complete JSON line of netacct's output so far.
std::vector<nlohmann::json> reportsIn(const std::string& out);

// One interface across every report: its entries summed, and what they said
// about where it is. Every entry's fields are typed, and its rates are its
// bytes over the window's interval_s (checked here).
struct IfaceSum {
  uint64_t tx = 0, rx = 0, tx_packets = 0, rx_packets = 0;
  int entries = 0;
  std::set<uint64_t> indexes, netns;
  std::set<std::string> names;  // of every interface listed, this one or not
};
IfaceSum ifaceSum(const std::vector<nlohmann::json>& reports, const std::string& dev);

DevCounters minus(const DevCounters& a, const DevCounters& b);

// An interface's own counters read around both ends of netacct's counting:
// `inner` from after netacct counted (ready, attached) to before it stopped
// (or before the reports summed were made), `outer` from before it started
// (or attached) to after it stopped. netacct counted every packet of inner
// and none outside outer, so inner <= netacct <= outer, for bytes and (where
// no packet is GSO) packets. The two differ only by what crossed the
// interface while netacct started or stopped: an ARP or IPv6 router or
// neighbour packet now and then, never 1 % of the test's traffic.
struct Around {
  DevCounters inner, outer;
};
void expectWithin(uint64_t netacct, uint64_t DevCounters::*field, const Around& around,
                  const std::string& what);

}  // namespace kt
