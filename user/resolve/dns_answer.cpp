#include "resolve/dns_answer.hpp"

#include <ares.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace netacct {
namespace {

constexpr int kMaxAddresses = 64;  // records kept per answer; more are dropped

struct HostentFree {
  void operator()(hostent* h) const { ares_free_hostent(h); }
};

// c-ares hands names over in presentation form: a byte outside printable
// ASCII as \DDD (decimal), a '.' or '\' inside a label as \. or \\. Back
// to the name's own bytes, so that the sinks escape them once, as they do
// every other text a monitored program controls (escaped twice, "\027"
// printed as "\\027" claims a name holding a backslash).
std::string from_presentation(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool escape = text[i] == '\\' && i + 1 < text.size();
    const bool decimal = escape && i + 3 < text.size() && std::isdigit(uint8_t(text[i + 1])) &&
                         std::isdigit(uint8_t(text[i + 2])) && std::isdigit(uint8_t(text[i + 3]));
    if (decimal) {
      const int v = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
      out.push_back(char(v & 0xff));
      i += 3;
    } else {
      out.push_back(escape ? text[++i] : text[i]);
    }
  }
  return out;
}

// c-ares lists the owner names of the CNAMEs it followed in h_aliases, the
// question's first; h_name is the question's name without CNAMEs, else (c-ares
// 1.18, Debian 12) the first CNAME's target. So the chain is every name after
// the question that c-ares reports: complete up to two names, and without
// the last target of a longer chain.
void take_names(const hostent& h, DnsAnswer& out) {
  std::vector<std::string> names;
  for (char** a = h.h_aliases; a && *a; ++a) names.push_back(from_presentation(*a));
  if (h.h_name) {
    std::string name = from_presentation(h.h_name);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  if (names.empty()) return;
  out.name = names.front();
  out.chain.assign(names.begin() + 1, names.end());
}

// One record type's addresses: ARES_SUCCESS, ARES_ENODATA (none of the
// type) or a parse error.
template <typename Ttl>
int parse_type(const uint8_t* data, int len, int family, DnsAnswer& out) {
  Ttl ttls[kMaxAddresses];
  int n = kMaxAddresses;
  hostent* raw = nullptr;
  int rc;
  if constexpr (std::is_same_v<Ttl, ares_addrttl>)
    rc = ares_parse_a_reply(data, len, &raw, ttls, &n);
  else
    rc = ares_parse_aaaa_reply(data, len, &raw, ttls, &n);
  std::unique_ptr<hostent, HostentFree> host(raw);
  if (rc != ARES_SUCCESS) return rc;
  if (host) take_names(*host, out);
  for (int i = 0; i < n && i < kMaxAddresses; ++i) {
    DnsAddress a{.addr = {.family = uint16_t(family)},
                 .ttl = uint32_t(ttls[i].ttl < 0 ? 0 : ttls[i].ttl)};
    if constexpr (std::is_same_v<Ttl, ares_addrttl>)
      memcpy(a.addr.addr.data(), &ttls[i].ipaddr, 4);
    else
      memcpy(a.addr.addr.data(), &ttls[i].ip6addr, 16);
    out.addresses.push_back(a);
  }
  return n > 0 ? ARES_SUCCESS : ARES_ENODATA;
}

}  // namespace

ParsedDns parse_dns_answer(const uint8_t* data, size_t len) {
  ParsedDns out;
  if (len > INT_MAX) return out;
  int rc = parse_type<ares_addrttl>(data, int(len), AF_INET, out.answer);
  if (rc == ARES_ENODATA) {
    out.answer = {};
    rc = parse_type<ares_addr6ttl>(data, int(len), AF_INET6, out.answer);
  }
  if (rc == ARES_SUCCESS && !out.answer.addresses.empty()) {
    out.kind = ParsedDns::Kind::answer;
  } else if (rc == ARES_ENODATA) {
    out.kind = ParsedDns::Kind::no_address;
    out.answer = {};
  } else {
    out.answer = {};
  }
  return out;
}

}  // namespace netacct
