// Remote names from DNS answers (issue 14): what an answer says, who
// received it, and the cache that names a connection's remote address from
// the answers its own process received, else from those of its container or
// network namespace. Pure: time comes in as arguments (CLOCK_MONOTONIC ns),
// so tests drive expiry without sleeping.
#pragma once
#include <array>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/types.hpp"

namespace netacct {

// A DNS message as the kernel captured it from a socket (bpf/netacct.h,
// na_dns_event): untrusted bytes, parsed in resolve/dns_answer.
struct DnsMessage {
  uint64_t cookie = 0;     // the receiving socket
  uint64_t cgroup_id = 0;  // the receiving socket's cgroup
  int64_t mono_ns = 0;     // when it arrived
  uint32_t msg_len = 0;    // its length as received; more than bytes.size(): cut
  std::vector<uint8_t> bytes;
};

// One address an answer gives, with its record's TTL.
struct DnsAddress {
  RemoteKey addr;  // family AF_INET or AF_INET6; IPv4 in the first 4 bytes
  uint32_t ttl = 0;
};

// What an answer says: the name asked, the CNAME chain followed from it (in
// order, ending at the name whose records these are) and the addresses.
struct DnsAnswer {
  std::string name;
  std::vector<std::string> chain;
  std::vector<DnsAddress> addresses;
};

// Where a remote's name came from, worst to best (a remote host's row shows
// the best any of its connections had).
enum class NameSource : uint8_t { none, ptr, namespace_, answer };
const char* name_source_text(NameSource s);  // "answer", "namespace", "ptr"; null for none

struct NamedRemote {
  std::string name;                // the name asked
  std::vector<std::string> chain;  // CNAMEs followed from it
  NameSource source = NameSource::none;
};
using RemoteNameRef = std::shared_ptr<const NamedRemote>;

// A row that spans connections (a remote host) shows the best name any of
// them had: answer over namespace over ptr, the first seen among equals.
inline bool better_name(const RemoteNameRef& n, const RemoteNameRef& than) {
  return n && (!than || n->source > than->source);
}

// Who received an answer, or who owns a connection.
struct Asker {
  uint32_t netns = 0;  // network namespace inode
  uint32_t tgid = 0;
  uint64_t cgroup = 0;  // cgroup v2 id; 0: unknown
};

struct NameCacheConfig {
  size_t capacity = 65536;            // entries (--dns-cache)
  int64_t grace_ns = 60'000'000'000;  // kept this long past the TTL (--dns-grace)
};

// The DNS counters of a report (netacct.report/1 "dns").
struct DnsStats {
  bool enabled = false;
  uint64_t answers = 0;    // parsed and stored
  uint64_t malformed = 0;  // captured, not parseable: dropped
  uint64_t lost = 0;       // the kernel's ring was full
  uint64_t entries = 0;    // in the cache now
  uint64_t expired = 0;    // removed at TTL + grace
  uint64_t evicted = 0;    // removed by the bound, least recently seen first
};

// address -> (name asked, chain, TTL, seen) per receiver (network
// namespace, process, cgroup). An entry lives until TTL + grace after it
// was seen; beyond `capacity` the least recently seen go first. The same
// address in another receiver's answer is another entry: two processes that
// resolved two names to one CDN address each keep their own name.
class NameCache {
 public:
  explicit NameCache(NameCacheConfig cfg = {}) : cfg_(cfg) {}
  void add(const Asker& who, const DnsAnswer& answer, int64_t seen_ns);
  // Removes the entries expired at now_ns.
  void expire(int64_t now_ns);
  // The name of `addr` for `who`: from its own process's answers (source
  // answer), else from its cgroup's or network namespace's (namespace);
  // the most recently seen of the best; null when none is live at now_ns.
  RemoteNameRef lookup(const Asker& who, const RemoteKey& addr, int64_t now_ns) const;
  size_t size() const { return lru_.size(); }
  uint64_t expired() const { return expired_; }
  uint64_t evicted() const { return evicted_; }

 private:
  struct Entry {
    Asker who;
    RemoteKey addr;
    std::shared_ptr<const NamedRemote> named;  // source answer; shared by an answer's addresses
    int64_t seen_ns = 0, expires_ns = 0;
  };
  using Iter = std::list<Entry>::iterator;
  struct Key {
    Asker who;
    RemoteKey addr;
    bool operator==(const Key& o) const {
      return who.netns == o.who.netns && who.tgid == o.who.tgid && who.cgroup == o.who.cgroup &&
             addr == o.addr;
    }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept;
  };
  struct AddrHash {
    size_t operator()(const RemoteKey& k) const noexcept;
  };
  void remove(Iter it);

  NameCacheConfig cfg_;
  std::list<Entry> lru_;  // most recently seen first
  std::unordered_map<Key, Iter, KeyHash> by_key_;
  std::unordered_map<RemoteKey, std::vector<Iter>, AddrHash> by_addr_;
  uint64_t expired_ = 0, evicted_ = 0;
};

// From captured answers to named connections, once per window: answers
// wait until their socket shows up among the window's connections (which
// says its process and network namespace), then go into the cache; each
// connection is named once and keeps its name until its process ends.
class RemoteNamer {
 public:
  explicit RemoteNamer(NameCacheConfig cfg = {}) : cache_(cfg) {}
  // A parsed answer that `msg`'s socket received.
  void received(const DnsMessage& msg, DnsAnswer answer);
  void malformed() { ++stats_.malformed; }
  void set_lost(uint64_t lost) { stats_.lost = lost; }
  // At the start of a window: joins waiting answers to the window's
  // connections (every one, selected or not), expires old entries.
  // `cgroup_of`: a process's cgroup id (0: unknown).
  void join(const std::vector<ConnEntry>& conns, int64_t now_ns);
  // The name of a connection's remote (`info` canonical), kept once found.
  RemoteNameRef name(const ConnId& id, const ConnInfo& info, uint64_t cgroup, int64_t now_ns);
  // Processes that ended: their connections' names go.
  void forget(const std::vector<ProcId>& ended);
  DnsStats stats() const;
  const NameCache& cache() const { return cache_; }

 private:
  struct Waiting {
    uint64_t cookie, cgroup;
    int64_t mono_ns;
    DnsAnswer answer;
    unsigned windows = 0;  // windows it waited through
  };
  // An answer whose socket moved no bytes in this many windows is dropped
  // (the socket was closed unread, or its entry went).
  static constexpr unsigned kMaxWait = 3;
  struct NameKey {
    uint64_t cookie;
    uint8_t dgram_lo;
    RemoteKey remote;
    bool operator==(const NameKey&) const = default;
  };
  struct NameKeyHash {
    size_t operator()(const NameKey& k) const noexcept;
  };
  NameCache cache_;
  std::vector<Waiting> waiting_;
  std::unordered_map<ProcId, std::unordered_map<NameKey, RemoteNameRef, NameKeyHash>> named_;
  DnsStats stats_;
};

}  // namespace netacct
