#include "dns_server.hpp"

#include <arpa/inet.h>
// ldns/common.h defines bool, true and false as macros unless stdbool.h
// said they exist (it does, in C++ too): first, so ldns leaves them alone.
#include <stdbool.h>
// clang-format off
#include <ldns/ldns.h>
// clang-format on
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "env.hpp"

namespace kt {
namespace {

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
struct RdfFree {
  void operator()(ldns_rdf* r) const { ldns_rdf_deep_free(r); }
};
struct MallocFree {
  void operator()(void* p) const { std::free(p); }
};
using Pkt = std::unique_ptr<ldns_pkt, PktFree>;
using Rdf = std::unique_ptr<ldns_rdf, RdfFree>;

std::string str(const ldns_rdf* rdf) {
  std::unique_ptr<char, MallocFree> s(ldns_rdf2str(rdf));
  return s ? std::string(s.get()) : std::string();
}

Rdf dname(const std::string& raw) {
  Rdf r(ldns_dname_new_frm_str(presentation(raw).c_str()));
  if (!r) throw std::runtime_error("ldns refuses the name " + presentation(raw));
  return r;
}

std::vector<uint8_t> toWire(const ldns_pkt* pkt) {
  uint8_t* wire = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&wire, pkt, &size) != LDNS_STATUS_OK)
    throw std::runtime_error("ldns_pkt2wire failed");
  std::unique_ptr<uint8_t, MallocFree> owned(wire);
  return std::vector<uint8_t>(wire, wire + size);
}

Pkt fromWire(const uint8_t* p, size_t n) {
  ldns_pkt* pkt = nullptr;
  if (ldns_wire2pkt(&pkt, p, n) != LDNS_STATUS_OK) return nullptr;
  return Pkt(pkt);
}

void pushRecord(ldns_pkt* pkt, const std::string& text) {
  ldns_rr* rr = nullptr;
  if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK)
    throw std::runtime_error("ldns refuses the record " + text);
  ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr);
}

// The answer records of `entry` for question type `qtype`.
void pushAnswer(ldns_pkt* pkt, const DnsName& entry, ldns_rr_type qtype) {
  const std::string ttl = " " + std::to_string(entry.ttl) + " IN ";
  std::string owner = entry.name;
  for (const auto& target : entry.cnames) {
    pushRecord(pkt, presentation(owner) + ttl + "CNAME " + presentation(target));
    owner = target;
  }
  for (const auto& addr : entry.addrs) {
    const bool v6 = addr.find(':') != std::string::npos;
    if (qtype == (v6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A))
      pushRecord(pkt, presentation(owner) + ttl + (v6 ? "AAAA " : "A ") + addr);
  }
}

// flood names: "f<i>.flood.na-kt.test." -> i.
bool floodIndex(const std::string& qname, uint32_t& i) {
  char rest[64];
  return std::sscanf(qname.c_str(), "f%u.%63s", &i, rest) == 2 &&
         std::string(rest) == "flood.na-kt.test." && i < (1u << 20);
}

// Cuts or corrupts a valid answer. Malformed: the first answer record's
// owner name becomes a compression pointer to itself (a loop every parser
// must refuse). Truncated: the last record loses its last 3 bytes.
void spoil(std::vector<uint8_t>& wire, const ldns_rdf* qname, DnsAnswer how) {
  if (how == DnsAnswer::Truncated) {
    wire.resize(wire.size() - 3);
    return;
  }
  const size_t at = 12 + ldns_rdf_size(qname) + 4;  // header, question name, type, class
  if (at + 2 > wire.size()) throw std::runtime_error("no answer record to corrupt");
  wire[at] = uint8_t(0xc0 | (at >> 8));
  wire[at + 1] = uint8_t(at & 0xff);
}

// The answer to a query, or nothing for a datagram that is not one.
std::vector<uint8_t> answer(const uint8_t* q, size_t n, const std::vector<DnsName>& names,
                            const std::vector<Rdf>& rdfs) {
  Pkt query = fromWire(q, n);
  if (!query || ldns_rr_list_rr_count(ldns_pkt_question(query.get())) != 1) return {};
  const ldns_rr* question = ldns_rr_list_rr(ldns_pkt_question(query.get()), 0);
  const ldns_rdf* qname = ldns_rr_owner(question);
  Pkt reply(ldns_pkt_new());
  ldns_pkt_set_id(reply.get(), ldns_pkt_id(query.get()));
  ldns_pkt_set_qr(reply.get(), true);
  ldns_pkt_set_aa(reply.get(), true);
  ldns_pkt_set_rd(reply.get(), ldns_pkt_rd(query.get()));
  ldns_pkt_set_ra(reply.get(), true);
  ldns_pkt_push_rr(reply.get(), LDNS_SECTION_QUESTION, ldns_rr_clone(question));
  uint32_t flood = 0;
  for (size_t k = 0; k < names.size(); ++k) {
    if (ldns_dname_compare(qname, rdfs[k].get()) != 0) continue;
    pushAnswer(reply.get(), names[k], ldns_rr_get_type(question));
    std::vector<uint8_t> wire = toWire(reply.get());
    if (names[k].answer != DnsAnswer::Normal) spoil(wire, qname, names[k].answer);
    return wire;
  }
  if (floodIndex(str(qname), flood))
    pushAnswer(reply.get(), DnsName{floodName(flood), {}, {floodAddress(flood)}},
               ldns_rr_get_type(question));
  else
    ldns_pkt_set_rcode(reply.get(), LDNS_RCODE_NXDOMAIN);
  return toWire(reply.get());
}

// A UDP socket bound (or connected) to `at`.
int udpAt(const Endpoint& at, bool connected) {
  int fd = socket(at.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_storage ss;
  const socklen_t len = at.fill(ss);
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  if (fd < 0 || (connected ? connect(fd, sa, len) : bind(fd, sa, len)) != 0)
    throw std::system_error(errno, std::generic_category(),
                            (connected ? "connect " : "bind ") + at.str());
  return fd;
}

// Calls handle(datagram, size, from, fromlen) for each datagram on `fd`
// until the parent's go().
template <class F>
void serveDatagrams(ChildCtx& ctx, int fd, F handle) {
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    ctx.waitGo();
    done = true;
  });
  uint8_t buf[4096];
  while (!done) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    for (;;) {
      sockaddr_storage from{};
      socklen_t fromlen = sizeof from;
      const ssize_t n =
          recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fromlen);
      if (n < 0) break;
      ctx.counts.rx += uint64_t(n);
      handle(buf, size_t(n), from, fromlen);
    }
  }
  waiter.join();
}

void sendTo(ChildCtx& ctx, int fd, const std::vector<uint8_t>& data, const sockaddr_storage& to,
            socklen_t tolen) {
  const ssize_t n =
      sendto(fd, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&to), tolen);
  if (n < 0) throw std::system_error(errno, std::generic_category(), "sendto");
  ctx.counts.tx += uint64_t(n);
}

// Waits (bounded) for a datagram on `fd`; returns its size.
size_t recvBounded(int fd, uint8_t* buf, size_t cap) {
  pollfd p{fd, POLLIN, 0};
  if (poll(&p, 1, scaledSeconds(5) * 1000) <= 0) throw std::runtime_error("no DNS answer in time");
  const ssize_t n = recv(fd, buf, cap, 0);
  if (n < 0) throw std::system_error(errno, std::generic_category(), "recv");
  return size_t(n);
}

DnsReply parseReply(const uint8_t* p, size_t n, uint16_t id) {
  DnsReply r;
  r.size = n;
  Pkt pkt = fromWire(p, n);
  if (!pkt) return r;
  r.parsed = true;
  r.rcode = ldns_pkt_get_rcode(pkt.get());
  r.id = ldns_pkt_id(pkt.get());
  r.id_matches = r.id == id;
  if (ldns_rr_list_rr_count(ldns_pkt_question(pkt.get())) == 1)
    r.question = str(ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(pkt.get()), 0)));
  const ldns_rr_list* answers = ldns_pkt_answer(pkt.get());
  for (size_t i = 0; i < ldns_rr_list_rr_count(answers); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(answers, i);
    r.ttls.push_back(ldns_rr_ttl(rr));
    const ldns_rr_type t = ldns_rr_get_type(rr);
    if (t == LDNS_RR_TYPE_CNAME) r.cnames.push_back(str(ldns_rr_rdf(rr, 0)));
    if (t == LDNS_RR_TYPE_A || t == LDNS_RR_TYPE_AAAA) r.addrs.push_back(str(ldns_rr_rdf(rr, 0)));
  }
  return r;
}

// An ldns-built question; its id in `id`.
std::vector<uint8_t> question(const std::string& name, int family, uint16_t& id) {
  ldns_rdf* qname = ldns_dname_new_frm_str(presentation(name).c_str());
  if (qname == nullptr) throw std::runtime_error("ldns refuses the name " + presentation(name));
  Pkt q(ldns_pkt_query_new(qname, family == AF_INET6 ? LDNS_RR_TYPE_AAAA : LDNS_RR_TYPE_A,
                           LDNS_RR_CLASS_IN, LDNS_RD));
  ldns_pkt_set_random_id(q.get());
  id = ldns_pkt_id(q.get());
  return toWire(q.get());
}

uint64_t sendAll(int fd, const std::vector<uint8_t>& data) {
  const ssize_t n = send(fd, data.data(), data.size(), 0);
  if (n != ssize_t(data.size())) throw std::system_error(errno, std::generic_category(), "send");
  return uint64_t(n);
}

}  // namespace

std::string presentation(const std::string& raw) {
  std::string out;
  for (unsigned char c : raw) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += char(c);
    } else {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\%03u", unsigned(c));
      out += esc;
    }
  }
  return out + ".";
}

std::string floodName(uint32_t i) { return "f" + std::to_string(i) + ".flood.na-kt.test"; }

std::string floodAddress(uint32_t i) {
  return "100." + std::to_string(64 + (i >> 16)) + "." + std::to_string((i >> 8) & 255) + "." +
         std::to_string(i & 255);
}

Child dnsServer(const std::string& ns, const std::string& host, std::vector<DnsName> names) {
  Child c(ns, "na-dns-server", [host, names](ChildCtx& ctx) {
    std::vector<Rdf> rdfs;
    for (const auto& e : names) rdfs.push_back(dname(e.name));
    int fd = udpAt(Endpoint{host, 53}, false);
    ctx.post(1);
    serveDatagrams(
        ctx, fd, [&](const uint8_t* q, size_t n, const sockaddr_storage& from, socklen_t fromlen) {
          const std::vector<uint8_t> wire = answer(q, n, names, rdfs);
          if (!wire.empty()) sendTo(ctx, fd, wire, from, fromlen);
        });
    close(fd);
  });
  c.nextPost();
  return c;
}

Child dnsRelay(const std::string& ns, const Endpoint& upstream) {
  Child c(ns, "na-dns-stub", [upstream](ChildCtx& ctx) {
    int fd = udpAt(Endpoint{kStubAddress, 53}, false);
    int up = dnsSocket(upstream);
    ctx.post(1);
    serveDatagrams(
        ctx, fd, [&](const uint8_t* q, size_t n, const sockaddr_storage& from, socklen_t fromlen) {
          ctx.counts.tx += sendAll(up, std::vector<uint8_t>(q, q + n));
          uint8_t buf[4096];
          const size_t got = recvBounded(up, buf, sizeof buf);
          ctx.counts.rx += got;
          sendTo(ctx, fd, std::vector<uint8_t>(buf, buf + got), from, fromlen);
        });
    close(up);
    close(fd);
  });
  c.nextPost();
  return c;
}

int dnsSocket(const Endpoint& server) { return udpAt(server, true); }

DnsReply dnsAsk(int fd, const std::string& name, int family, Counts& counts) {
  uint16_t id = 0;
  counts.tx += sendAll(fd, question(name, family, id));
  uint8_t buf[4096];
  const size_t n = recvBounded(fd, buf, sizeof buf);
  counts.rx += n;
  return parseReply(buf, n, id);
}

uint64_t dnsFlood(int fd, uint32_t first, uint32_t n, uint32_t window, Counts& counts) {
  uint64_t answered = 0;
  uint8_t buf[4096];
  for (uint32_t i = 0; i < n; i += window) {
    const uint32_t batch = std::min(window, n - i);
    for (uint32_t k = 0; k < batch; ++k) {
      uint16_t id = 0;
      counts.tx += sendAll(fd, question(floodName(first + i + k), AF_INET, id));
    }
    for (uint32_t k = 0; k < batch; ++k) {
      const size_t got = recvBounded(fd, buf, sizeof buf);
      counts.rx += got;
      const DnsReply r = parseReply(buf, got, 0);
      if (!r.parsed || r.addrs.size() != 1) throw std::runtime_error("a flood answer is not one A");
      ++answered;
    }
  }
  return answered;
}

ResolverFiles::ResolverFiles(const std::string& nameserver) {
  binds_ = {
      {dir_.write("hosts", "127.0.0.1 localhost\n"), hosts_.path()},
      {dir_.write("resolv.conf", "nameserver " + nameserver + "\noptions timeout:5 attempts:2\n"),
       resolv_.path()},
      {dir_.write("nsswitch.conf", "hosts: files dns\n"), nss_.path()}};
}

void ResolverFiles::enter() const {
  if (!bindPrivately(binds_))
    throw std::system_error(errno, std::generic_category(), "bind-mount the resolver files");
}

std::vector<std::string> libcResolve(const std::string& name, int family) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc != 0) throw std::runtime_error("getaddrinfo " + name + ": " + gai_strerror(rc));
  std::vector<std::string> out;
  for (const addrinfo* a = res; a != nullptr; a = a->ai_next) {
    char host[INET6_ADDRSTRLEN] = {};
    const void* addr =
        a->ai_family == AF_INET6
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr);
    inet_ntop(a->ai_family, addr, host, sizeof host);
    out.emplace_back(host);
  }
  freeaddrinfo(res);
  return out;
}

}  // namespace kt
