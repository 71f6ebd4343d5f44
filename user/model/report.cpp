#include "model/report.hpp"

#include <algorithm>
#include <map>

#include "model/format.hpp"
#include "resolve/cgroup.hpp"

namespace netacct {
namespace {

double rate(uint64_t bytes, double seconds) { return seconds > 0 ? double(bytes) / seconds : 0; }

ProcessRow process_row(const ProcDelta& d, const ReportFilter& f, Resolver& r, double secs) {
  ProcessRow row;
  row.pid = d.id.tgid;
  row.comm = d.info.comm;
  row.uid = d.info.uid;
  row.tx_bytes = d.bytes.total_tx(f.loopback);
  row.rx_bytes = d.bytes.total_rx(f.loopback);
  row.tx_rate = rate(row.tx_bytes, secs);
  row.rx_rate = rate(row.rx_bytes, secs);
  row.exited = !r.alive(d.id);
  if (!row.exited) row.exe = r.exe(row.pid);
  row.user = r.user(row.uid);
  row.cgroup = r.cgroup(d.info.cgroup_id);
  if (row.cgroup) row.container = container_name(*row.cgroup);
  return row;
}

ConnectionRow connection_row(const ConnDelta& d, const std::string& comm, double secs) {
  ConnectionRow row;
  row.pid = d.id.proc.tgid;
  row.comm = comm;
  row.proto = proto_name(d.info.proto);
  row.family = family_name(d.info.family);
  row.local = format_endpoint(d.info.family, d.info.local);
  row.remote = format_endpoint(d.info.family, d.info.remote);
  row.netns = d.info.netns;
  row.tx_bytes = d.tx;
  row.rx_bytes = d.rx;
  row.tx_rate = rate(d.tx, secs);
  row.rx_rate = rate(d.rx, secs);
  return row;
}

bool wanted(const ReportFilter& f, uint32_t pid) { return f.pids.empty() || f.pids.count(pid); }

template <typename Row>
void sort_by_total(std::vector<Row>& rows) {
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    uint64_t ta = a.tx_bytes + a.rx_bytes, tb = b.tx_bytes + b.rx_bytes;
    return ta != tb ? ta > tb : a.pid < b.pid;
  });
}

}  // namespace

Report assemble(const Window& w, const ReportFilter& f, Resolver& r, const std::string& host,
                const std::string& backend) {
  Report rep{w.start_wall, w.end_wall, w.seconds(), host, backend, 0, 0, {}, {}, {}};
  std::map<ProcId, std::string> comms;
  std::map<ProcId, std::pair<uint64_t, uint64_t>> attributed;
  for (const auto& d : w.procs) comms[d.id] = d.info.comm;
  for (const auto& d : w.conns) {
    if (!wanted(f, d.id.proc.tgid) || (d.info.loopback && !f.loopback)) continue;
    rep.connections.push_back(connection_row(d, comms[d.id.proc], rep.interval_s));
    attributed[d.id.proc].first += d.tx;
    attributed[d.id.proc].second += d.rx;
  }
  for (const auto& d : w.procs) {
    if (!wanted(f, d.id.tgid)) continue;
    ProcessRow row = process_row(d, f, r, rep.interval_s);
    if (row.tx_bytes == 0 && row.rx_bytes == 0) continue;
    rep.tx_bytes += row.tx_bytes;
    rep.rx_bytes += row.rx_bytes;
    const auto& [atx, arx] = attributed[d.id];
    rep.loss.unattributed_tx += row.tx_bytes > atx ? row.tx_bytes - atx : 0;
    rep.loss.unattributed_rx += row.rx_bytes > arx ? row.rx_bytes - arx : 0;
    rep.processes.push_back(std::move(row));
  }
  rep.loss.conns_evicted = w.conns_evicted;
  rep.loss.insert_failed = w.insert_failed;
  sort_by_total(rep.processes);
  sort_by_total(rep.connections);
  return rep;
}

}  // namespace netacct
