#include "model/top_model.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <set>

#include "model/format.hpp"

namespace netacct {
namespace {

std::string endpoint_text(uint16_t family, const Endpoint& ep, bool ports, const TopQuery& q) {
  std::string host;
  if (q.name)
    if (auto n = q.name(family, ep.addr)) host = *n;
  if (host.empty()) host = format_address(family, ep.addr);
  if (!ports) return host;
  if (family == AF_INET6 && host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port);
}

bool matches(const TopRow& r, const std::string& filter) {
  if (filter.empty()) return true;
  for (const auto* field : {&r.program, &r.local, &r.remote, &r.proto, &r.user})
    if (field->find(filter) != std::string::npos) return true;
  return r.pid != 0 && std::to_string(r.pid) == filter;
}

double sort_value(const TopRow& r, SortBy by, size_t w) {
  switch (by) {
    case SortBy::sent:
      return r.rates.tx[w];
    case SortBy::received:
      return r.rates.rx[w];
    default:
      return r.rates.tx[w] + r.rates.rx[w];
  }
}

}  // namespace

void sort_rows(std::vector<TopRow>& rows, SortBy by, size_t window) {
  std::stable_sort(rows.begin(), rows.end(), [&](const TopRow& a, const TopRow& b) {
    double va = sort_value(a, by, window), vb = sort_value(b, by, window);
    if (va != vb) return va > vb;
    uint64_t ta = a.rates.total_tx + a.rates.total_rx, tb = b.rates.total_tx + b.rates.total_rx;
    if (ta != tb) return ta > tb;
    if (a.pid != b.pid) return a.pid < b.pid;
    return std::tie(a.remote, a.local) < std::tie(b.remote, b.local);
  });
}

void TopModel::update(const Window& w, Resolver& resolver, double now) {
  clock_.tick(now);
  add_procs(w, resolver);
  add_conns(w);
  forget_idle();
}

void TopModel::add_procs(const Window& w, Resolver& resolver) {
  uint64_t tx = 0, rx = 0;
  for (const auto& d : w.procs) {
    uint64_t ptx = d.bytes.total_tx(loopback_), prx = d.bytes.total_rx(loopback_);
    if (!ptx && !prx) continue;
    auto [it, fresh] = procs_.try_emplace(d.id);
    if (fresh) {
      it->second.info = d.info;
      it->second.user = resolver.user(d.info.uid).value_or(std::to_string(d.info.uid));
    }
    it->second.history.add(clock_, ptx, prx);
    tx += ptx;
    rx += prx;
  }
  // Exit is checked for every row on view, not only the active ones.
  for (auto& [id, p] : procs_)
    if (!p.exited) p.exited = !resolver.alive(id);
  total_.add(clock_, tx, rx);
}

void TopModel::add_conns(const Window& w) {
  for (const auto& d : w.conns) {
    if (d.info.loopback && !loopback_) continue;
    auto& c = conns_[d.id];
    c.info = d.info;
    c.history.add(clock_, d.tx, d.rx);
    RemoteKey key{d.info.family, d.info.remote.addr};
    remotes_[key].add(clock_, d.tx, d.rx);
    proc_remotes_[{d.id.proc, key}].add(clock_, d.tx, d.rx);
  }
}

bool TopModel::recent(const RowHistory& h) const {
  double last = h.last_active();  // not rates(): this runs for every row
  return last >= 0 && clock_.now() - last < kHistorySeconds;
}

// Rows idle for the whole history window go; processes that still run keep
// their cumulative totals (they are hidden, not forgotten).
void TopModel::forget_idle() {
  std::erase_if(procs_,
                [&](const auto& kv) { return kv.second.exited && !recent(kv.second.history); });
  std::erase_if(conns_, [&](const auto& kv) { return !recent(kv.second.history); });
  std::erase_if(remotes_, [&](const auto& kv) { return !recent(kv.second); });
  std::erase_if(proc_remotes_, [&](const auto& kv) { return !recent(kv.second); });
}

TopRow TopModel::row(const RowHistory& h, size_t buckets) const {
  TopRow r;
  r.rates = h.rates(clock_);
  r.spark = h.sparkline(clock_, buckets);
  return r;
}

std::vector<TopRow> TopModel::process_rows(const TopQuery& q) const {
  std::vector<TopRow> out;
  for (const auto& [id, p] : procs_) {
    if (!recent(p.history)) continue;
    TopRow r = row(p.history, q.spark_buckets);
    r.proc = id;
    r.pid = id.tgid;
    r.user = p.user;
    r.program = p.info.comm;
    r.exited = p.exited;
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<TopRow> TopModel::connection_rows(const TopQuery& q) const {
  std::vector<TopRow> out;
  for (const auto& [id, c] : conns_) {
    if (q.drill && id.proc != *q.drill) continue;
    TopRow r = row(c.history, q.spark_buckets);
    r.proc = id.proc;
    r.pid = id.proc.tgid;
    auto p = procs_.find(id.proc);
    if (p != procs_.end()) {
      r.program = p->second.info.comm;
      r.user = p->second.user;
      r.exited = p->second.exited;
    }
    r.proto = proto_name(c.info.proto);
    r.local = endpoint_text(c.info.family, c.info.local, q.show_ports, {});
    r.remote = endpoint_text(c.info.family, c.info.remote, q.show_ports, q);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<TopRow> TopModel::remote_rows(const TopQuery& q) const {
  std::vector<TopRow> out;
  auto add = [&](const RemoteKey& key, const RowHistory& h) {
    TopRow r = row(h, q.spark_buckets);
    r.remote = endpoint_text(key.family, Endpoint{key.addr, 0}, false, q);
    out.push_back(std::move(r));
  };
  if (!q.drill)
    for (const auto& [key, h] : remotes_) add(key, h);
  else
    for (const auto& [pk, h] : proc_remotes_)
      if (pk.first == *q.drill) add(pk.second, h);
  return out;
}

std::vector<TopRow> TopModel::rows(const TopQuery& q) const {
  std::vector<TopRow> out = q.view == View::processes     ? process_rows(q)
                            : q.view == View::connections ? connection_rows(q)
                                                          : remote_rows(q);
  // A process also matches through its connections, so "/5432" finds the
  // processes talking to or serving port 5432.
  std::set<ProcId> via_conns;
  if (q.view == View::processes && !q.filter.empty()) {
    TopQuery all = q;
    all.drill.reset();
    for (const auto& c : connection_rows(all))
      if (matches(c, q.filter)) via_conns.insert(c.proc);
  }
  std::erase_if(out,
                [&](const TopRow& r) { return !matches(r, q.filter) && !via_conns.count(r.proc); });
  sort_rows(out, q.sort, q.window);
  return out;
}

TopTotals TopModel::totals() const {
  TopTotals t;
  t.rates = total_.rates(clock_);
  for (const auto& [id, p] : procs_) t.processes += recent(p.history);
  t.connections = conns_.size();
  return t;
}

}  // namespace netacct
