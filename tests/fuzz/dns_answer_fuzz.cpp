// A DNS message as the kernel hands it over (bpf/netacct.h, na_dns_event:
// at most NA_DNS_MAX = 1232 bytes, possibly cut), parsed by c-ares
// (resolve/dns_answer) and stored in the remote name cache, as the pipeline
// does with every captured answer: whatever a sender on port 53 wrote.
#include "check.hpp"
#include "model/remote_names.hpp"
#include "resolve/dns_answer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using netacct::ParsedDns;
  ParsedDns p = netacct::parse_dns_answer(data, size < 1232 ? size : 1232);
  if (p.kind != ParsedDns::Kind::answer) {
    netacct::fuzz::check(p.answer.addresses.empty() && p.answer.name.empty(),
                         "an answer that did not parse kept records");
    return 0;
  }
  netacct::fuzz::check(!p.answer.addresses.empty(), "an answer without addresses");
  for (const auto& a : p.answer.addresses)
    netacct::fuzz::check(a.addr.family == 2 || a.addr.family == 10, "an address of no family");
  netacct::NameCache cache({.capacity = 4, .grace_ns = 0});
  cache.add({.netns = 1, .tgid = 2}, p.answer, 0);
  netacct::fuzz::check(cache.size() <= 4, "the cache past its bound");
  auto named = cache.lookup({.netns = 1, .tgid = 2}, p.answer.addresses[0].addr, 0);
  netacct::fuzz::check(!named || named->name == p.answer.name, "a name the answer did not give");
  return 0;
}
