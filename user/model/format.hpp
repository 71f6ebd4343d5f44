// Text forms shared by every sink: addresses, protocols, units, timestamps.
#pragma once
#include <cstdint>
#include <string>

#include "model/types.hpp"

namespace netacct {

std::string format_address(uint16_t family, const std::array<uint8_t, 16>& addr);
// "10.0.0.1:80", "[fd00::1]:80"
std::string format_endpoint(uint16_t family, const Endpoint& ep);
std::string family_name(uint16_t family);  // "ipv4" / "ipv6"
std::string proto_name(uint16_t proto);    // "tcp", "udp", "icmp", ... or "ip-N"
// 1536 -> "1.5 KiB"; exact below 1 KiB ("512 B").
std::string human_bytes(double bytes);
std::string human_rate(double bytes_per_s);  // human_bytes + "/s"
// RFC 3339 in UTC with milliseconds: 2026-11-26T15:30:00.123Z
std::string rfc3339(int64_t wall_ns);

}  // namespace netacct
