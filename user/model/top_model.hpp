// The live view's model: every process, connection and remote host seen in
// the last 40 s, with its history. Fed one Window per refresh; asked for the
// rows of one view. Pure: resolvers and the clock come from the caller.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/accountant.hpp"
#include "model/history.hpp"
#include "model/report.hpp"

namespace netacct {

enum class View { processes, connections, remotes };
enum class SortBy { sent, received, total };

struct RemoteKey {
  uint16_t family = 0;
  std::array<uint8_t, 16> addr{};
  auto operator<=>(const RemoteKey&) const = default;
};

struct TopRow {
  // Identity; which fields are set depends on the view.
  ProcId proc;
  uint32_t pid = 0;
  std::string user, program;
  std::string proto, local, remote;  // "addr:port" unless ports hidden
  bool exited = false;
  Rates rates;
  RowHistory::Spark spark;  // rate per bucket over the last 40 s, oldest first
};

struct TopQuery {
  View view = View::processes;
  std::optional<ProcId> drill;  // only this process's connections / remotes
  SortBy sort = SortBy::total;
  size_t window = 0;  // index into kRateWindows used for sorting
  bool show_ports = true;
  std::string filter;  // substring of program, address or port
  size_t spark_buckets = 8;
  // Reverse DNS, when enabled: a name for an address, if known yet.
  std::function<std::optional<std::string>(uint16_t family, const std::array<uint8_t, 16>&)> name;
};

struct TopTotals {
  Rates rates;
  size_t processes = 0, connections = 0;  // active in the last 40 s
};

class TopModel {
 public:
  TopModel(double start, double delay, bool loopback) : clock_(start, delay), loopback_(loopback) {}
  // Adds one refresh: `now` is the window's end (monotonic seconds).
  void update(const Window& w, Resolver& resolver, double now);
  std::vector<TopRow> rows(const TopQuery& q) const;
  TopTotals totals() const;

 private:
  struct ProcRow {
    ProcInfo info;
    std::string user;
    bool exited = false;
    RowHistory history;
  };
  struct ConnRow {
    ConnInfo info;
    RowHistory history;
  };
  SampleClock clock_;
  bool loopback_;
  std::map<ProcId, ProcRow> procs_;
  std::map<ConnId, ConnRow> conns_;
  std::map<RemoteKey, RowHistory> remotes_;
  std::map<std::pair<ProcId, RemoteKey>, RowHistory> proc_remotes_;
  RowHistory total_;

  void add_procs(const Window& w, Resolver& resolver);
  void add_conns(const Window& w);
  void forget_idle();
  bool recent(const RowHistory& h) const;
  TopRow row(const RowHistory& h, size_t buckets) const;
  std::vector<TopRow> process_rows(const TopQuery& q) const;
  std::vector<TopRow> connection_rows(const TopQuery& q) const;
  std::vector<TopRow> remote_rows(const TopQuery& q) const;
};

// Sorts by the query's direction and window, highest first; ties by pid,
// then by text, so frames are stable.
void sort_rows(std::vector<TopRow>& rows, SortBy by, size_t window);

}  // namespace netacct
