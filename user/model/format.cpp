#include "model/format.hpp"

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
  std::string a = format_address(family, ep.addr);
  if (family == AF_INET6) a = "[" + a + "]";
  return a + ":" + std::to_string(ep.port);
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

std::string human_bytes(double bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  // Compare what will be printed, so 1048575 B is "1.0 MiB", not "1024.0 KiB".
  auto shown = [&] { return u == 0 ? std::round(bytes) : std::round(bytes * 10) / 10; };
  while (shown() >= 1024 && u < 5) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof(buf), "%.0f B", bytes);
  else
    std::snprintf(buf, sizeof(buf), "%.1f %s", bytes, units[u]);
  return buf;
}

std::string human_rate(double bytes_per_s) { return human_bytes(bytes_per_s) + "/s"; }

std::string rfc3339(int64_t wall_ns) {
  time_t secs = wall_ns / 1000000000;
  int ms = int((wall_ns % 1000000000) / 1000000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

}  // namespace netacct
