#include "model/exporter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace netacct {

FoldedCounter::FoldedCounter(Config cfg) : cfg_(std::move(cfg)) {
  cfg_.kept.resize(cfg_.label_names.size(), false);
}

LabelValues FoldedCounter::other_of(const LabelValues& labels) const {
  LabelValues out = labels;
  for (size_t i = 0; i < out.size(); ++i)
    if (!cfg_.kept[i]) out[i] = kOtherLabel;
  return out;
}

void FoldedCounter::add(const LabelValues& labels, int64_t delta) {
  if (delta == 0 && !cfg_.zero_series) return;
  if (auto it = live_.find(labels); it != live_.end()) {
    it->second.value += delta;
    it->second.pending += std::abs(double(delta));
    return;
  }
  LabelValues other = other_of(labels);
  if (labels == other || folded_.count(labels)) {
    other_[other] += delta;
    return;
  }
  live_.emplace(labels,
                Series{.value = delta, .pending = std::abs(double(delta)), .born = born_++});
}

void FoldedCounter::end_window(double seconds) {
  double decay = std::exp2(-std::max(seconds, 0.0) / cfg_.half_life_s);
  for (auto& [labels, s] : live_) {
    s.score = s.score * decay + s.pending;
    s.pending = 0;
  }
  if (live_.size() <= cfg_.max_series) return;
  using It = decltype(live_)::iterator;
  std::vector<It> order;
  order.reserve(live_.size());
  for (auto it = live_.begin(); it != live_.end(); ++it) order.push_back(it);
  size_t excess = live_.size() - cfg_.max_series;
  auto less_active = [](It a, It b) {
    if (a->second.score != b->second.score) return a->second.score < b->second.score;
    return a->second.born < b->second.born;
  };
  std::nth_element(order.begin(), order.begin() + long(excess - 1), order.end(), less_active);
  for (size_t i = 0; i < excess; ++i) fold(order[i]);
}

void FoldedCounter::fold(std::unordered_map<LabelValues, Series, LabelValuesHash>::iterator it) {
  other_[other_of(it->first)] += it->second.value;
  remember_fold(it->first);
  ++folded_count_;
  live_.erase(it);
}

void FoldedCounter::remember_fold(const LabelValues& labels) {
  folded_.insert(labels);
  fold_order_.push_back(labels);
  while (fold_order_.size() > cfg_.remembered_folds) {
    folded_.erase(fold_order_.front());
    fold_order_.pop_front();
  }
}

std::vector<FoldedCounter::Sample> FoldedCounter::samples() const {
  std::vector<Sample> out;
  out.reserve(live_.size() + other_.size());
  for (const auto& [labels, s] : live_) out.push_back({labels, s.value});
  for (const auto& [labels, v] : other_) out.push_back({labels, v});
  std::sort(out.begin(), out.end(),
            [](const Sample& a, const Sample& b) { return a.labels < b.labels; });
  return out;
}

int64_t FoldedCounter::sum() const {
  int64_t total = 0;
  for (const auto& [labels, s] : live_) total += s.value;
  for (const auto& [labels, v] : other_) total += v;
  return total;
}

const MetricData* ExporterState::find(const std::string& name) const {
  for (const auto& m : metrics)
    if (m.name == name) return &m;
  return nullptr;
}

namespace {

// A fold keeps what the bytes are (direction, the reason of unattributed
// bytes) and drops who moved them.
FoldedCounter::Config labelled(std::vector<std::string> names, size_t max_series) {
  std::vector<bool> kept;
  for (const auto& n : names) kept.push_back(n == "direction" || n == "reason");
  return {.label_names = std::move(names), .kept = std::move(kept), .max_series = max_series};
}

// Interfaces: a few label sets, each class shown from the start (0 too).
FoldedCounter::Config per_interface(std::vector<std::string> names, size_t max_series) {
  FoldedCounter::Config c = labelled(std::move(names), max_series);
  c.zero_series = true;
  return c;
}

std::vector<std::string> program_labels(bool pid) {
  if (pid) return {"program", "user", "pid", "direction"};
  return {"program", "user", "direction"};
}

std::string user_of(const Identity& who) {
  return who.user ? std::string(*who.user) : std::to_string(who.uid);
}

// A container as its runtime names it; a plain cgroup by its path.
std::string container_name(const ContainerTraffic& c) {
  if (c.name && !c.name->name.empty()) return c.name->name;
  if (c.name && c.name->path) return *c.name->path;
  return "cgroup " + std::to_string(c.cgroup_id);
}

}  // namespace

ExporterAccumulator::ExporterAccumulator(ExporterConfig cfg)
    : cfg_(std::move(cfg)),
      programs_(labelled(program_labels(cfg_.pid_labels), cfg_.max_series)),
      containers_(labelled({"container", "runtime", "direction"}, cfg_.max_series)),
      wire_bytes_(per_interface({"interface", "direction"}, cfg_.max_series)),
      wire_packets_(per_interface({"interface", "direction"}, cfg_.max_series)),
      retrans_(per_interface({"interface"}, cfg_.max_series)),
      forwarded_(per_interface({"interface"}, cfg_.max_series)),
      unattributed_(per_interface({"interface", "reason"}, cfg_.max_series)),
      unexplained_(per_interface({"interface"}, cfg_.max_series)) {}

void ExporterAccumulator::add_programs(const Attributed& a) {
  for (const auto& p : a.procs) {
    const Identity* who = p.who ? p.who : &a.identity(p.id);
    LabelValues labels{who->comm, user_of(*who)};
    if (cfg_.pid_labels) labels.push_back(std::to_string(p.id.tgid));
    labels.push_back("tx");
    programs_.add(labels, int64_t(p.tx));
    labels.back() = "rx";
    programs_.add(labels, int64_t(p.rx));
  }
  tx_total_ += a.tx_bytes;
  rx_total_ += a.rx_bytes;
}

void ExporterAccumulator::add_containers(const Attributed& a) {
  for (const auto& c : a.containers) {
    std::string runtime = c.name ? c.name->runtime : "";
    containers_.add({container_name(c), runtime, "tx"}, int64_t(c.tx));
    containers_.add({container_name(c), runtime, "rx"}, int64_t(c.rx));
  }
}

void ExporterAccumulator::add_wire(const Attributed& a) {
  for (const auto& i : a.ifaces) {
    wire_bytes_.add({i.name, "tx"}, int64_t(i.tx_bytes));
    wire_bytes_.add({i.name, "rx"}, int64_t(i.rx_bytes));
    wire_packets_.add({i.name, "tx"}, int64_t(i.tx_packets));
    wire_packets_.add({i.name, "rx"}, int64_t(i.rx_packets));
  }
  for (const auto& r : a.receipt.interfaces) {
    retrans_.add({r.name}, int64_t(r.retrans));
    forwarded_.add({r.name}, int64_t(r.forwarded));
    unattributed_.add({r.name, "non_socket"}, int64_t(r.non_socket));
    unattributed_.add({r.name, "no_process"}, int64_t(r.no_process));
    unexplained_.add({r.name}, r.unexplained);
  }
}

void ExporterAccumulator::add(const Attributed& a) {
  add_programs(a);
  if (cfg_.containers) add_containers(a);
  if (cfg_.wire) add_wire(a);
  conns_evicted_ = std::max(conns_evicted_, a.loss.conns_evicted);
  insert_failed_ += a.loss.insert_failed;
  double s = a.seconds();
  for (FoldedCounter* c : {&programs_, &containers_, &wire_bytes_, &wire_packets_, &retrans_,
                           &forwarded_, &unattributed_, &unexplained_})
    c->end_window(s);
}

namespace {

MetricData from_counter(std::string name, std::string help, MetricType type,
                        const FoldedCounter& c) {
  MetricData m{.name = std::move(name),
               .help = std::move(help),
               .type = type,
               .label_names = c.label_names()};
  for (auto& s : c.samples()) m.samples.push_back({std::move(s.labels), double(s.value)});
  return m;
}

MetricData single(std::string name, std::string help, MetricType type,
                  std::vector<std::string> label_names) {
  return {.name = std::move(name),
          .help = std::move(help),
          .type = type,
          .label_names = std::move(label_names)};
}

}  // namespace

// The folded metrics, with the names netacct_series_folded_total gives them.
std::vector<const FoldedCounter*> ExporterAccumulator::folded_metrics(
    std::vector<std::string>* names) const {
  std::vector<std::pair<const char*, const FoldedCounter*>> all{
      {"netacct_program_payload_bytes_total", &programs_}};
  if (cfg_.containers) all.push_back({"netacct_container_payload_bytes_total", &containers_});
  if (cfg_.wire) {
    all.push_back({"netacct_interface_wire_bytes_total", &wire_bytes_});
    all.push_back({"netacct_interface_wire_packets_total", &wire_packets_});
    all.push_back({"netacct_retransmitted_bytes_total", &retrans_});
    all.push_back({"netacct_forwarded_bytes_total", &forwarded_});
    all.push_back({"netacct_unattributed_wire_bytes_total", &unattributed_});
    all.push_back({"netacct_unexplained_wire_bytes", &unexplained_});
  }
  std::vector<const FoldedCounter*> out;
  for (const auto& [name, c] : all) {
    names->push_back(name);
    out.push_back(c);
  }
  return out;
}

void ExporterAccumulator::add_traffic_metrics(ExporterState& s) const {
  const auto C = MetricType::counter;
  s.metrics.push_back(from_counter("netacct_program_payload_bytes_total",
                                   "Payload bytes moved by each program (comm) and user", C,
                                   programs_));
  MetricData total = single("netacct_payload_bytes_total",
                            "Payload bytes moved by every selected process", C, {"direction"});
  total.samples = {{{"tx"}, double(tx_total_)}, {{"rx"}, double(rx_total_)}};
  s.metrics.push_back(std::move(total));
  if (cfg_.containers)
    s.metrics.push_back(from_counter("netacct_container_payload_bytes_total",
                                     "Payload bytes per container or cgroup (kernel counters)", C,
                                     containers_));
  if (!cfg_.wire) return;
  s.metrics.push_back(from_counter("netacct_interface_wire_bytes_total",
                                   "Bytes crossing each watched interface", C, wire_bytes_));
  s.metrics.push_back(from_counter("netacct_interface_wire_packets_total",
                                   "Packets (segments) crossing each watched interface", C,
                                   wire_packets_));
  s.metrics.push_back(from_counter("netacct_retransmitted_bytes_total",
                                   "Retransmitted TCP payload bytes per interface", C, retrans_));
  s.metrics.push_back(from_counter("netacct_forwarded_bytes_total",
                                   "Wire bytes of forwarded flows per interface", C, forwarded_));
  s.metrics.push_back(from_counter("netacct_unattributed_wire_bytes_total",
                                   "Wire bytes of no process, by reason", C, unattributed_));
  s.metrics.push_back(from_counter("netacct_unexplained_wire_bytes",
                                   "Wire bytes no flow explains, summed since start (signed)",
                                   MetricType::gauge, unexplained_));
}

void ExporterAccumulator::add_health_metrics(ExporterState& s, const Health& h) const {
  const auto C = MetricType::counter, G = MetricType::gauge;
  MetricData info = single("netacct_build_info", "netacct's version and kernel backend", G,
                           {"version", "backend"});
  info.samples = {{{cfg_.version, cfg_.backend}, 1}};
  s.metrics.insert(s.metrics.begin(), std::move(info));
  if (h.run_stats) {
    MetricData time = single("netacct_bpf_program_run_time_seconds_total",
                             "Run time of each of netacct's BPF programs", C, {"program"});
    MetricData runs = single("netacct_bpf_program_runs_total",
                             "Runs of each of netacct's BPF programs", C, {"program"});
    for (const auto& p : h.programs) {
      time.samples.push_back({{p.program}, double(p.run_time_ns) / 1e9});
      runs.samples.push_back({{p.program}, double(p.runs)});
    }
    s.metrics.push_back(std::move(time));
    s.metrics.push_back(std::move(runs));
  }
  MetricData entries =
      single("netacct_map_entries", "Entries in use in each counting table", G, {"map"});
  MetricData capacity =
      single("netacct_map_capacity_entries", "Capacity of each counting table", G, {"map"});
  for (const auto& m : h.maps) {
    entries.samples.push_back({{m.map}, double(m.entries)});
    capacity.samples.push_back({{m.map}, double(m.capacity)});
  }
  s.metrics.push_back(std::move(entries));
  s.metrics.push_back(std::move(capacity));
  MetricData evicted =
      single("netacct_evicted_entries_total",
             "Entries evicted to make room (their bytes were reported)", C, {"map"});
  evicted.samples = {{{"conns"}, double(conns_evicted_)}};
  s.metrics.push_back(std::move(evicted));
  MetricData failed = single("netacct_failed_inserts_total",
                             "Events whose entry found no free slot (process, connection or "
                             "cgroup tables: one kernel counter)",
                             C, {"map"});
  failed.samples = {{{"all"}, double(insert_failed_)}};
  s.metrics.push_back(std::move(failed));
  MetricData refresh =
      single("netacct_refresh_duration_seconds",
             "Duration of the last refresh (kernel read to published counters)", G, {});
  refresh.samples = {{{}, h.refresh_s}};
  s.metrics.push_back(std::move(refresh));
  std::vector<std::string> names;
  auto counters = folded_metrics(&names);
  MetricData folded =
      single("netacct_series_folded_total",
             "Label sets folded into the other series of each metric", C, {"metric"});
  for (size_t i = 0; i < counters.size(); ++i)
    folded.samples.push_back({{names[i]}, double(counters[i]->folded())});
  s.metrics.push_back(std::move(folded));
}

ExporterState ExporterAccumulator::state(const Health& h) const {
  ExporterState s;
  add_traffic_metrics(s);
  add_health_metrics(s, h);
  return s;
}

}  // namespace netacct
