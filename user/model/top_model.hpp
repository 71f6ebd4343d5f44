// The live view's model: every row of every grouping seen in the last 40 s,
// with its history. Fed one attributed window per refresh; asked for the
// rows of one view. Pure: the clock is the caller's; text is the renderer's.
#pragma once
#include <map>
#include <optional>
#include <vector>

#include "model/grouping.hpp"
#include "model/history.hpp"

namespace netacct {

enum class SortBy { sent, received, total };

struct TopRow {
  GroupRow row;  // identity (its byte fields are unused here)
  Rates rates;
  Totals totals;
  RowHistory::Spark spark;  // rate per bucket over the last 40 s, oldest first
};

struct TopQuery {
  GroupKind view = GroupKind::process;
  std::optional<ProcId> drill;  // only this process's rows
  size_t spark_buckets = 8;
};

struct TopTotals {
  Rates rates;
  Totals totals;
  size_t processes = 0, connections = 0;  // active in the last 40 s
};

class TopModel {
 public:
  TopModel(double start, double delay);
  // Adds one refresh: `now` is the window's end (monotonic seconds).
  void update(const Attributed& a, double now);
  // The view's rows, unsorted and unfiltered.
  std::vector<TopRow> rows(const TopQuery& q) const;
  TopTotals totals() const;

 private:
  struct Live {
    GroupRow row;
    RowHistory history;
  };
  using Rows = std::map<GroupKey, Live>;
  SampleClock clock_;
  std::vector<Rows> rows_;          // per grouping, by GroupKind
  std::vector<Rows> per_proc_;      // groupings without a process, keyed per process too
  std::map<ProcId, Identity> who_;  // latest identity of every process on view
  RowHistory total_;

  void add(const Grouping& g, const Attributed& a);
  void forget_idle();
  bool recent(const RowHistory& h) const;
  TopRow row(const Grouping& g, const Live& l, size_t buckets) const;
};

// Sorts by the direction and window, highest first; ties by bytes since
// start, then by key (pid first), so frames are stable.
void sort_rows(std::vector<TopRow>& rows, SortBy by, size_t window);

}  // namespace netacct
