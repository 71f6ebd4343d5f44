// Remote names: answers parsed by c-ares (built here by ldns), the cache's
// per-receiver entries, lookup order, expiry, bound, and the namer's join
// of answers to the sockets that received them.
#include "model/remote_names.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "dns_build.hpp"
#include "model/attribution.hpp"
#include "resolve/dns_answer.hpp"

namespace netacct {
namespace {

constexpr int64_t kSec = 1'000'000'000;

RemoteKey v4(const char* text) {
  RemoteKey k{.family = AF_INET};
  inet_pton(AF_INET, text, k.addr.data());
  return k;
}

RemoteKey v6(const char* text) {
  RemoteKey k{.family = AF_INET6};
  inet_pton(AF_INET6, text, k.addr.data());
  return k;
}

ParsedDns parse(const std::vector<uint8_t>& b) { return parse_dns_answer(b.data(), b.size()); }

TEST(DnsAnswer, ARecordsWithTheirTtls) {
  ParsedDns p =
      parse(dnstest::answer("www.example.", dnstest::Type::a,
                            {"www.example. 300 IN A 192.0.2.1", "www.example. 60 IN A 192.0.2.2"}));
  ASSERT_EQ(p.kind, ParsedDns::Kind::answer);
  EXPECT_EQ(p.answer.name, "www.example");
  EXPECT_TRUE(p.answer.chain.empty());
  ASSERT_EQ(p.answer.addresses.size(), 2u);
  EXPECT_EQ(p.answer.addresses[0].addr, v4("192.0.2.1"));
  EXPECT_EQ(p.answer.addresses[0].ttl, 300u);
  EXPECT_EQ(p.answer.addresses[1].addr, v4("192.0.2.2"));
  EXPECT_EQ(p.answer.addresses[1].ttl, 60u);
}

// The name asked is the question's; c-ares 1.18 (Debian 12) reports a
// chain's CNAME owners and its first target, not the last target of a chain
// longer than one (resolve/dns_answer.cpp).
TEST(DnsAnswer, CnameChainFromTheQuestion) {
  ParsedDns p = parse(dnstest::answer("shop.example.", dnstest::Type::aaaa,
                                      {"shop.example. 300 IN CNAME shop.cdn.example.",
                                       "shop.cdn.example. 300 IN CNAME edge.cdn.example.",
                                       "edge.cdn.example. 20 IN AAAA 2001:db8::7"}));
  ASSERT_EQ(p.kind, ParsedDns::Kind::answer);
  EXPECT_EQ(p.answer.name, "shop.example");
  EXPECT_EQ(p.answer.chain, (std::vector<std::string>{"shop.cdn.example"}));
  ASSERT_EQ(p.answer.addresses.size(), 1u);
  EXPECT_EQ(p.answer.addresses[0].addr, v6("2001:db8::7"));
  EXPECT_EQ(p.answer.addresses[0].ttl, 20u);
}

// A name's own bytes, not c-ares's presentation of them: the sinks escape
// them once (an ESC and a BEL in one label, a backslash in another).
TEST(DnsAnswer, NamesAreTheirOwnBytesNotPresentationEscapes) {
  ParsedDns p = parse(dnstest::answer("evil\\027[31m\\007.a\\\\b.example.", dnstest::Type::a,
                                      {"evil\\027[31m\\007.a\\\\b.example. 300 IN A 192.0.2.9"}));
  ASSERT_EQ(p.kind, ParsedDns::Kind::answer);
  EXPECT_EQ(p.answer.name, "evil\x1b[31m\x07.a\\b.example");
}

TEST(DnsAnswer, OneCnameGivesTheWholeChain) {
  ParsedDns p = parse(dnstest::answer(
      "www.example.", dnstest::Type::a,
      {"www.example. 300 IN CNAME edge.example.", "edge.example. 30 IN A 192.0.2.3"}));
  ASSERT_EQ(p.kind, ParsedDns::Kind::answer);
  EXPECT_EQ(p.answer.name, "www.example");
  EXPECT_EQ(p.answer.chain, (std::vector<std::string>{"edge.example"}));
  EXPECT_EQ(p.answer.addresses.at(0).ttl, 30u);
}

TEST(DnsAnswer, NoAddressIsNotMalformed) {
  EXPECT_EQ(parse(dnstest::answer("gone.example.", dnstest::Type::a, {}, LDNS_RCODE_NXDOMAIN)).kind,
            ParsedDns::Kind::no_address);
}

TEST(DnsAnswer, CutAndGarbledAnswersAreMalformed) {
  auto whole =
      dnstest::answer("www.example.", dnstest::Type::a, {"www.example. 300 IN A 192.0.2.1"});
  for (size_t len : {size_t(0), size_t(5), size_t(12), whole.size() - 1})
    EXPECT_EQ(parse_dns_answer(whole.data(), len).kind, ParsedDns::Kind::malformed) << len;
}

DnsAnswer answer(const std::string& name, std::vector<DnsAddress> addrs) {
  return {.name = name, .addresses = std::move(addrs)};
}

const Asker kCurl{.netns = 1, .tgid = 100, .cgroup = 7};
const Asker kWget{.netns = 1, .tgid = 200, .cgroup = 8};
const Asker kSameCgroupOtherNetns{.netns = 2, .tgid = 300, .cgroup = 7};
const Asker kElsewhere{.netns = 3, .tgid = 400, .cgroup = 9};

TEST(NameCache, EachProcessKeepsTheNameItAsked) {
  NameCache c;
  c.add(kCurl, answer("a.example", {{v4("192.0.2.9"), 60}}), 0);
  c.add(kWget, answer("b.example", {{v4("192.0.2.9"), 60}}), kSec);
  auto curl = c.lookup(kCurl, v4("192.0.2.9"), 2 * kSec);
  auto wget = c.lookup(kWget, v4("192.0.2.9"), 2 * kSec);
  ASSERT_TRUE(curl && wget);
  EXPECT_EQ(curl->name, "a.example");
  EXPECT_EQ(curl->source, NameSource::answer);
  EXPECT_EQ(wget->name, "b.example");
  EXPECT_EQ(wget->source, NameSource::answer);
}

TEST(NameCache, OthersInTheNamespaceOrCgroupThenNothing) {
  NameCache c;
  c.add(kCurl, answer("a.example", {{v4("192.0.2.9"), 60}}), 0);
  Asker neighbour{.netns = 1, .tgid = 555, .cgroup = 0};
  auto n = c.lookup(neighbour, v4("192.0.2.9"), kSec);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->source, NameSource::namespace_);
  auto g = c.lookup(kSameCgroupOtherNetns, v4("192.0.2.9"), kSec);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->name, "a.example");
  EXPECT_EQ(g->source, NameSource::namespace_);
  EXPECT_EQ(c.lookup(kElsewhere, v4("192.0.2.9"), kSec), nullptr);
  EXPECT_EQ(c.lookup(kCurl, v4("192.0.2.10"), kSec), nullptr);
}

TEST(NameCache, ExpiresAtTtlPlusGrace) {
  NameCache c({.capacity = 10, .grace_ns = 5 * kSec});
  c.add(kCurl, answer("a.example", {{v4("192.0.2.9"), 10}}), 100 * kSec);
  EXPECT_TRUE(c.lookup(kCurl, v4("192.0.2.9"), 114 * kSec));
  EXPECT_EQ(c.lookup(kCurl, v4("192.0.2.9"), 115 * kSec), nullptr) << "not after TTL + grace";
  c.expire(114 * kSec);
  EXPECT_EQ(c.size(), 1u);
  c.expire(115 * kSec);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.expired(), 1u);
}

TEST(NameCache, ZeroGraceExpiresAtTheTtl) {
  NameCache c({.capacity = 10, .grace_ns = 0});
  c.add(kCurl, answer("a.example", {{v4("192.0.2.9"), 1}}), 0);
  EXPECT_TRUE(c.lookup(kCurl, v4("192.0.2.9"), kSec - 1));
  EXPECT_EQ(c.lookup(kCurl, v4("192.0.2.9"), kSec), nullptr);
}

TEST(NameCache, BoundEvictsTheLeastRecentlySeen) {
  NameCache c({.capacity = 2, .grace_ns = 0});
  c.add(kCurl, answer("one.example", {{v4("192.0.2.1"), 600}}), 1);
  c.add(kCurl, answer("two.example", {{v4("192.0.2.2"), 600}}), 2);
  c.add(kCurl, answer("one.example", {{v4("192.0.2.1"), 600}}), 3);  // seen again
  c.add(kCurl, answer("three.example", {{v4("192.0.2.3"), 600}}), 4);
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(c.evicted(), 1u);
  EXPECT_TRUE(c.lookup(kCurl, v4("192.0.2.1"), 5));
  EXPECT_EQ(c.lookup(kCurl, v4("192.0.2.2"), 5), nullptr);
  EXPECT_TRUE(c.lookup(kCurl, v4("192.0.2.3"), 5));
}

TEST(NameCache, AFloodStaysWithinTheBound) {
  NameCache c({.capacity = 1000, .grace_ns = 0});
  for (uint32_t i = 0; i < 100000; ++i) {
    RemoteKey k{.family = AF_INET};
    k.addr[0] = 10;
    k.addr[1] = uint8_t(i >> 16);
    k.addr[2] = uint8_t(i >> 8);
    k.addr[3] = uint8_t(i);
    c.add({.netns = 1, .tgid = i % 7}, answer("x.example", {{k, 600}}), i);
  }
  EXPECT_EQ(c.size(), 1000u);
  EXPECT_EQ(c.evicted(), 99000u);
}

ConnEntry conn(uint64_t cookie, uint32_t tgid, RemoteKey remote, uint32_t netns = 1) {
  ConnEntry c{.id = {.cookie = cookie, .proc = {.tgid = tgid}}};
  c.info = {.family = remote.family, .proto = IPPROTO_TCP, .netns = netns};
  c.info.remote.addr = remote.addr;
  return c;
}

TEST(RemoteNamer, AnswersJoinTheirSocketThenNameTheProcesssConnections) {
  RemoteNamer n;
  n.received({.cookie = 11, .cgroup_id = 7, .mono_ns = 0},
             answer("a.example", {{v4("192.0.2.9"), 60}}));
  ConnEntry query = conn(11, 100, v4("192.0.2.53"));
  ConnEntry tcp = conn(12, 100, v4("192.0.2.9"));
  n.join({query, tcp}, kSec);
  EXPECT_EQ(n.stats().answers, 1u);
  EXPECT_EQ(n.stats().entries, 1u);
  auto name = n.name(tcp.id, tcp.info, 7, kSec);
  ASSERT_TRUE(name);
  EXPECT_EQ(name->name, "a.example");
  EXPECT_EQ(name->source, NameSource::answer);
}

TEST(RemoteNamer, AConnectionKeepsItsNameAfterTheEntryExpires) {
  RemoteNamer n({.capacity = 10, .grace_ns = 0});
  n.received({.cookie = 11, .mono_ns = 0}, answer("a.example", {{v4("192.0.2.9"), 1}}));
  ConnEntry tcp = conn(12, 100, v4("192.0.2.9"));
  n.join({conn(11, 100, v4("192.0.2.53"))}, 0);
  ASSERT_TRUE(n.name(tcp.id, tcp.info, 0, 0));
  n.join({}, 10 * kSec);
  EXPECT_EQ(n.stats().expired, 1u);
  auto kept = n.name(tcp.id, tcp.info, 0, 10 * kSec);
  ASSERT_TRUE(kept);
  EXPECT_EQ(kept->name, "a.example");
  ConnEntry later = conn(13, 100, v4("192.0.2.9"));
  EXPECT_EQ(n.name(later.id, later.info, 0, 10 * kSec), nullptr)
      << "a connection first seen after the entry expired";
}

TEST(RemoteNamer, AConnectionIdleForAnHourIsNamedAfreshWhenItMovesAgain) {
  RemoteNamer n({.capacity = 10, .grace_ns = 0});
  n.received({.cookie = 11, .mono_ns = 0}, answer("a.example", {{v4("192.0.2.9"), 1}}));
  ConnEntry tcp = conn(12, 100, v4("192.0.2.9"));
  n.join({conn(11, 100, v4("192.0.2.53"))}, 0);
  ASSERT_TRUE(n.name(tcp.id, tcp.info, 0, 0));
  n.join({}, 3599 * kSec);
  EXPECT_TRUE(n.name(tcp.id, tcp.info, 0, 3599 * kSec)) << "kept while it moves";
  n.join({}, 7300 * kSec);
  EXPECT_EQ(n.name(tcp.id, tcp.info, 0, 7300 * kSec), nullptr) << "forgotten, the entry expired";
}

TEST(RemoteNamer, AnAnswerWhoseSocketNeverShowsIsDropped) {
  RemoteNamer n;
  n.received({.cookie = 99, .mono_ns = 0}, answer("a.example", {{v4("192.0.2.9"), 60}}));
  for (int i = 0; i < 5; ++i) n.join({}, i * kSec);
  n.join({conn(99, 100, v4("192.0.2.53"))}, 6 * kSec);
  EXPECT_EQ(n.stats().answers, 0u);
  EXPECT_EQ(n.stats().entries, 0u);
}

// report --resolve: only connections no answer named take a PTR name, each
// with source ptr; sockets with no one remote are never looked up; what the
// lookup does not know yet is counted, for the report to wait on.
TEST(PtrNames, OnlyUnnamedConnectionsWithARemoteTakeAPtrName) {
  auto traffic = [](RemoteKey remote, RemoteNameRef name) {
    ConnTraffic c;
    c.info.family = remote.family;
    c.info.remote.addr = remote.addr;
    c.name = std::move(name);
    return c;
  };
  auto answered = std::make_shared<const NamedRemote>(
      NamedRemote{.name = "asked.example", .source = NameSource::answer});
  std::vector<ConnTraffic> conns = {
      traffic(v4("192.0.2.1"), answered), traffic(v4("192.0.2.2"), nullptr),
      traffic(v6("2001:db8::7"), nullptr), traffic(v4("192.0.2.3"), nullptr),
      traffic(RemoteKey{.family = AF_INET}, nullptr)};
  std::vector<RemoteKey> asked;
  PtrLookup ptr = [&](const RemoteKey& k) -> std::optional<std::string> {
    asked.push_back(k);
    if (k == v4("192.0.2.2")) return "two.ptr.example";
    if (k == v6("2001:db8::7")) return "seven.ptr.example";
    return std::nullopt;  // 192.0.2.3: not known (yet)
  };
  EXPECT_EQ(name_by_ptr(conns, ptr), 1u);
  EXPECT_EQ(asked, (std::vector<RemoteKey>{v4("192.0.2.2"), v6("2001:db8::7"), v4("192.0.2.3")}));
  EXPECT_EQ(conns[0].name, answered) << "an answer's name is kept";
  ASSERT_TRUE(conns[1].name && conns[2].name);
  EXPECT_EQ(conns[1].name->name, "two.ptr.example");
  EXPECT_EQ(conns[1].name->source, NameSource::ptr);
  EXPECT_EQ(conns[2].name->name, "seven.ptr.example");
  EXPECT_EQ(conns[3].name, nullptr);
  EXPECT_EQ(conns[4].name, nullptr) << "no remote address: nothing to look up";
}

}  // namespace
}  // namespace netacct
