#include "output/format.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmath>
#include <cstdio>
#include <ctime>

namespace netacct {

std::string format_address(uint16_t family, const std::array<uint8_t, 16>& addr) {
  char buf[INET6_ADDRSTRLEN] = {};
  int af = family == AF_INET6 ? AF_INET6 : AF_INET;
  if (!inet_ntop(af, addr.data(), buf, sizeof(buf))) return "?";
  return buf;
}

std::string format_endpoint(uint16_t family, const Endpoint& ep) {
  return address_text({.family = family, .addr = ep.addr, .port = ep.port});
}

std::string address_text(const Address& a, bool ports, const Namer* namer) {
  std::string host;
  if (namer && *namer)
    if (auto name = (*namer)(a.family, a.addr)) host = escape_visible(*name);
  if (host.empty()) host = format_address(a.family, a.addr);
  if (!a.port || !ports) return host;
  if (a.family == AF_INET6 && host.find(':') != std::string::npos) host = "[" + host + "]";
  return host + ":" + std::to_string(*a.port);
}

std::string family_name(uint16_t family) { return family == AF_INET6 ? "ipv6" : "ipv4"; }

std::string proto_name(uint16_t proto) {
  switch (proto) {
    case IPPROTO_TCP:
      return "tcp";
    case IPPROTO_UDP:
      return "udp";
    case IPPROTO_UDPLITE:
      return "udplite";
    case IPPROTO_ICMP:
      return "icmp";
    case IPPROTO_ICMPV6:
      return "icmpv6";
    case IPPROTO_SCTP:
      return "sctp";
    case IPPROTO_RAW:
      return "raw";
    default:
      return "ip-" + std::to_string(proto);
  }
}

namespace {

// The style decides the base, the unit names and how many digits show; the
// unit steps up while the value would print as `limit` or more.
struct Scale {
  double base, limit;
  const char* const* units;
};

const char* const kWideUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
const char* const kShortUnits[] = {"", "K", "M", "G", "T", "P"};

Scale scale_of(ByteStyle style) {
  switch (style) {
    case ByteStyle::wide:
      return {.base = 1024, .limit = 1024, .units = kWideUnits};
    case ByteStyle::compact:
      return {.base = 1024, .limit = 1000, .units = kShortUnits};
    default:
      return {.base = 1000, .limit = 1000, .units = kShortUnits};
  }
}

// What will be printed: wide shows one decimal above bytes; compact styles
// never show more than three significant digits.
double shown(double v, int unit, ByteStyle style) {
  return style == ByteStyle::wide && unit > 0 ? std::round(v * 10) / 10 : std::round(v);
}

std::string print(double v, int u, ByteStyle style, const Scale& s) {
  char buf[32];
  if (style == ByteStyle::wide) {
    if (u == 0)
      std::snprintf(buf, sizeof buf, "%.0f B", v);
    else
      std::snprintf(buf, sizeof buf, "%.1f %s", v, s.units[u]);
    return buf;
  }
  const char* suffix = style == ByteStyle::bits ? "b" : (u == 0 ? "B" : "");
  const char* fmt = u == 0 || v >= 99.95 ? "%.0f%s%s" : v >= 9.995 ? "%.1f%s%s" : "%.2f%s%s";
  std::snprintf(buf, sizeof buf, fmt, v, s.units[u], suffix);
  return buf;
}

}  // namespace

std::string format_bytes(double bytes, ByteStyle style) {
  Scale s = scale_of(style);
  double v = style == ByteStyle::bits ? bytes * 8 : bytes;
  int u = 0;
  while (shown(v, u, style) >= s.limit && u < 5) {
    v /= s.base;
    ++u;
  }
  return print(v, u, style, s);
}

std::string format_rate(double bytes_per_s) {
  return format_bytes(bytes_per_s, ByteStyle::wide) + "/s";
}

std::string rfc3339(int64_t wall_ns) {
  time_t secs = wall_ns / 1000000000;
  int ms = int((wall_ns % 1000000000) / 1000000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629: no overlong
// forms, no surrogates, nothing above U+10FFFF).
size_t utf8_length(std::string_view s, size_t i) {
  auto at = [&](size_t k) -> unsigned {
    return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0;
  };
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xbf) {
    return at(k) >= lo && at(k) <= hi;
  };
  unsigned c = at(0);
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c == 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c == 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

// C0 controls, DEL, and the C1 controls U+0080..U+009F (UTF-8 c2 80..c2 9f),
// which some terminals obey like ESC sequences.
bool control(std::string_view s, size_t i, size_t len) {
  auto c = static_cast<unsigned char>(s[i]);
  if (len == 1) return c < 0x20 || c == 0x7f;
  return len == 2 && c == 0xc2 && static_cast<unsigned char>(s[i + 1]) <= 0x9f;
}

std::string hex_bytes(std::string_view bytes) {
  std::string out;
  char buf[8];
  for (unsigned char b : bytes) {
    std::snprintf(buf, sizeof buf, "\\x%02x", b);
    out += buf;
  }
  return out;
}

std::string escape(std::string_view raw, bool controls) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size();) {
    size_t len = utf8_length(raw, i);
    if (len == 0) {
      out += hex_bytes(raw.substr(i, 1));
      ++i;
      continue;
    }
    std::string_view ch = raw.substr(i, len);
    if (ch == "\\")
      out += "\\\\";
    else if (controls && control(raw, i, len))
      out += hex_bytes(ch);
    else
      out += ch;
    i += len;
  }
  return out;
}

}  // namespace

std::string escape_visible(std::string_view raw) { return escape(raw, true); }
std::string escape_json(std::string_view raw) { return escape(raw, false); }

size_t display_width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

std::string plain_text(const Cell& cell, Unit unit) {
  if (const auto* s = std::get_if<std::string>(&cell)) return escape_visible(*s);
  if (const auto* a = std::get_if<Address>(&cell)) return address_text(*a);
  if (const auto* b = std::get_if<bool>(&cell)) return *b ? "true" : "false";
  if (const auto* d = std::get_if<double>(&cell)) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", *d);
    return buf;
  }
  if (const auto* n = std::get_if<uint64_t>(&cell)) {
    if (unit == Unit::proto) return proto_name(uint16_t(*n));
    if (unit == Unit::family) return family_name(uint16_t(*n));
    return std::to_string(*n);
  }
  return "";
}

}  // namespace netacct
