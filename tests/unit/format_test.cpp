#include "output/format.hpp"

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

std::string wide(double bytes) { return format_bytes(bytes, ByteStyle::wide); }

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
  EXPECT_EQ(wide(0), "0 B");
  EXPECT_EQ(wide(1), "1 B");
  EXPECT_EQ(wide(512), "512 B");
  EXPECT_EQ(wide(1023), "1023 B");
}

TEST(Format, HumanBytesUnits) {
  EXPECT_EQ(wide(1024), "1.0 KiB");
  EXPECT_EQ(wide(1536), "1.5 KiB");
  EXPECT_EQ(wide(1024.0 * 1024), "1.0 MiB");
  EXPECT_EQ(wide(1.5 * 1024 * 1024), "1.5 MiB");
  EXPECT_EQ(wide(1024.0 * 1024 * 1024), "1.0 GiB");
  EXPECT_EQ(wide(1024.0 * 1024 * 1024 * 1024), "1.0 TiB");
  EXPECT_EQ(wide(1024.0 * 1024 * 1024 * 1024 * 1024), "1.0 PiB");
  EXPECT_EQ(wide(2048.0 * 1024 * 1024 * 1024 * 1024 * 1024),
            "2048.0 PiB");  // no larger unit
}

// Regression (fixed): a value just under the next unit rounds up to "1024.0" in the
// smaller unit (and "1024 B" below 1 KiB, e.g. for rates) instead of moving
// to the next unit.
TEST(Format, HumanBytesRoundingNeverShows1024OfAUnit) {
  EXPECT_EQ(wide(1024.0 * 1024 - 1), "1.0 MiB");  // actual: "1024.0 KiB"
  EXPECT_EQ(wide(1023.7), "1.0 KiB");             // actual: "1024 B"
}

TEST(Format, HumanRate) {
  EXPECT_EQ(format_rate(0), "0 B/s");
  EXPECT_EQ(format_rate(100), "100 B/s");
  EXPECT_EQ(format_rate(2.5 * 1024 * 1024), "2.5 MiB/s");
}

TEST(Format, Rfc3339IsUtcWithMilliseconds) {
  // 2023-11-14T22:13:20Z is 1'700'000'000 s since the epoch.
  EXPECT_EQ(rfc3339(1'700'000'000'123'456'789), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(rfc3339(1'700'000'000'000'999'999), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(rfc3339(0), "1970-01-01T00:00:00.000Z");
}

// top's columns: at most six characters.
struct Compact {
  double value;
  const char* bytes;
  const char* bits;
};

TEST(FormatCompact, BytesAndBits) {
  const Compact table[] = {
      {0, "0B", "0b"},
      {0.4, "0B", "3b"},
      {12.5, "12B", "100b"},  // %.0f rounds half to even
      {124.9, "125B", "999b"},
      {125, "125B", "1.00Kb"},
      {512, "512B", "4.10Kb"},
      {999, "999B", "7.99Kb"},
      {999.5, "0.98K", "8.00Kb"},
      {1000, "0.98K", "8.00Kb"},
      {1023, "1.00K", "8.18Kb"},
      {1024, "1.00K", "8.19Kb"},
      {1536, "1.50K", "12.3Kb"},
      {10234, "9.99K", "81.9Kb"},
      {10235, "10.0K", "81.9Kb"},
      {102348, "99.9K", "819Kb"},
      {102400, "100K", "819Kb"},
      {1023400, "999K", "8.19Mb"},
      {1048576, "1.00M", "8.39Mb"},
      {245 * 1048576.0, "245M", "2.06Gb"},
      {246e6, "235M", "1.97Gb"},
      {1.5 * (1 << 30), "1.50G", "12.9Gb"},
      {1099511627776.0, "1.00T", "8.80Tb"},
      {1125899906842624.0, "1.00P", "9.01Pb"},
      {1152921504606846976.0, "1024P", "9223Pb"},
  };
  for (const auto& c : table) {
    EXPECT_EQ(format_bytes(c.value, ByteStyle::compact), c.bytes) << c.value;
    EXPECT_EQ(format_bytes(c.value, ByteStyle::bits), c.bits) << c.value;
  }
}

TEST(FormatCompact, FitsTheSixCharacterColumnUpToPetabytes) {
  for (double v = 1; v < 1e17; v *= 1.07) {
    EXPECT_LE(format_bytes(v, ByteStyle::compact).size(), 6u) << v;
    EXPECT_LE(format_bytes(v, ByteStyle::bits).size(), 6u) << v;
  }
}

TEST(Format, AddressText) {
  Address v6{.family = AF_INET6, .addr = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}};
  EXPECT_EQ(address_text(v6), "fd00::1");
  v6.port = 53;
  EXPECT_EQ(address_text(v6), "[fd00::1]:53");
  EXPECT_EQ(address_text(v6, false), "fd00::1");
  Namer namer = [](uint16_t, const std::array<uint8_t, 16>&) -> std::optional<std::string> {
    return "dns.example";
  };
  EXPECT_EQ(address_text(v6, true, &namer), "dns.example:53");
}

TEST(Format, PlainTextOfCells) {
  EXPECT_EQ(plain_text(Cell(), Unit::text), "");
  EXPECT_EQ(plain_text(Cell(uint64_t(6)), Unit::proto), "tcp");
  EXPECT_EQ(plain_text(Cell(uint64_t(AF_INET6)), Unit::family), "ipv6");
  EXPECT_EQ(plain_text(Cell(uint64_t(1048576)), Unit::bytes), "1048576");
  EXPECT_EQ(plain_text(Cell(209715.25), Unit::rate), "209715.2");
  EXPECT_EQ(plain_text(Cell(true), Unit::flag), "true");
}

namespace {

// The reverse of the escaping, as a consumer of netacct's output would write
// it: "\\" is a backslash, "\xNN" a byte.
std::string unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
    } else if (s[i + 1] == '\\') {
      out += '\\';
      ++i;
    } else {
      out += char(std::stoi(s.substr(i + 2, 2), nullptr, 16));
      i += 3;
    }
  }
  return out;
}

}  // namespace

TEST(Escape, ControlsAndInvalidUtf8) {
  EXPECT_EQ(escape_visible("\x1b[2J"), "\\x1b[2J");
  EXPECT_EQ(escape_visible("a\tb\nc\rd"), "a\\x09b\\x0ac\\x0dd");
  EXPECT_EQ(escape_visible("\x7f"), "\\x7f");
  EXPECT_EQ(escape_visible("\xc2\x9b"), "\\xc2\\x9b");                    // C1 CSI
  EXPECT_EQ(escape_visible("\xc2\xa0"), "\xc2\xa0");                      // U+00A0 is printable
  EXPECT_EQ(escape_visible("caf\xc3"), "caf\\xc3");                       // cut mid-character
  EXPECT_EQ(escape_visible("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
  EXPECT_EQ(escape_visible("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a surrogate
  EXPECT_EQ(escape_visible("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // above U+10FFFF
  EXPECT_EQ(escape_visible("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");      // an emoji stays
  EXPECT_EQ(escape_visible("a\\b"), "a\\\\b");
  EXPECT_EQ(escape_json("\x1b[2J\t"), "\x1b[2J\t");  // JSON escapes these itself
  EXPECT_EQ(escape_json("caf\xc3\\"), "caf\\xc3\\\\");
}

TEST(Escape, IsReversibleAndLeavesNoControlCharacter) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += char(b);
  for (const std::string& raw : {all, std::string("\\x41"), std::string("caf\xc3\xa9\xc3")}) {
    std::string shown = escape_visible(raw);
    EXPECT_EQ(unescape(shown), raw);
    EXPECT_EQ(unescape(escape_json(raw)), raw);
    for (unsigned char c : shown) EXPECT_GE(c, 0x20);
    EXPECT_EQ(shown.find('\x7f'), std::string::npos);
  }
}

TEST(Escape, DisplayWidthCountsCharacters) {
  EXPECT_EQ(display_width("caf\xc3\xa9"), 4u);
  EXPECT_EQ(display_width(escape_visible("\x1b")), 4u);
}
