// The exporter's accumulator (netacct serve): sums exact across windows,
// exited processes kept, the series budget and its sticky folding.
#include "model/exporter.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

using namespace netacct;

namespace {

// Windows of attributed traffic made by hand: identities owned here.
class Windows {
 public:
  // A process's bytes in the next window (the identity made once per pid).
  void add(uint32_t pid, const std::string& comm, uint64_t tx, uint64_t rx,
           const std::string& user = "alice", bool exited = false) {
    ProcId id{.tgid = pid, .start_ns = pid * 7ull};
    auto who = std::make_shared<Identity>(Identity{.proc = id, .comm = comm, .uid = 1000});
    who->user = user;
    who->exited = exited;
    next_.who[id] = who;
    next_.procs.push_back({.id = id, .tx = tx, .rx = rx, .who = who.get()});
    next_.tx_bytes += tx;
    next_.rx_bytes += rx;
  }
  void container(uint64_t id, const std::string& name, const std::string& runtime, uint64_t tx,
                 uint64_t rx) {
    auto cg = std::make_shared<CgroupName>(CgroupName{.runtime = runtime, .name = name});
    next_.containers.push_back({.cgroup_id = id, .name = cg, .tx = tx, .rx = rx});
  }
  // The window so far, one second long; the next one starts empty.
  const Attributed& take() {
    next_.start_mono = int64_t(done_.size()) * 1'000'000'000;
    next_.end_mono = next_.start_mono + 1'000'000'000;
    done_.push_back(std::make_unique<Attributed>(std::move(next_)));
    next_ = {};
    return *done_.back();
  }

 private:
  Attributed next_;
  std::vector<std::unique_ptr<Attributed>> done_;
};

const MetricData& metric(const ExporterState& s, const std::string& name) {
  const MetricData* m = s.find(name);
  EXPECT_NE(m, nullptr) << name;
  static const MetricData none;
  return m ? *m : none;
}

// Values of a metric by labels joined with '|'.
std::map<std::string, double> values(const ExporterState& s, const std::string& name) {
  std::map<std::string, double> out;
  for (const auto& sample : metric(s, name).samples) {
    std::string key;
    for (const auto& l : sample.labels) key += (key.empty() ? "" : "|") + l;
    out[key] = sample.value;
  }
  return out;
}

double sum(const std::map<std::string, double>& v, const std::string& suffix = "") {
  double total = 0;
  for (const auto& [k, x] : v)
    if (k.ends_with(suffix)) total += x;
  return total;
}

ExporterConfig config(size_t max_series = 2000) {
  return {.max_series = max_series, .version = "0.1.0", .backend = "tracepoint"};
}

}  // namespace

TEST(Exporter, ProgramSumsAreExactAcrossWindowsAndKeepExitedProcesses) {
  ExporterAccumulator acc(config());
  Windows w;
  w.add(10, "curl", 100, 5);
  w.add(11, "curl", 1, 2);  // a second process of the same program and user
  w.add(12, "nginx", 0, 7, "www-data");
  acc.add(w.take());
  w.add(10, "curl", 50, 0, "alice", /*exited=*/true);
  acc.add(w.take());
  acc.add(w.take());  // an empty window: nothing goes away
  auto v = values(acc.state({}), "netacct_program_payload_bytes_total");
  EXPECT_EQ(v, (std::map<std::string, double>{
                   {"curl|alice|tx", 151}, {"curl|alice|rx", 7}, {"nginx|www-data|rx", 7}}));
  auto total = values(acc.state({}), "netacct_payload_bytes_total");
  EXPECT_EQ(total["tx"], 151);
  EXPECT_EQ(total["rx"], 14);
}

TEST(Exporter, PidLabelsOnlyWhenAsked) {
  auto cfg = config();
  cfg.pid_labels = true;
  ExporterAccumulator acc(cfg);
  Windows w;
  w.add(10, "curl", 100, 0);
  w.add(11, "curl", 1, 0);
  acc.add(w.take());
  const ExporterState state = acc.state({});  // metric() points into it
  const auto& m = metric(state, "netacct_program_payload_bytes_total");
  EXPECT_EQ(m.label_names, (std::vector<std::string>{"program", "user", "pid", "direction"}));
  auto v = values(acc.state({}), "netacct_program_payload_bytes_total");
  EXPECT_EQ(v, (std::map<std::string, double>{{"curl|alice|10|tx", 100}, {"curl|alice|11|tx", 1}}));
  ExporterAccumulator plain(config());
  EXPECT_EQ(metric(plain.state({}), "netacct_program_payload_bytes_total").label_names,
            (std::vector<std::string>{"program", "user", "direction"}));
}

// 3000 programs, a budget of 100: at most 100 series besides `other`, the
// sum exact and every series monotonic from one window to the next.
TEST(Exporter, BudgetFoldsIntoOtherKeepingTheSumExact) {
  ExporterAccumulator acc(config(100));
  Windows w;
  std::map<std::string, double> before;
  uint64_t truth = 0;
  for (int window = 0; window < 30; ++window) {
    for (int i = 0; i < 100; ++i) {
      int n = window * 100 + i;
      w.add(uint32_t(1000 + n), "prog-" + std::to_string(n), uint64_t(n + 1), 0);
      truth += uint64_t(n + 1);
    }
    acc.add(w.take());
    auto now = values(acc.state({}), "netacct_program_payload_bytes_total");
    EXPECT_LE(now.size(), 101u) << "window " << window;
    EXPECT_EQ(sum(now), double(truth)) << "window " << window;
    for (const auto& [k, x] : before)
      if (now.count(k)) {
        EXPECT_GE(now[k], x) << k;
      }
    before = now;
  }
  EXPECT_TRUE(before.count("other|other|tx"));
  auto folded = values(acc.state({}), "netacct_series_folded_total");
  EXPECT_EQ(folded["netacct_program_payload_bytes_total"], 2900);
}

// The least active label set folds, not the newest: a busy program keeps
// its series while idle ones fold; direction is kept.
TEST(Exporter, LeastActiveFoldsFirstAndOtherKeepsDirection) {
  ExporterAccumulator acc(config(2));
  Windows w;
  w.add(1, "busy", 1000, 0);
  w.add(2, "idle", 10, 0);
  acc.add(w.take());
  w.add(1, "busy", 1000, 0);
  w.add(3, "new", 0, 500);
  acc.add(w.take());
  auto v = values(acc.state({}), "netacct_program_payload_bytes_total");
  EXPECT_EQ(v, (std::map<std::string, double>{
                   {"busy|alice|tx", 2000}, {"new|alice|rx", 500}, {"other|other|tx", 10}}));
}

// Equal activity: the oldest label set folds; long idle, activity decays.
TEST(Exporter, TiesFoldTheOldestAndIdleDecays) {
  FoldedCounter c(
      {.label_names = {"program", "direction"}, .kept = {false, true}, .max_series = 1});
  c.add({"a", "tx"}, 5);
  c.add({"b", "tx"}, 5);
  c.end_window(1);
  auto s = c.samples();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].labels, (LabelValues{"b", "tx"}));
  EXPECT_EQ(s[1].labels, (LabelValues{"other", "tx"}));
  c.end_window(3600);  // b idle for an hour: 5 bytes decayed to nothing
  c.add({"c", "tx"}, 1);
  c.end_window(1);
  s = c.samples();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].labels, (LabelValues{"c", "tx"}));
  EXPECT_EQ(s[1].value, 10);
}

// A folded label set's later bytes go to `other`, even when there is room
// again: its series never comes back (it would restart below its old value).
TEST(Exporter, FoldingIsSticky) {
  FoldedCounter c(
      {.label_names = {"program", "direction"}, .kept = {false, true}, .max_series = 1});
  c.add({"a", "tx"}, 1);
  c.add({"b", "tx"}, 100);
  c.end_window(1);  // a folds
  c.add({"a", "tx"}, 7);
  c.end_window(1);
  auto s = c.samples();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].labels, (LabelValues{"b", "tx"}));
  EXPECT_EQ(s[0].value, 100);
  EXPECT_EQ(s[1].labels, (LabelValues{"other", "tx"}));
  EXPECT_EQ(s[1].value, 8);
  EXPECT_EQ(c.folded(), 1u);
  EXPECT_EQ(c.sum(), 108);
}

// A program that names itself "other" adds to the other series: there is
// one series with those labels, and the sum stays exact.
TEST(Exporter, AProgramCalledOtherIsTheOtherSeries) {
  FoldedCounter c(
      {.label_names = {"program", "direction"}, .kept = {false, true}, .max_series = 5});
  c.add({"other", "rx"}, 3);
  c.end_window(1);
  auto s = c.samples();
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].value, 3);
  EXPECT_EQ(c.series(), 0u);
}

// Memory stays bounded: beyond `remembered_folds` the longest-folded label
// sets are forgotten (one coming back is new again), and the sum is exact.
TEST(Exporter, RememberedFoldsAreBounded) {
  FoldedCounter c({.label_names = {"program", "direction"},
                   .kept = {false, true},
                   .max_series = 1,
                   .remembered_folds = 3});
  int64_t truth = 0;
  for (int i = 0; i < 10; ++i) {
    c.add({"p" + std::to_string(i), "tx"}, i + 1);
    truth += i + 1;
    c.end_window(1);
  }
  c.add({"p0", "tx"}, 1000);  // forgotten: a live series again
  truth += 1000;
  c.end_window(1);
  EXPECT_EQ(c.sum(), truth);
  auto s = c.samples();
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].labels, (LabelValues{"other", "tx"}));
  EXPECT_EQ(s[1].labels, (LabelValues{"p0", "tx"}));
}

TEST(Exporter, ContainersOnlyWhenAsked) {
  auto cfg = config();
  cfg.containers = true;
  ExporterAccumulator acc(cfg);
  ExporterAccumulator without(config());
  Windows w;
  w.container(5, "web", "docker", 10, 20);
  w.container(6, "/system.slice/foo.scope", "", 0, 1);
  const Attributed& a = w.take();
  acc.add(a);
  acc.add(w.take());
  without.add(a);
  auto v = values(acc.state({}), "netacct_container_payload_bytes_total");
  EXPECT_EQ(v,
            (std::map<std::string, double>{
                {"web|docker|tx", 10}, {"web|docker|rx", 20}, {"/system.slice/foo.scope||rx", 1}}));
  EXPECT_EQ(without.state({}).find("netacct_container_payload_bytes_total"), nullptr);
}

TEST(Exporter, WireMetricsFromInterfacesAndTheReceipt) {
  auto cfg = config();
  cfg.wire = true;
  ExporterAccumulator acc(cfg);
  for (int i = 0; i < 2; ++i) {
    Attributed a;
    a.end_mono = 1'000'000'000;
    a.ifaces.push_back(
        {.name = "eth0", .tx_bytes = 100, .rx_bytes = 200, .tx_packets = 1, .rx_packets = 2});
    a.receipt.interfaces.push_back({.name = "eth0",
                                    .wire = 300,
                                    .process = 250,
                                    .retrans = 5,
                                    .forwarded = 10,
                                    .non_socket = 20,
                                    .no_process = 30,
                                    .unexplained = i == 0 ? -15 : 5});
    acc.add(a);
  }
  ExporterState s = acc.state({});
  EXPECT_EQ(values(s, "netacct_interface_wire_bytes_total"),
            (std::map<std::string, double>{{"eth0|tx", 200}, {"eth0|rx", 400}}));
  EXPECT_EQ(values(s, "netacct_interface_wire_packets_total"),
            (std::map<std::string, double>{{"eth0|tx", 2}, {"eth0|rx", 4}}));
  EXPECT_EQ(values(s, "netacct_retransmitted_bytes_total")["eth0"], 10);
  EXPECT_EQ(values(s, "netacct_forwarded_bytes_total")["eth0"], 20);
  EXPECT_EQ(values(s, "netacct_unattributed_wire_bytes_total"),
            (std::map<std::string, double>{{"eth0|non_socket", 40}, {"eth0|no_process", 60}}));
  EXPECT_EQ(values(s, "netacct_unexplained_wire_bytes")["eth0"], -10);
  EXPECT_EQ(metric(s, "netacct_unexplained_wire_bytes").type, MetricType::gauge);
  ExporterAccumulator payload_only(config());
  EXPECT_EQ(payload_only.state({}).find("netacct_interface_wire_bytes_total"), nullptr);
  // An interface's classes are series from the start, 0 included.
  Attributed quiet;
  quiet.receipt.interfaces.push_back({.name = "lo"});
  acc.add(quiet);
  EXPECT_EQ(values(acc.state({}), "netacct_forwarded_bytes_total"),
            (std::map<std::string, double>{{"eth0", 20}, {"lo", 0}}));
}

TEST(Exporter, HealthMetrics) {
  ExporterAccumulator acc(config());
  Attributed a;
  a.loss = {.conns_evicted = 7, .insert_failed = 2};
  acc.add(a);
  a.loss = {.conns_evicted = 9, .insert_failed = 1};
  acc.add(a);
  Health h{
      .run_stats = true,
      .programs = {{.program = "sock_send_length_tp", .run_time_ns = 1'500'000'000, .runs = 3}},
      .maps = {{.map = "procs", .entries = 4, .capacity = 16384}},
      .refresh_s = 0.25};
  ExporterState s = acc.state(h);
  EXPECT_EQ(values(s, "netacct_build_info")["0.1.0|tracepoint"], 1);
  EXPECT_EQ(values(s, "netacct_bpf_program_run_time_seconds_total")["sock_send_length_tp"], 1.5);
  EXPECT_EQ(values(s, "netacct_bpf_program_runs_total")["sock_send_length_tp"], 3);
  EXPECT_EQ(values(s, "netacct_map_entries")["procs"], 4);
  EXPECT_EQ(values(s, "netacct_map_capacity_entries")["procs"], 16384);
  EXPECT_EQ(values(s, "netacct_evicted_entries_total")["conns"], 9);  // since start, as read
  EXPECT_EQ(values(s, "netacct_failed_inserts_total")["all"], 3);     // per window, summed
  EXPECT_EQ(values(s, "netacct_refresh_duration_seconds")[""], 0.25);
  EXPECT_EQ(values(s, "netacct_series_folded_total")["netacct_program_payload_bytes_total"], 0);
  h.run_stats = false;
  EXPECT_EQ(acc.state(h).find("netacct_bpf_program_runs_total"), nullptr);
}
