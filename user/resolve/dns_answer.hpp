// DNS answers parsed with c-ares (Debian's libc-ares): never a wire parser
// of our own. The bytes come from whatever sent a datagram from port 53 to
// a local socket: untrusted, possibly cut (bpf/netacct.h, NA_DNS_MAX).
#pragma once
#include <cstddef>
#include <cstdint>

#include "model/remote_names.hpp"

namespace netacct {

struct ParsedDns {
  enum class Kind {
    answer,      // A or AAAA records: `answer` holds them
    no_address,  // a well-formed message without any (NXDOMAIN, NODATA, a query)
    malformed,   // not parseable: dropped and counted
  } kind = Kind::malformed;
  DnsAnswer answer;
};

ParsedDns parse_dns_answer(const uint8_t* data, size_t len);

}  // namespace netacct
