// Text forms shared by every sink, one formatter per unit kind: addresses,
// protocols, byte amounts, timestamps, and a grouping's typed cells.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "model/grouping.hpp"

namespace netacct {

std::string format_address(uint16_t family, const std::array<uint8_t, 16>& addr);
// "10.0.0.1:80", "[fd00::1]:80"
std::string format_endpoint(uint16_t family, const Endpoint& ep);
std::string family_name(uint16_t family);  // "ipv4" / "ipv6"
std::string proto_name(uint16_t proto);    // "tcp", "udp", "icmp", ... or "ip-N"

// Byte amounts, in one of the sinks' styles:
//   wide     reports:  "512 B", "1.5 KiB" (binary units, exact below 1 KiB)
//   compact  top:      "512B", "1.50K", "245M" (at most 6 characters)
//   bits     top:      "1.97Gb" (decimal units)
enum class ByteStyle { wide, compact, bits };
std::string format_bytes(double bytes, ByteStyle style);
std::string format_rate(double bytes_per_s);  // wide style + "/s"

// RFC 3339 in UTC with milliseconds: 2026-11-26T15:30:00.123Z
std::string rfc3339(int64_t wall_ns);

// Strings a process or a remote host controls (program names, executable
// and cgroup paths, DNS names) reach a terminal or a file only through
// these, one reversible escaping for every sink: a backslash is written
// "\\" and a byte that is not part of valid UTF-8 "\xNN".
//   escape_visible  text, CSV, top: control characters too (C0, DEL, C1), as
//                   "\xNN", so nothing can move the cursor or split a row
//   escape_json     JSON: JSON escapes control characters itself, exactly
std::string escape_visible(std::string_view raw);
std::string escape_json(std::string_view raw);
// Display cells of text that is already escaped (one per code point).
size_t display_width(std::string_view s);

// A name for a remote address, if one is known (reverse DNS, when on).
using Namer =
    std::function<std::optional<std::string>(uint16_t family, const std::array<uint8_t, 16>& addr)>;

// An address or endpoint as shown: the name when `namer` knows one, ports
// only when `ports`.
std::string address_text(const Address& a, bool ports = true, const Namer* namer = nullptr);

// A cell as plain text (CSV, text tables, and what top's filter matches):
// bytes as whole numbers, rates with one decimal, null as "", strings
// through escape_visible.
std::string plain_text(const Cell& cell, Unit unit);

}  // namespace netacct
