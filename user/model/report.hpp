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
  std::vector<GroupTable> tables;  // one per grouping, in the table's order
  Loss loss;
  const std::vector<GroupRow>& rows(GroupKind kind) const;  // empty when absent
};

Report assemble(const Attributed& a, const std::string& host, const std::string& backend);

}  // namespace netacct
