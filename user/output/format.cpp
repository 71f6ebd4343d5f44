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
    if (auto name = (*namer)(a.family, a.addr)) host = *name;
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

std::string plain_text(const Cell& cell, Unit unit) {
  if (const auto* s = std::get_if<std::string>(&cell)) return *s;
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
