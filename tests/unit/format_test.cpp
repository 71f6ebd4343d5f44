#include "model/format.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

using namespace netacct;

namespace {

Endpoint v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  Endpoint ep;
  ep.addr = {a, b, c, d};
  ep.port = port;
  return ep;
}

Endpoint v6(std::array<uint8_t, 16> addr, uint16_t port) { return {addr, port}; }

}  // namespace

TEST(Format, EndpointIpv4) {
  EXPECT_EQ(format_endpoint(AF_INET, v4(10, 0, 0, 1, 80)), "10.0.0.1:80");
  EXPECT_EQ(format_endpoint(AF_INET, v4(0, 0, 0, 0, 0)), "0.0.0.0:0");
  EXPECT_EQ(format_endpoint(AF_INET, v4(255, 255, 255, 255, 65535)), "255.255.255.255:65535");
}

TEST(Format, EndpointIpv6InBrackets) {
  EXPECT_EQ(format_endpoint(AF_INET6, v6({0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 443)),
            "[fd00::1]:443");
  EXPECT_EQ(format_endpoint(AF_INET6, v6({}, 0)), "[::]:0");
}

TEST(Format, EndpointV4MappedIpv6) {
  EXPECT_EQ(
      format_endpoint(AF_INET6, v6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1}, 53)),
      "[::ffff:127.0.0.1]:53");
}

TEST(Format, FamilyName) {
  EXPECT_EQ(family_name(AF_INET), "ipv4");
  EXPECT_EQ(family_name(AF_INET6), "ipv6");
}

TEST(Format, ProtoName) {
  EXPECT_EQ(proto_name(IPPROTO_TCP), "tcp");
  EXPECT_EQ(proto_name(IPPROTO_UDP), "udp");
  EXPECT_EQ(proto_name(IPPROTO_UDPLITE), "udplite");
  EXPECT_EQ(proto_name(IPPROTO_ICMP), "icmp");
  EXPECT_EQ(proto_name(IPPROTO_ICMPV6), "icmpv6");
  EXPECT_EQ(proto_name(IPPROTO_SCTP), "sctp");
  EXPECT_EQ(proto_name(IPPROTO_RAW), "raw");
  EXPECT_EQ(proto_name(47), "ip-47");
  EXPECT_EQ(proto_name(0), "ip-0");
}

TEST(Format, HumanBytesExactBelowOneKiB) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1), "1 B");
  EXPECT_EQ(human_bytes(512), "512 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
}

TEST(Format, HumanBytesUnits) {
  EXPECT_EQ(human_bytes(1024), "1.0 KiB");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(human_bytes(1024.0 * 1024), "1.0 MiB");
  EXPECT_EQ(human_bytes(1.5 * 1024 * 1024), "1.5 MiB");
  EXPECT_EQ(human_bytes(1024.0 * 1024 * 1024), "1.0 GiB");
  EXPECT_EQ(human_bytes(1024.0 * 1024 * 1024 * 1024), "1.0 TiB");
  EXPECT_EQ(human_bytes(1024.0 * 1024 * 1024 * 1024 * 1024), "1.0 PiB");
  EXPECT_EQ(human_bytes(2048.0 * 1024 * 1024 * 1024 * 1024 * 1024),
            "2048.0 PiB");  // no larger unit
}

// Regression (fixed): a value just under the next unit rounds up to "1024.0" in the
// smaller unit (and "1024 B" below 1 KiB, e.g. for rates) instead of moving
// to the next unit.
TEST(Format, HumanBytesRoundingNeverShows1024OfAUnit) {
  EXPECT_EQ(human_bytes(1024.0 * 1024 - 1), "1.0 MiB");  // actual: "1024.0 KiB"
  EXPECT_EQ(human_bytes(1023.7), "1.0 KiB");             // actual: "1024 B"
}

TEST(Format, HumanRate) {
  EXPECT_EQ(human_rate(0), "0 B/s");
  EXPECT_EQ(human_rate(100), "100 B/s");
  EXPECT_EQ(human_rate(2.5 * 1024 * 1024), "2.5 MiB/s");
}

TEST(Format, Rfc3339IsUtcWithMilliseconds) {
  // 2023-11-14T22:13:20Z is 1'700'000'000 s since the epoch.
  EXPECT_EQ(rfc3339(1'700'000'000'123'456'789), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(rfc3339(1'700'000'000'000'999'999), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00.000Z");
}
