// Reading the wire layer back from netacct's reports: a flow summed over a
// run, the wire bytes on a pid's rows, the receipt's lines and the checks
// every flow scenario makes of them, for every test that looks at flows;
// netacct itself is started by startIn(), always inside one of the test's
// namespaces and on the test's own interfaces.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "netacct.hpp"

namespace kt::flows {

// An interval no test reaches: the only report is the one printed at SIGINT.
constexpr double kOneWindow = 3600;

// What a packet's link and network headers add on a veth: Ethernet 14, then
// IPv4 20 or IPv6 40.
constexpr uint64_t kEth = 14;
inline uint64_t ethIp(int family) { return kEth + (family == AF_INET6 ? 40 : 20); }

// netacct's report in `ns`, watching `ifaces` only.
std::unique_ptr<Netacct> startIn(const std::string& ns, const std::vector<std::string>& ifaces,
                                 double interval = kOneWindow);

// Every flows[] entry of a run, for failure messages.
std::string describeFlows(const NetacctRun& run);

// One flow (interface, proto, local, remote) over every report of a run.
struct FlowView {
  uint64_t tx = 0, rx = 0, tx_packets = 0, rx_packets = 0;
  int entries = 0;
  std::set<std::string> classes, owners, comms;  // owners, comms: as JSON ("null", "1234")
  std::set<bool> forwarded;
};
FlowView flowOf(const NetacctRun& run, const std::string& iface, const std::string& proto,
                const nlohmann::json& local, const nlohmann::json& remote);

// The bytes of `pid`'s rows in `table` ("processes", "connections"; those
// with this local and remote end, if given), summed over the run.
struct ConnWire {
  uint64_t tx = 0, rx = 0;  // payload
  uint64_t tx_wire = 0, rx_wire = 0, retrans = 0;
  int entries = 0;
};
ConnWire wireOf(const NetacctRun& run, const char* table, pid_t pid, const std::string& local = "",
                const std::string& remote = "");

// The receipt's line for `iface` in one report. A window in which the
// interface moved nothing has none (nor an interfaces[] entry): then zeros.
nlohmann::json receiptLine(const nlohmann::json& report, const std::string& iface);

// In every report: each receipt line adds up; its wire bytes are what
// interfaces[] says the interface moved; each class holds exactly the bytes
// of that report's flows of that class on that interface (process and
// retransmits together: retransmits move out of their connection's flow);
// the total line is the sum of the interface lines; |unexplained| < 1 %.
void expectReceiptsMatchFlows(const NetacctRun& run);

}  // namespace kt::flows
