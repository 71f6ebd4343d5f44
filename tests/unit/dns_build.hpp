// DNS answers for tests, built with ldns (a resolver library: never bytes
// typed by hand): a question and the answer section's records, given as
// zone-file lines ("www.example. 300 IN CNAME cdn.example.").
#pragma once
// stdbool.h first: without it ldns/common.h defines bool, true and false as
// macros, which break the C++ headers after it.
#include <stdbool.h>
// clang-format off
#include <ldns/ldns.h>
// clang-format on

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace dnstest {

enum class Type { a = LDNS_RR_TYPE_A, aaaa = LDNS_RR_TYPE_AAAA };

inline std::vector<uint8_t> answer(const std::string& question, Type type,
                                   const std::vector<std::string>& records,
                                   ldns_pkt_rcode rcode = LDNS_RCODE_NOERROR) {
  ldns_pkt* pkt = nullptr;
  if (ldns_pkt_query_new_frm_str(&pkt, question.c_str(), ldns_rr_type(type), LDNS_RR_CLASS_IN,
                                 LDNS_RD) != LDNS_STATUS_OK)
    throw std::runtime_error("ldns: question " + question);
  ldns_pkt_set_id(pkt, 4242);
  ldns_pkt_set_qr(pkt, true);
  ldns_pkt_set_ra(pkt, true);
  ldns_pkt_set_rcode(pkt, uint8_t(rcode));
  for (const auto& text : records) {
    ldns_rr* rr = nullptr;
    if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK)
      throw std::runtime_error("ldns: record " + text);
    ldns_pkt_push_rr(pkt, LDNS_SECTION_ANSWER, rr);
  }
  uint8_t* wire = nullptr;
  size_t len = 0;
  if (ldns_pkt2wire(&wire, pkt, &len) != LDNS_STATUS_OK) throw std::runtime_error("ldns: wire");
  std::vector<uint8_t> out(wire, wire + len);
  free(wire);
  ldns_pkt_free(pkt);
  return out;
}

}  // namespace dnstest
