// A window, attributed and filtered: what every report sink prints.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/accountant.hpp"

namespace netacct {

struct ProcessRow {
  uint32_t pid = 0;
  std::string comm;
  std::optional<std::string> exe;
  uint32_t uid = 0;
  std::optional<std::string> user, cgroup, container;
  uint64_t tx_bytes = 0, rx_bytes = 0;
  double tx_rate = 0, rx_rate = 0;
  bool exited = false;
};

struct ConnectionRow {
  uint32_t pid = 0;
  std::string comm;
  std::string proto, family, local, remote;
  uint32_t netns = 0;
  uint64_t tx_bytes = 0, rx_bytes = 0;
  double tx_rate = 0, rx_rate = 0;
};

// Where bytes went that per-socket detail does not show.
struct Loss {
  uint64_t conns_evicted = 0;    // since start
  uint64_t insert_failed = 0;    // in this window
  uint64_t unattributed_tx = 0;  // process bytes with no connection row
  uint64_t unattributed_rx = 0;
};

struct Report {
  int64_t start_wall = 0, end_wall = 0;
  double interval_s = 0;
  std::string host, backend;
  uint64_t tx_bytes = 0, rx_bytes = 0;
  std::vector<ProcessRow> processes;  // by total bytes, descending
  std::vector<ConnectionRow> connections;
  Loss loss;
};

struct ReportFilter {
  bool loopback = false;    // include loopback traffic
  std::set<uint32_t> pids;  // empty: all
};

// What attribution needs from the system; procfs and cgroupfs in the
// product, a fake in tests.
class Resolver {
 public:
  virtual ~Resolver() = default;
  virtual bool alive(const ProcId& id) = 0;
  virtual std::optional<std::string> exe(uint32_t pid) = 0;
  virtual std::optional<std::string> user(uint32_t uid) = 0;
  virtual std::optional<std::string> cgroup(uint64_t cgroup_id) = 0;
};

Report assemble(const Window& w, const ReportFilter& filter, Resolver& resolver,
                const std::string& host, const std::string& backend);

}  // namespace netacct
