#include "model/remote_names.hpp"

#include <algorithm>

namespace netacct {

const char* name_source_text(NameSource s) {
  switch (s) {
    case NameSource::answer:
      return "answer";
    case NameSource::namespace_:
      return "namespace";
    case NameSource::ptr:
      return "ptr";
    case NameSource::none:
      break;
  }
  return nullptr;
}

size_t NameCache::AddrHash::operator()(const RemoteKey& k) const noexcept {
  uint64_t a = 0, b = 0;
  for (int i = 0; i < 8; ++i) {
    a = a << 8 | k.addr[i];
    b = b << 8 | k.addr[8 + i];
  }
  uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ ((b + k.family) * 0xbf58476d1ce4e5b9ull);
  return size_t(h ^ (h >> 29));
}

size_t NameCache::KeyHash::operator()(const Key& k) const noexcept {
  uint64_t h =
      AddrHash()(k.addr) ^ (uint64_t(k.who.netns) << 32 | k.who.tgid) * 0x94d049bb133111ebull;
  return size_t((h ^ k.who.cgroup * 0x9e3779b97f4a7c15ull) >> 3 ^ h);
}

void NameCache::remove(Iter it) {
  auto& same = by_addr_[it->addr];
  same.erase(std::find(same.begin(), same.end(), it));
  if (same.empty()) by_addr_.erase(it->addr);
  by_key_.erase(Key{it->who, it->addr});
  lru_.erase(it);
}

void NameCache::add(const Asker& who, const DnsAnswer& answer, int64_t seen_ns) {
  if (answer.addresses.empty() || cfg_.capacity == 0) return;
  auto named = std::make_shared<const NamedRemote>(
      NamedRemote{.name = answer.name, .chain = answer.chain, .source = NameSource::answer});
  for (const DnsAddress& a : answer.addresses) {
    int64_t expires = seen_ns + int64_t(a.ttl) * 1'000'000'000 + cfg_.grace_ns;
    auto [at, fresh] = by_key_.try_emplace(Key{who, a.addr});
    if (!fresh) {
      // The receiver asked again: the newest answer is the one it uses.
      lru_.splice(lru_.begin(), lru_, at->second);
      at->second->named = named;
      at->second->seen_ns = seen_ns;
      at->second->expires_ns = expires;
      continue;
    }
    lru_.push_front(Entry{
        .who = who, .addr = a.addr, .named = named, .seen_ns = seen_ns, .expires_ns = expires});
    at->second = lru_.begin();
    by_addr_[a.addr].push_back(lru_.begin());
    if (lru_.size() > cfg_.capacity) {
      remove(std::prev(lru_.end()));
      ++evicted_;
    }
  }
}

// One pass over every entry: called once a refresh, it costs what the
// kernel's map reads already cost per entry, and keeps no second order.
void NameCache::expire(int64_t now_ns) {
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->expires_ns <= now_ns) {
      remove(it);
      ++expired_;
    }
    it = next;
  }
}

RemoteNameRef NameCache::lookup(const Asker& who, const RemoteKey& addr, int64_t now_ns) const {
  auto found = by_addr_.find(addr);
  if (found == by_addr_.end()) return nullptr;
  const Entry* best = nullptr;
  NameSource best_source = NameSource::none;
  for (const Iter& it : found->second) {
    const Entry& e = *it;
    if (e.expires_ns <= now_ns) continue;
    bool same_netns = e.who.netns == who.netns;
    NameSource s = same_netns && e.who.tgid == who.tgid ? NameSource::answer
                   : same_netns || (who.cgroup && e.who.cgroup == who.cgroup)
                       ? NameSource::namespace_
                       : NameSource::none;
    if (s > best_source ||
        (s == best_source && s != NameSource::none && e.seen_ns > best->seen_ns)) {
      best = &e;
      best_source = s;
    }
  }
  if (!best) return nullptr;
  if (best_source == NameSource::answer) return best->named;
  return std::make_shared<const NamedRemote>(
      NamedRemote{.name = best->named->name, .chain = best->named->chain, .source = best_source});
}

void RemoteNamer::received(const DnsMessage& msg, DnsAnswer answer) {
  waiting_.push_back({.cookie = msg.cookie,
                      .cgroup = msg.cgroup_id,
                      .mono_ns = msg.mono_ns,
                      .answer = std::move(answer)});
}

void RemoteNamer::join(const std::vector<ConnEntry>& conns, int64_t now_ns) {
  cache_.expire(now_ns);
  if (waiting_.empty()) return;
  std::unordered_map<uint64_t, std::vector<size_t>> by_cookie;
  for (size_t i = 0; i < waiting_.size(); ++i) by_cookie[waiting_[i].cookie].push_back(i);
  std::vector<bool> done(waiting_.size());
  for (const ConnEntry& c : conns) {
    auto it = by_cookie.find(c.id.cookie);
    if (it == by_cookie.end()) continue;
    for (size_t i : it->second) {
      Waiting& w = waiting_[i];
      cache_.add({.netns = c.info.netns, .tgid = c.id.proc.tgid, .cgroup = w.cgroup}, w.answer,
                 w.mono_ns);
      ++stats_.answers;
      done[i] = true;
    }
    by_cookie.erase(it);
  }
  size_t kept = 0;
  for (size_t i = 0; i < waiting_.size(); ++i)
    if (!done[i] && ++waiting_[i].windows < kMaxWait) waiting_[kept++] = std::move(waiting_[i]);
  waiting_.resize(kept);
}

size_t RemoteNamer::NameKeyHash::operator()(const NameKey& k) const noexcept {
  uint64_t h = k.cookie * 0x9e3779b97f4a7c15ull + k.dgram_lo;
  for (size_t i = 0; i < 16; i += 8) {
    uint64_t a = 0;
    for (size_t j = 0; j < 8; ++j) a = a << 8 | k.remote.addr[i + j];
    h = (h ^ a) * 0xbf58476d1ce4e5b9ull;
  }
  return size_t(h ^ (h >> 31) ^ k.remote.family);
}

RemoteNameRef RemoteNamer::name(const ConnId& id, const ConnInfo& info, uint64_t cgroup,
                                int64_t now_ns) {
  RemoteKey remote{.family = info.family, .addr = info.remote.addr};
  if (std::all_of(remote.addr.begin(), remote.addr.end(), [](uint8_t b) { return b == 0; }))
    return nullptr;  // an unconnected socket: no remote
  NameKey key{.cookie = id.cookie, .dgram_lo = id.dgram_lo, .remote = remote};
  auto proc = named_.find(id.proc);
  if (proc != named_.end())
    if (auto it = proc->second.find(key); it != proc->second.end()) return it->second;
  RemoteNameRef found =
      cache_.lookup({.netns = info.netns, .tgid = id.proc.tgid, .cgroup = cgroup}, remote, now_ns);
  if (found) named_[id.proc][key] = found;
  return found;
}

void RemoteNamer::forget(const std::vector<ProcId>& ended) {
  for (const ProcId& p : ended) named_.erase(p);
}

DnsStats RemoteNamer::stats() const {
  DnsStats s = stats_;
  s.enabled = true;
  s.entries = cache_.size();
  s.expired = cache_.expired();
  s.evicted = cache_.evicted();
  return s;
}

}  // namespace netacct
