// The live view's model: every row of every grouping seen in the last 40 s,
// with its history. Fed one attributed window per refresh; asked for the
// rows of one view. Pure: the clock is the caller's; text is the renderer's.
//
// Its cost follows activity, not the number of rows: an update touches the
// rows that moved and those whose last bytes just left the 40 s history; a
// frame ranks the rows active in the last 40 s by one number each and makes
// a full row (rates, history, identity) only of those on screen. A row idle
// for 40 s that is kept (a process's, until it exits) holds its totals only.
#pragma once
#include <deque>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "model/flat_map.hpp"
#include "model/grouping.hpp"
#include "model/history.hpp"

namespace netacct {

enum class SortBy { sent, received, total };

// Which bytes rows of processes, connections and remote hosts show: what
// the applications moved, or what their packets weighed on the wire
// (headers, ACKs, retransmits; wire layer only). Interface rows are wire
// bytes in both.
enum class Layer { payload, wire };

struct TopRow {
  GroupRow row;  // identity (its byte fields are unused here)
  Rates rates;
  Totals totals;
  RowHistory::Spark spark;  // rate per bucket over the last 40 s, oldest first
};

struct TopQuery {
  GroupKind view = GroupKind::process;
  std::optional<ProcId> drill;  // only this process's rows
  // A container drilled into: the processes view shows only those in this
  // cgroup (as each process's latest identity names it).
  std::optional<uint64_t> cgroup;
  size_t spark_buckets = 8;
  Layer layer = Layer::payload;
};

struct TopTotals {
  Rates rates;
  Totals totals;
  size_t processes = 0, connections = 0;  // active in the last 40 s
};

class TopModel {
  static constexpr uint32_t kIdle = UINT32_MAX;
  struct Live {
    ConnInfo conn;                     // rows fed by connections: the first connection's
    IdentityRef who;                   // rows of a process: its identity when the row began
    RemoteNameRef name;                // rows fed by connections: the best remote name seen
    RowHistory history;                // payload bytes (interfaces: wire bytes)
    std::unique_ptr<RowHistory> wire;  // wire bytes, from the first window that had any
    uint64_t active_seq = 0;           // the sample of its last bytes
    uint32_t recent = kIdle;           // index in its table's recent list; kIdle: none for 40 s
    uint8_t table = 0;
  };
  using Node = FlatMap<GroupKey, Live>::Entry;

 public:
  TopModel(double start, double delay);
  // Adds one refresh: `now` is the window's end (monotonic seconds).
  void update(const Attributed& a, double now);
  // The view's rows, unsorted and unfiltered.
  std::vector<TopRow> rows(const TopQuery& q) const;
  TopTotals totals(Layer layer = Layer::payload) const;
  // The latest of a cgroup seen (its name), or null.
  const ContainerTraffic* container(uint64_t cgroup_id) const;

  // A row of a view as a frame ranks it: the rate it sorts by, its bytes
  // since start, and where to find it for the full row (until the next
  // update).
  struct Ranked {
    const Node* row = nullptr;
    double value = 0;
    uint64_t total = 0;
  };
  // Every row of the view (as rows()), ranked by `by` over kRateWindows[window].
  std::vector<Ranked> ranked(const TopQuery& q, SortBy by, size_t window) const;
  // sort_rows' order: highest value first, then most bytes since start, then key.
  static bool before(const Ranked& a, const Ranked& b);
  static const GroupKey& key(const Ranked& r) { return r.row->key; }
  TopRow row(const TopQuery& q, const Ranked& r) const;

 private:
  struct Table {
    FlatMap<GroupKey, Live> rows;
    std::vector<Node*> recent;  // the rows with bytes in the last 40 s
    // Per kernel slot (ConnTraffic::slot), the row its connection fed last:
    // found again without hashing its key while the slot holds the same
    // connection (checked against the key).
    std::vector<Node*> at_slot;
  };
  // Every row with bytes in the last 40 s is in one bucket, at or before
  // the sample of its last bytes; it is looked at again when that sample
  // leaves the history (and then idles, or moves to its newer sample).
  struct Bucket {
    uint64_t seq = 0;
    double end = 0;
    std::vector<Node*> rows;
  };
  SampleClock clock_;
  std::vector<Table> tables_;  // per grouping (by GroupKind), then the same keyed per process
  std::deque<Bucket> expiry_;
  FlatMap<ProcId, IdentityRef> who_;  // latest identity of every process on view
  // Every interface seen, by ifindex: what interface rows show (a name that
  // changes is updated at the next refresh; rows point here).
  std::unordered_map<uint32_t, IfaceTraffic> ifaces_;
  // Every cgroup seen, by id, likewise (its name: a removed one keeps it).
  std::unordered_map<uint64_t, ContainerTraffic> containers_;
  RowHistory total_;
  RowHistory total_wire_;         // every interface's bytes
  static const RowHistory kNone;  // a row's wire history before it had any

  size_t table_of(GroupKind kind, bool per_proc) const;
  void add(const Grouping& g, const Attributed& a);
  Node* touch(size_t table, const GroupKey& key, const Grouping& g, const TrafficItem& item,
              const Attributed& a, const Node* like);
  void moved(Node* n, const TrafficItem& item);
  const RowHistory& history(const Node& n, Layer layer) const;
  uint64_t cgroup_of(const Node& n) const;
  void expire();
  void idle(Node* n);
  void drop_if_exited(const ProcId& id);
  void mark_exited(const ProcId& id);
  TopRow make_row(const Grouping& g, const Node& n, const TopQuery& q) const;
};

// Sorts by the direction and window, highest first; ties by bytes since
// start, then by key (pid first), so frames are stable.
void sort_rows(std::vector<TopRow>& rows, SortBy by, size_t window);

}  // namespace netacct
