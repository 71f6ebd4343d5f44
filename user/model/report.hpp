// One report window: every grouping's rows summed over the window. What
// every report sink (text, CSV, JSON) prints; formatting is theirs.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/grouping.hpp"

namespace netacct {

struct GroupTable {
  GroupKind kind;
  std::vector<GroupRow> rows;  // by total bytes, descending; ties by key
};

struct Report {
  int64_t start_wall = 0, end_wall = 0;
  double interval_s = 0;
  std::string host, backend;
  uint64_t tx_bytes = 0, rx_bytes = 0;
  double tx_rate = 0, rx_rate = 0;
  std::vector<GroupTable> tables;  // one per grouping assembled, in the table's order
  Loss loss;
  Receipt receipt;  // the wire layer's breakdown of interface bytes (empty without it)
  DnsStats dns;     // remote names from DNS answers
  const std::vector<GroupRow>& rows(GroupKind kind) const;  // empty when absent
};

// The tables of `kinds` (default: every grouping): a sink that prints one
// grouping has no other table built, which at 100,000 active connections
// is most of a refresh.
std::vector<GroupKind> every_grouping();
Report assemble(const Attributed& a, const std::string& host, const std::string& backend,
                const std::vector<GroupKind>& kinds = every_grouping());

}  // namespace netacct
