#include "model/attribution.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <string_view>

#include "model/flat_index.hpp"

namespace netacct {
namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool mapped(const Endpoint& e) {
  return std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), e.addr.begin());
}
bool unspecified(const Endpoint& e) {
  return std::all_of(e.addr.begin(), e.addr.end(), [](uint8_t b) { return b == 0; });
}
void to_ipv4(Endpoint& e) {
  std::array<uint8_t, 16> v4{};
  std::copy(e.addr.begin() + 12, e.addr.end(), v4.begin());
  e.addr = v4;
}

}  // namespace

size_t name_by_ptr(std::vector<ConnTraffic>& conns, const PtrLookup& ptr) {
  size_t unnamed = 0;
  for (auto& c : conns) {
    // No address to look up: a socket not connected to one remote.
    if (c.name || unspecified(c.info.remote)) continue;
    if (auto name = ptr(RemoteKey{.family = c.info.family, .addr = c.info.remote.addr}))
      c.name = std::make_shared<const NamedRemote>(
          NamedRemote{.name = std::move(*name), .source = NameSource::ptr});
    else
      ++unnamed;
  }
  return unnamed;
}

// A dual-stack socket (AF_INET6 bound to ::) talks IPv4 through mapped
// addresses (::ffff:a.b.c.d): it is IPv4 traffic, shown and grouped as such.
// ICMP has no ports: where a port would be, the kernel keeps a ping
// socket's echo identifier or a raw socket's protocol number.
ConnInfo canonical(ConnInfo c) {
  if (c.proto == IPPROTO_ICMP || c.proto == IPPROTO_ICMPV6 || c.proto == IPPROTO_RAW)
    c.local.port = c.remote.port = 0;
  bool v4_only = (mapped(c.local) || unspecified(c.local)) &&
                 (mapped(c.remote) || unspecified(c.remote)) &&
                 (mapped(c.local) || mapped(c.remote));
  if (c.family != AF_INET6 || !v4_only) return c;
  c.family = AF_INET;
  to_ipv4(c.local);
  to_ipv4(c.remote);
  return c;
}

const Identity& Attributed::identity(const ProcId& id) const {
  static const Identity unknown;
  auto it = who.find(id);
  return it == who.end() ? unknown : *it->second;
}

bool Selection::wants_cgroup(const std::string* path) const {
  if (cgroups.empty()) return true;
  if (!path) return false;
  for (const auto& c : cgroups) {
    std::string_view prefix = c == "/" ? "" : std::string_view(c);
    if (path->starts_with(prefix) &&
        (path->size() == prefix.size() || (*path)[prefix.size()] == '/'))
      return true;
  }
  return false;
}

bool Attributor::selected(const ProcId& id) const {
  if (!selection_.wants(id.tgid)) return false;
  if (selection_.cgroups.empty()) return true;
  const auto* k = known_.find(id);
  return k && selection_.wants_cgroup(k->value->cgroup ? &*k->value->cgroup : nullptr);
}

// Resolving costs syscalls (readlink, getpwuid, a cgroup walk), so it runs
// once per process, and again only after an exec (a new name) or a move to
// another cgroup. A process found gone is never resolved: its PID may
// already name another program.
const IdentityRef& Attributor::identify(const ProcId& id, const ProcInfo& info) {
  bool fresh = false;
  IdentityRef& ref = known_.get(id, fresh)->value;
  if (!fresh && ref->comm == info.comm && ref->cgroup_id == info.cgroup_id) return ref;
  Identity who = fresh ? Identity{} : *ref;
  who.proc = id;
  who.comm = info.comm;
  who.uid = info.uid;
  who.cgroup_id = info.cgroup_id;
  who.exited = who.exited || gone_.count(id) > 0;
  if (fresh) who.user = resolver_.user(info.uid);
  if (!who.exited) who.exe = resolver_.exe(id.tgid);
  if (!who.exited && fresh) who.container_pid = resolver_.ns_pid(id.tgid);
  const CgroupName& cg = *cgroup_name(info.cgroup_id);
  who.cgroup = cg.path;
  who.container = cg.container;
  ref = std::make_shared<const Identity>(std::move(who));
  return ref;
}

void Attributor::add_procs(const Window& w, Attributed& a) {
  a.procs.reserve(w.procs.size());
  a.who.reserve(w.procs.size());
  for (const auto& d : w.procs) {
    if (!selection_.wants(d.id.tgid)) continue;
    uint64_t tx = d.bytes.total_tx(selection_.loopback);
    uint64_t rx = d.bytes.total_rx(selection_.loopback);
    if (!tx && !rx) continue;
    const IdentityRef& named = identify(d.id, d.info);
    if (!selection_.wants_cgroup(named->cgroup ? &*named->cgroup : nullptr)) continue;
    const IdentityRef& who = a.who[d.id] = named;
    a.procs.push_back({.id = d.id, .tx = tx, .rx = rx, .who = who.get()});
    a.tx_bytes += tx;
    a.rx_bytes += rx;
  }
}

// A connection's owner as attributed in this window; one whose process
// entry did not move (or was evicted) still names its owner when the owner
// is known.
const Identity* Attributor::owner(const ProcId& id, Attributed& a) const {
  if (auto it = a.who.find(id); it != a.who.end()) return it->second.get();
  const auto* k = known_.find(id);
  if (!k) return nullptr;
  return a.who.emplace(id, k->value).first->second.get();
}

void Attributor::add_conns(const Window& w, Attributed& a) {
  // Each process's bytes that its connections show: one lookup per
  // connection in an index of the window's processes.
  struct Shown {
    ProcId proc;
    uint64_t tx = 0, rx = 0;
    const Identity* who = nullptr;
  };
  std::vector<Shown> shown;
  FlatIndex at(a.procs.size());
  auto same = [&](const ProcId& id) { return [&](uint32_t k) { return shown[k].proc == id; }; };
  a.conns.reserve(w.conns.size());
  for (const auto& d : w.conns) {
    if (!selected(d.id.proc) || (d.info.loopback && !selection_.loopback)) continue;
    auto [i, fresh] =
        at.find_or_add(std::hash<ProcId>()(d.id.proc), uint32_t(shown.size()), same(d.id.proc));
    if (fresh) shown.push_back({.proc = d.id.proc, .who = owner(d.id.proc, a)});
    shown[i].tx += d.tx;
    shown[i].rx += d.rx;
    a.conns.push_back({.id = d.id,
                       .info = canonical(d.info),
                       .tx = d.tx,
                       .rx = d.rx,
                       .who = shown[i].who,
                       .slot = d.slot});
  }
  for (const auto& p : a.procs) {
    uint64_t tx = 0, rx = 0;
    if (auto i = at.find(std::hash<ProcId>()(p.id), same(p.id))) {
      tx = shown[*i].tx;
      rx = shown[*i].rx;
    }
    a.loss.unattributed_tx += p.tx > tx ? p.tx - tx : 0;
    a.loss.unattributed_rx += p.rx > rx ? p.rx - rx : 0;
  }
}

namespace {

// Adds each owned flow's wire bytes and each retransmit to its connection's
// row and its process's. A connection that moved no payload in the window
// (a closing handshake, a receiver's ACKs) and its process get a row for
// their wire bytes (payload 0), so every byte the receipt attributes to a
// process is on its rows.
struct Rows {
  std::unordered_map<ConnId, size_t> conn;
  std::unordered_map<ProcId, size_t> proc;
  Attributed& a;
  explicit Rows(Attributed& at) : a(at) {
    for (size_t i = 0; i < a.conns.size(); ++i) conn.emplace(a.conns[i].id, i);
    for (size_t i = 0; i < a.procs.size(); ++i) proc.emplace(a.procs[i].id, i);
  }
  // `info`: the connection as the join knows it; `who`: its process.
  void add(const ConnId& id, const ConnInfo& info, const Identity* who, const WireBytes& b) {
    auto add_to = [&](WireBytes& w) {
      w.tx_wire += b.tx_wire;
      w.rx_wire += b.rx_wire;
      w.retrans += b.retrans;
    };
    auto [c, new_conn] = conn.emplace(id, a.conns.size());
    if (new_conn) a.conns.push_back({.id = id, .info = info, .who = who});
    add_to(a.conns[c->second].wire);
    auto [p, new_proc] = proc.emplace(id.proc, a.procs.size());
    if (new_proc) a.procs.push_back({.id = id.proc, .who = who});
    add_to(a.procs[p->second].wire);
  }
};

bool unconnected_udp(const ConnInfo& c) {
  return c.proto == IPPROTO_UDP && c.remote.port == 0 &&
         std::all_of(c.remote.addr.begin(), c.remote.addr.end(), [](uint8_t b) { return !b; });
}

uint64_t less(uint64_t a, uint64_t b) { return a > b ? a - b : 0; }

// One remote's part of an unconnected UDP socket's row, from the flow to
// it: payload is the flow's wire bytes less each datagram's headers (link
// layer, IP without options, UDP), taken out of the socket's row.
ConnTraffic part_of(ConnTraffic& whole, const FlowTraffic& f, uint32_t l2_len) {
  const FlowKey& k = f.bytes.key;
  uint64_t hdr = l2_len + (k.family() == AF_INET ? 20 : 40) + 8;
  ConnTraffic part = whole;
  part.per_remote = true;
  part.info.family = k.family();
  part.info.local = {k.laddr, k.lport};
  part.info.remote = {k.raddr, k.rport};
  part.tx = std::min(less(f.bytes.tx_bytes, f.bytes.tx_packets * hdr), whole.tx);
  part.rx = std::min(less(f.bytes.rx_bytes, f.bytes.rx_packets * hdr), whole.rx);
  part.wire = {.tx_wire = f.bytes.tx_bytes, .rx_wire = f.bytes.rx_bytes};
  whole.tx -= part.tx;
  whole.rx -= part.rx;
  whole.wire.tx_wire = less(whole.wire.tx_wire, part.wire.tx_wire);
  whole.wire.rx_wire = less(whole.wire.rx_wire, part.wire.rx_wire);
  return part;
}

// An unconnected UDP socket (a DNS or game server, a client using sendto)
// has no remote of its own: its row becomes one row per remote its flows
// reached on interfaces whose link-layer header is known; the socket's row
// keeps the rest (bytes no watched interface carried), and goes when that
// is nothing.
void split_per_remote(const std::vector<FlowTraffic>& flows,
                      const std::vector<IfaceTraffic>& ifaces, std::vector<ConnTraffic>& conns) {
  std::unordered_map<ConnId, size_t> at;
  for (size_t i = 0; i < conns.size(); ++i)
    if (unconnected_udp(conns[i].info)) at.emplace(conns[i].id, i);
  if (at.empty()) return;
  std::unordered_map<uint32_t, uint32_t> l2_len;  // by ifindex, where known
  for (const auto& i : ifaces)
    if (i.l2_len != UINT32_MAX) l2_len.emplace(i.ifindex, i.l2_len);
  std::vector<ConnTraffic> parts;
  for (const FlowTraffic& f : flows) {
    auto it = f.owner ? at.find(*f.owner) : at.end();
    auto l2 = l2_len.find(f.bytes.key.ifindex);
    if (it == at.end() || l2 == l2_len.end()) continue;
    parts.push_back(part_of(conns[it->second], f, l2->second));
  }
  std::erase_if(conns, [](const ConnTraffic& c) {
    return unconnected_udp(c.info) && !c.per_remote && !c.tx && !c.rx && !c.wire.tx_wire &&
           !c.wire.rx_wire;
  });
  conns.insert(conns.end(), parts.begin(), parts.end());
}

}  // namespace

// The wire layer joined to the connections: every window's connections are
// learnt first (all of them, the selection applies to what is shown).
void Attributor::add_wire(const Window& w, Attributed& a) {
  if (w.flows.empty() && w.retrans.empty()) return;
  std::vector<std::pair<ConnId, ConnInfo>> seen;
  seen.reserve(w.conns.size());
  for (const auto& d : w.conns) seen.emplace_back(d.id, canonical(d.info));
  join_.learn(seen, w.end_mono);
  std::vector<FlowTraffic> flows = classify(w.flows, w.wire_netns, join_, w.local_addrs, w.ifaces);
  std::vector<RetransEntry> retrans = w.retrans;
  for (auto& r : retrans) r.key = canonical(r.key);
  a.receipt = make_receipt(w.ifaces, flows, retrans, w.wire_netns);
  Rows rows(a);
  auto shown = [&](const ConnId& id, const ConnInfo& info) {
    return selected(id.proc) && (!info.loopback || selection_.loopback);
  };
  for (const auto& f : flows)
    if (f.owner && shown(*f.owner, f.conn))
      rows.add(*f.owner, f.conn, owner(f.owner->proc, a),
               {.tx_wire = f.bytes.tx_bytes, .rx_wire = f.bytes.rx_bytes});
  for (const auto& r : retrans)
    if (const auto* o = join_.find(r.key, r.key.ifindex); o && shown(o->id, o->info))
      rows.add(o->id, o->info, owner(o->id.proc, a), {.retrans = r.bytes});
  split_per_remote(flows, w.ifaces, a.conns);
  for (auto& f : flows)
    if (!selection_.narrowed() || (f.owner && selected(f.owner->proc)))
      a.flows.push_back(std::move(f));
}

// Asked again at each window that has the cgroup (the resolver caches; a
// runtime may write its state after the container's first bytes), kept
// when the cgroup is gone: a removed cgroup keeps its name.
// The resolver's name for the id; for a cgroup already gone, the kernel's
// record of it: its directory name under its parent's path.
CgroupName Attributor::resolve_cgroup(uint64_t id) {
  CgroupName now = resolver_.cgroup(id);
  auto rec = cgroup_records_.find(id);
  if (now.path || rec == cgroup_records_.end() || rec->second->name.empty()) return now;
  auto known = cgroup_names_.find(rec->second->parent);
  std::optional<std::string> parent = known != cgroup_names_.end() && known->second->path
                                          ? known->second->path
                                          : resolver_.cgroup(rec->second->parent).path;
  if (!parent) return now;
  return resolver_.name_path((*parent == "/" ? "" : *parent) + "/" + rec->second->name);
}

const std::shared_ptr<const CgroupName>& Attributor::cgroup_name(uint64_t id) {
  auto& ref = cgroup_names_[id];
  CgroupName now = resolve_cgroup(id);
  bool same = ref && ref->path == now.path && ref->name == now.name && ref->pod == now.pod;
  if (!same && (now.path || !ref)) ref = std::make_shared<const CgroupName>(std::move(now));
  return ref;
}

// Containers: each cgroup's payload as the kernel counted it (the selected
// processes' sum with --pid, which the per-cgroup counters cannot narrow),
// and its processes' wire bytes.
void Attributor::add_containers(const Window& w, Attributed& a) {
  std::unordered_map<uint64_t, size_t> at;
  auto row = [&](uint64_t id) -> ContainerTraffic& {
    auto [it, fresh] = at.try_emplace(id, a.containers.size());
    if (fresh) a.containers.push_back({.cgroup_id = id, .name = cgroup_name(id)});
    return a.containers[it->second];
  };
  const bool whole = selection_.pids.empty();
  const bool lo = selection_.loopback;
  if (whole)
    for (const auto& c : w.cgroups) {  // each cgroup once
      const IpTraffic ip{.tx_bytes = c.ip_bytes.total_tx(lo),
                         .rx_bytes = c.ip_bytes.total_rx(lo),
                         .tx_packets = c.ip_packets.total_tx(lo),
                         .rx_packets = c.ip_packets.total_rx(lo)};
      uint64_t tx = c.bytes.total_tx(lo), rx = c.bytes.total_rx(lo);
      if (!tx && !rx && !ip.tx_packets && !ip.rx_packets) continue;
      const auto& name = cgroup_name(c.id);
      if (!selection_.wants_cgroup(name->path ? &*name->path : nullptr)) continue;
      at.emplace(c.id, a.containers.size());
      a.containers.push_back({.cgroup_id = c.id, .name = name, .tx = tx, .rx = rx, .ip = ip});
    }
  for (const auto& p : a.procs) {
    if (!p.who) continue;
    ContainerTraffic& r = row(p.who->cgroup_id);
    if (!whole) {
      r.tx += p.tx;
      r.rx += p.rx;
    }
    r.wire.tx_wire += p.wire.tx_wire;
    r.wire.rx_wire += p.wire.rx_wire;
    r.wire.retrans += p.wire.retrans;
    ++r.processes;
  }
}

// A process stays in the poller's exit list for two polls (found gone, then
// its entries deleted after one last read); its identity is kept until then.
void Attributor::add_exited(const Window& w, Attributed& a) {
  for (const auto& id : w.exited)
    if (selected(id)) a.exited.push_back(id);
  for (const auto& id : was_gone_)
    if (auto* k = known_.find(id); k && !gone_.count(id)) known_.erase(k);
  was_gone_ = gone_;
}

Attributed Attributor::attribute(const Window& w) {
  Attributed a{.start_mono = w.start_mono,
               .end_mono = w.end_mono,
               .start_wall = w.start_wall,
               .end_wall = w.end_wall};
  cgroup_records_.clear();
  for (const auto& c : w.cgroups) cgroup_records_[c.id] = &c;
  // Exits first, so this window's identities already carry them.
  gone_ = {w.exited.begin(), w.exited.end()};
  for (const auto& id : gone_)
    if (auto* k = known_.find(id); k && !k->value->exited) {
      Identity who = *k->value;
      who.exited = true;
      k->value = std::make_shared<const Identity>(std::move(who));
    }
  add_procs(w, a);
  add_conns(w, a);
  add_exited(w, a);
  a.loss.conns_evicted = w.conns_evicted;
  a.loss.insert_failed = w.insert_failed;
  a.ifaces = w.ifaces;  // devices, not processes: --pid does not narrow them
  add_wire(w, a);
  add_containers(w, a);
  name_remotes(w, a);
  return a;
}

// Every connection row, its remote named once (and kept): the answers of
// this window join first, so a program that resolved and connected within
// one refresh is named in it. Sinks only read the name.
void Attributor::name_remotes(const Window& w, Attributed& a) {
  if (!namer_) return;
  namer_->join(w.conns, w.end_mono);
  for (auto& c : a.conns)
    c.name = namer_->name(c.id, c.info, c.who ? c.who->cgroup_id : 0, w.end_mono);
  namer_->forget(w.exited);
  a.dns = namer_->stats();
}

}  // namespace netacct
