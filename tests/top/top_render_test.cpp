// Golden frames of render_top. Each expected line ends with '|' (not part of
// the frame) so that trailing spaces show; every line is exactly `width`
// cells. On a mismatch the actual frame is printed in the same form.
#include "output/top_render.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <sstream>

using namespace netacct;

namespace {

size_t cells(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // the raw literal's first, empty line
  while (std::getline(in, line)) {
    if (line.empty() || line.back() != '|') {
      ADD_FAILURE() << "golden line without '|': " << line;
      continue;
    }
    line.pop_back();
    out.push_back(line);
  }
  return out;
}

std::string framed(const std::vector<std::string>& lines) {
  std::string out = "\nR\"(\n";
  for (const auto& l : lines) out += l + "|\n";
  return out + ")\"";
}

void expect_frame(const std::vector<std::string>& got, const std::string& want, size_t width,
                  size_t height) {
  if (height) {
    EXPECT_EQ(got.size(), height);
  }
  for (const auto& l : got) EXPECT_EQ(cells(l), width) << "line: " << l;
  EXPECT_EQ(got, lines_of(want)) << "actual frame:" << framed(got);
}

// render_top, checking that every line is exactly `width` cells.
std::vector<std::string> render(const TopHeader& h, const std::vector<TopRow>& rows,
                                const TopState& st, size_t width, size_t height, bool utf8) {
  auto f = render_top(h, rows, st, width, height, utf8);
  for (const auto& l : f) EXPECT_EQ(cells(l), width) << "line: " << l;
  return f;
}

// One line without its padding.
std::string trimmed(std::string s) {
  s.erase(s.find_last_not_of(' ') + 1);
  return s;
}

TopHeader header() {
  TopHeader h;
  h.clock = "15:40:01";
  h.backend = "fentry";
  h.totals.rates.tx = {1536, 1024, 512};
  h.totals.rates.rx = {12288, 0, 0};
  h.totals.processes = 2;
  h.totals.connections = 3;
  h.cpu_percent = 0.4;
  h.ns_per_event = 310;
  return h;
}

// A busy row: rates, bytes per window, peak and totals all differ.
TopRow busy(size_t buckets = 8) {
  TopRow r;
  r.row.key.proc = {4121, 1};
  r.row.who = {.proc = {4121, 1}, .comm = "postgres", .uid = 26, .user = "postgres"};
  r.rates.tx = {1536, 10240, 512};
  r.rates.rx = {12288, 2048000, 0};
  r.rates.tx_bytes = {3072, 102400, 20480};
  r.rates.rx_bytes = {24576, 20480000, 0};
  r.totals.peak_tx = 4096;
  r.totals.peak_rx = 2500000;
  r.totals.total_tx = 1048576;
  r.totals.total_rx = 3221225472;  // 3 GiB
  r.spark.tx.assign(buckets, 0);
  r.spark.rx.assign(buckets, 8);
  for (size_t i = 2; i < buckets; ++i) r.spark.tx[i] = double(i - 1);  // 1..6: ▁▁▂▂▃▃
  r.spark.rx[buckets - 1] = 16;
  return r;
}

// A quiet row whose process exited.
TopRow quiet(size_t buckets = 8) {
  TopRow r;
  r.row.key.proc = {7, 2};
  r.row.who = {.proc = {7, 2}, .comm = "curl", .uid = 1000, .user = "alice", .exited = true};
  r.rates.tx = {100, 50, 25};
  r.rates.rx = {900, 450, 300};
  r.rates.tx_bytes = {200, 500, 1000};
  r.rates.rx_bytes = {1800, 4500, 12000};
  r.totals.peak_tx = 100;
  r.totals.peak_rx = 900;
  r.totals.total_tx = 500;
  r.totals.total_rx = 9000;
  r.spark.tx.assign(buckets, 0);
  r.spark.rx.assign(buckets, 0);
  r.spark.tx[buckets - 2] = 1;
  r.spark.rx[buckets - 2] = 9;
  return r;
}

std::vector<TopRow> procs() { return {busy(), quiet()}; }

const std::array<uint8_t, 16> kDb1 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const std::array<uint8_t, 16> kDb2 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

TopRow as_conn(TopRow r, uint16_t family, Endpoint local, Endpoint remote) {
  r.row.conn = {.family = family, .proto = IPPROTO_TCP, .local = local, .remote = remote};
  return r;
}

std::vector<TopRow> conns(size_t buckets = 8) {
  return {as_conn(busy(buckets), AF_INET, {{10, 0, 0, 1}, 5432}, {{93, 184, 216, 34}, 443}),
          as_conn(quiet(buckets), AF_INET6, {kDb2, 41000}, {kDb1, 443})};
}

std::vector<TopRow> hosts() {
  TopRow a = busy(), b = quiet();
  for (TopRow* r : {&a, &b}) r->row.who = {};
  a.row.key = {.remote = {.family = AF_INET, .addr = {93, 184, 216, 34}}};
  b.row.key = {.remote = {.family = AF_INET6, .addr = kDb1}};
  return {a, b};
}

TopState in(GroupKind v) {
  TopState st;
  st.query.view = v;
  return st;
}

TEST(RenderTop, ProcessesUtf8) {
  expect_frame(render_top(header(), procs(), {}, 80, 24, true), R"(
netacct top 15:40:01  fentry  processes  bytes/s  h: help                       |
total  sent 1.50K/s  received 12.0K/s  (2s)   2 processes  3 connections        |
cost   netacct cpu 0.4%  kernel 310 ns/event  evicted 0                         |
                                                                                |
    PID USER     PROGRAM                2s    10s    40s   PEAK  TOTAL  LAST 40s|
>  4121 postgres postgres        =>  1.50K  10.0K   512B  4.00K  1.00M    ▁▁▂▂▃▃|
>                                <=  12.0K  1.95M     0B  2.38M  3.00G  ▄▄▄▄▄▄▄█|
      7 alice    curl            =>   100B    50B    25B   100B   500B        ▁ |
        (exited)                 <=   900B   450B   300B   900B  8.79K        █ |
                                                                                |
                                                                                |
                                                                                |
                                                                                |
                                                                                |
                                                                                |
                                                                                |
                                                                                |
                                                                                |
                                                                                |
                                                                                |
                                                                                |
                                                                                |
                                                                                |
                                                                                |
)",
               80, 24);
}

TEST(RenderTop, ProcessesAscii) {
  expect_frame(render_top(header(), procs(), {}, 80, 9, false), R"(
netacct top 15:40:01  fentry  processes  bytes/s  h: help                       |
total  sent 1.50K/s  received 12.0K/s  (2s)   2 processes  3 connections        |
cost   netacct cpu 0.4%  kernel 310 ns/event  evicted 0                         |
                                                                                |
    PID USER     PROGRAM                2s    10s    40s   PEAK  TOTAL  LAST 40s|
>  4121 postgres postgres        =>  1.50K  10.0K   512B  4.00K  1.00M    ..::--|
>                                <=  12.0K  1.95M     0B  2.38M  3.00G  =======@|
      7 alice    curl            =>   100B    50B    25B   100B   500B        . |
        (exited)                 <=   900B   450B   300B   900B  8.79K        @ |
)",
               80, 9);
}

TEST(RenderTop, ConnectionsIpv4AndIpv6) {
  TopState st = in(GroupKind::connection);
  st.selected = 1;
  expect_frame(render_top(header(), conns(), st, 80, 9, true), R"(
netacct top 15:40:01  fentry  connections  bytes/s  h: help                     |
total  sent 1.50K/s  received 12.0K/s  (2s)   2 processes  3 connections        |
cost   netacct cpu 0.4%  kernel 310 ns/event  evicted 0                         |
                                                                                |
    PID PROGRAM PROTO PORT              2s    10s    40s   PEAK  TOTAL  LAST 40s|
   4121 postgres tcp :5432       =>  1.50K  10.0K   512B  4.00K  1.00M    ▁▁▂▂▃▃|
        to 93.184.216.34:443     <=  12.0K  1.95M     0B  2.38M  3.00G  ▄▄▄▄▄▄▄█|
>     7 curl (exited) tcp :41000 =>   100B    50B    25B   100B   500B        ▁ |
>       to [2001:db8::1]:443     <=   900B   450B   300B   900B  8.79K        █ |
)",
               80, 9);
}

TEST(RenderTop, DrillDownTitle) {
  TopHeader h = header();
  h.drill_name = "PID 4121";
  TopState st = in(GroupKind::connection);
  st.query.drill = ProcId{4121, 1};
  auto f = render(h, {conns()[0]}, st, 80, 0, true);
  EXPECT_EQ(trimmed(f[0]),
            "netacct top 15:40:01  fentry  connections of PID 4121  bytes/s  h: help");
}

// A container's name comes from files its owner writes: the title shows it
// escaped, never raw.
TEST(RenderTop, DrillDownTitleEscapesTheContainersName) {
  TopHeader h = header();
  h.drill_name = std::string("web") + char(0x1b) + "[2J" + char(0x0a);
  TopState st = in(GroupKind::process);
  st.query.cgroup = 9001;
  auto f = render(h, {}, st, 80, 0, true);
  EXPECT_EQ(trimmed(f[0]),
            "netacct top 15:40:01  fentry  processes of web\\x1b[2J\\x0a  bytes/s  h: help");
}

// Regression (fixed): at the default 80 columns the connections view's column header does
// not fit its 31-cell identity column and is cut to "LOCAL / R~".
TEST(RenderTop, ColumnHeadersFitAt80Columns) {
  for (GroupKind v : {GroupKind::process, GroupKind::connection, GroupKind::remote}) {
    auto f = render(header(), {}, in(v), 80, 0, true);
    EXPECT_EQ(f[4].find('~'), std::string::npos) << view_name(v) << ": " << f[4];
  }
}

TEST(RenderTop, RemoteHosts) {
  expect_frame(render_top(header(), hosts(), in(GroupKind::remote), 80, 9, true), R"(
netacct top 15:40:01  fentry  remote hosts  bytes/s  h: help                    |
total  sent 1.50K/s  received 12.0K/s  (2s)   2 processes  3 connections        |
cost   netacct cpu 0.4%  kernel 310 ns/event  evicted 0                         |
                                                                                |
 REMOTE HOST                            2s    10s    40s   PEAK  TOTAL  LAST 40s|
>93.184.216.34                   =>  1.50K  10.0K   512B  4.00K  1.00M    ▁▁▂▂▃▃|
>                                <=  12.0K  1.95M     0B  2.38M  3.00G  ▄▄▄▄▄▄▄█|
 2001:db8::1                     =>   100B    50B    25B   100B   500B        ▁ |
                                 <=   900B   450B   300B   900B  8.79K        █ |
)",
               80, 9);
}

RemoteNameRef named(std::string name, NameSource source) {
  return std::make_shared<const NamedRemote>(
      NamedRemote{.name = std::move(name), .source = source});
}

// Remote names from DNS answers replace the address, with their source on
// the row: the process's own answer, or another's of its namespace.
TEST(RenderTop, ConnectionsNamedFromDnsAnswers) {
  auto rows = conns();
  rows[0].row.name = named("shop.example", NameSource::answer);
  rows[1].row.name = named("cdn.example", NameSource::namespace_);
  expect_frame(render_top(header(), rows, in(GroupKind::connection), 80, 9, true), R"(
netacct top 15:40:01  fentry  connections  bytes/s  h: help                     |
total  sent 1.50K/s  received 12.0K/s  (2s)   2 processes  3 connections        |
cost   netacct cpu 0.4%  kernel 310 ns/event  evicted 0                         |
                                                                                |
    PID PROGRAM PROTO PORT              2s    10s    40s   PEAK  TOTAL  LAST 40s|
>  4121 postgres tcp :5432       =>  1.50K  10.0K   512B  4.00K  1.00M    ▁▁▂▂▃▃|
>       to shop.exampl~ (answer) <=  12.0K  1.95M     0B  2.38M  3.00G  ▄▄▄▄▄▄▄█|
      7 curl (exited) tcp :41000 =>   100B    50B    25B   100B   500B        ▁ |
        to cdn.exam~ (namespace) <=   900B   450B   300B   900B  8.79K        █ |
)",
               80, 9);
}

// A name is whatever the answer said: control characters escaped, a long
// name cut with a tilde (the source then cut with it).
TEST(RenderTop, RemoteHostsNamedFromDnsAnswers) {
  auto rows = hosts();
  rows[0].row.name = named("ev\x1b[2Jil.example", NameSource::answer);
  rows[1].row.name = named(std::string(60, 'a') + ".example", NameSource::namespace_);
  expect_frame(render_top(header(), rows, in(GroupKind::remote), 80, 9, true), R"(
netacct top 15:40:01  fentry  remote hosts  bytes/s  h: help                    |
total  sent 1.50K/s  received 12.0K/s  (2s)   2 processes  3 connections        |
cost   netacct cpu 0.4%  kernel 310 ns/event  evicted 0                         |
                                                                                |
 REMOTE HOST                            2s    10s    40s   PEAK  TOTAL  LAST 40s|
>ev\x1b[2Jil.example (answer)    =>  1.50K  10.0K   512B  4.00K  1.00M    ▁▁▂▂▃▃|
>                                <=  12.0K  1.95M     0B  2.38M  3.00G  ▄▄▄▄▄▄▄█|
 aaaaaaaaaaaaaaaaaa~ (namespace) =>   100B    50B    25B   100B   500B        ▁ |
                                 <=   900B   450B   300B   900B  8.79K        █ |
)",
               80, 9);
}

TEST(RenderTop, CumulativeBytes) {
  TopState st;
  st.cumulative = true;
  expect_frame(render_top(header(), procs(), st, 80, 9, true), R"(
netacct top 15:40:01  fentry  processes  bytes moved  h: help                   |
total  sent 1.50K/s  received 12.0K/s  (2s)   2 processes  3 connections        |
cost   netacct cpu 0.4%  kernel 310 ns/event  evicted 0                         |
                                                                                |
    PID USER     PROGRAM                 2s    10s    40s        TOTAL  LAST 40s|
>  4121 postgres postgres         =>  3.00K   100K  20.0K      1048576    ▁▁▂▂▃▃|
>                                 <=  24.0K  19.5M     0B   3221225472  ▄▄▄▄▄▄▄█|
      7 alice    curl             =>   200B   500B  0.98K          500        ▁ |
        (exited)                  <=  1.76K  4.39K  11.7K         9000        █ |
)",
               80, 9);
}

TEST(RenderTop, Bits) {
  TopState st;
  st.bits = true;
  expect_frame(render_top(header(), procs(), st, 80, 9, true), R"(
netacct top 15:40:01  fentry  processes  bits/s  h: help                        |
total  sent 12.3Kb/s  received 98.3Kb/s  (2s)   2 processes  3 connections      |
cost   netacct cpu 0.4%  kernel 310 ns/event  evicted 0                         |
                                                                                |
    PID USER     PROGRAM                2s    10s    40s   PEAK  TOTAL  LAST 40s|
>  4121 postgres postgres        => 12.3Kb 81.9Kb 4.10Kb 32.8Kb 8.39Mb    ▁▁▂▂▃▃|
>                                <= 98.3Kb 16.4Mb     0b 20.0Mb 25.8Gb  ▄▄▄▄▄▄▄█|
      7 alice    curl            =>   800b   400b   200b   800b 4.00Kb        ▁ |
        (exited)                 <= 7.20Kb 3.60Kb 2.40Kb 7.20Kb 72.0Kb        █ |
)",
               80, 9);
}

TEST(RenderTop, CumulativeBits) {
  TopState st;
  st.cumulative = st.bits = true;
  auto f = render(header(), procs(), st, 80, 0, true);
  EXPECT_EQ(trimmed(f[0]), "netacct top 15:40:01  fentry  processes  bits moved  h: help");
  EXPECT_EQ(f[5],
            "   4121 postgres postgres         => 24.6Kb  819Kb  164Kb      8388608    ▁▁▂▂▃▃");
  EXPECT_EQ(trimmed(f[6]),
            "                                  <=  197Kb  164Mb     0b  25769803776  ▄▄▄▄▄▄▄█");
}

TEST(RenderTop, PausedAndFilter) {
  TopState st;
  st.paused = true;
  st.editing = "pos";
  auto f = render(header(), procs(), st, 80, 0, true);
  EXPECT_EQ(trimmed(f[0]), "netacct top 15:40:01  fentry  processes  bytes/s  PAUSED  h: help");
  EXPECT_EQ(trimmed(f[2]),
            "cost   netacct cpu 0.4%  kernel 310 ns/event  evicted 0   filter: pos_");
  st.editing.reset();
  st.filter = "postgres";
  st.paused = false;
  TopHeader h = header();
  h.ns_per_event = -1;
  h.evicted = 12;
  h.cpu_percent = 12.25;
  f = render(h, procs(), st, 80, 0, true);
  EXPECT_EQ(trimmed(f[0]), "netacct top 15:40:01  fentry  processes  bytes/s  h: help");
  EXPECT_EQ(trimmed(f[2]), "cost   netacct cpu 12.2%  kernel n/a  evicted 12   filter: postgres");
}

// The first line says when rows show wire bytes.
TEST(RenderTop, WireLayerNamedInTheFirstLine) {
  TopState st;
  st.query.layer = Layer::wire;
  auto f = render_top(header(), procs(), st, 80, 0, true);
  EXPECT_EQ(trimmed(f[0]), "netacct top 15:40:01  fentry  processes  wire bytes/s  h: help");
  st.cumulative = st.bits = true;
  f = render_top(header(), procs(), st, 80, 0, true);
  EXPECT_EQ(trimmed(f[0]), "netacct top 15:40:01  fentry  processes  wire bits moved  h: help");
}

TEST(RenderTop, Help) {
  TopState st;
  st.help = true;
  expect_frame(render_top(header(), procs(), st, 80, 22, true), R"(
netacct top 15:40:01  fentry  processes  bytes/s  h: help                       |
total  sent 1.50K/s  received 12.0K/s  (2s)   2 processes  3 connections        |
cost   netacct cpu 0.4%  kernel 310 ns/event  evicted 0                         |
                                                                                |
keys                                                                            |
  q            quit                                                             |
  up/down j/k  move the selection                                               |
  Enter        a process's connections and remote hosts; a container's processes|
  Backspace    back (also Esc)                                                  |
  Tab          views: processes, connections, remotes, interfaces, containers   |
  s / r / t    sort by sent / received / total                                  |
  1 / 2 / 3    sort by the 2 s / 10 s / 40 s average                            |
  c            rate or cumulative bytes                                         |
  b            bits or bytes                                                    |
  p            pause                                                            |
  P            show or hide ports                                               |
  n            reverse DNS (looked up in the background)                        |
  w            payload or wire bytes (with headers and retransmits)             |
  /            filter by program, address or port (Enter applies, Esc clears)   |
  h ?          this help (any key closes it)                                    |
                                                                                |
                                                                                |
)",
               80, 22);
}

TEST(RenderTop, EmptyView) {
  expect_frame(render_top(header(), {}, in(GroupKind::remote), 80, 7, true), R"(
netacct top 15:40:01  fentry  remote hosts  bytes/s  h: help                    |
total  sent 1.50K/s  received 12.0K/s  (2s)   2 processes  3 connections        |
cost   netacct cpu 0.4%  kernel 310 ns/event  evicted 0                         |
                                                                                |
 REMOTE HOST                            2s    10s    40s   PEAK  TOTAL  LAST 40s|
 (no traffic in the last 40 s)                                                  |
                                                                                |
)",
               80, 7);
}

// 12 rows, 11 lines: room for 3 rows. The selection stays on screen.
TEST(RenderTop, SelectionScrolls) {
  std::vector<TopRow> rows;
  for (uint32_t i = 0; i < 12; ++i) {
    TopRow r = quiet();
    r.row.who.exited = false;
    r.row.key.proc.tgid = r.row.who.proc.tgid = 100 + i;
    rows.push_back(r);
  }
  TopState st;
  st.selected = 7;
  expect_frame(render_top(header(), rows, st, 80, 12, false), R"(
netacct top 15:40:01  fentry  processes  bytes/s  h: help                       |
total  sent 1.50K/s  received 12.0K/s  (2s)   2 processes  3 connections        |
cost   netacct cpu 0.4%  kernel 310 ns/event  evicted 0                         |
                                                                                |
    PID USER     PROGRAM                2s    10s    40s   PEAK  TOTAL  LAST 40s|
    105 alice    curl            =>   100B    50B    25B   100B   500B        . |
                                 <=   900B   450B   300B   900B  8.79K        @ |
    106 alice    curl            =>   100B    50B    25B   100B   500B        . |
                                 <=   900B   450B   300B   900B  8.79K        @ |
>   107 alice    curl            =>   100B    50B    25B   100B   500B        . |
>                                <=   900B   450B   300B   900B  8.79K        @ |
                                                                                |
)",
               80, 12);
  EXPECT_EQ(first_visible(0, 12, 3), 0u);
  EXPECT_EQ(first_visible(2, 12, 3), 0u);
  EXPECT_EQ(first_visible(3, 12, 3), 1u);
  EXPECT_EQ(first_visible(11, 12, 3), 9u);
  EXPECT_EQ(first_visible(20, 12, 3), 9u);
  EXPECT_EQ(first_visible(5, 2, 3), 0u);
  EXPECT_EQ(first_visible(5, 12, 0), 0u);
}

TEST(RenderTop, WideTerminal) {
  TopState st = in(GroupKind::connection);
  expect_frame(render_top(header(), conns(20), st, 120, 9, true), R"(
netacct top 15:40:01  fentry  connections  bytes/s  h: help                                                             |
total  sent 1.50K/s  received 12.0K/s  (2s)   2 processes  3 connections                                                |
cost   netacct cpu 0.4%  kernel 310 ns/event  evicted 0                                                                 |
                                                                                                                        |
    PID PROGRAM PROTO LOCAL / REMOTE                                2s    10s    40s   PEAK  TOTAL  LAST 40s            |
>  4121 postgres tcp 10.0.0.1:5432                           =>  1.50K  10.0K   512B  4.00K  1.00M    ▁▁▂▂▃▃▄▄▄▅▅▆▆▇▇███|
>       to 93.184.216.34:443                                 <=  12.0K  1.95M     0B  2.38M  3.00G  ▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄█|
      7 curl (exited) tcp [2001:db8::2]:41000                =>   100B    50B    25B   100B   500B                    ▁ |
        to [2001:db8::1]:443                                 <=   900B   450B   300B   900B  8.79K                    █ |
)",
               120, 9);
  EXPECT_EQ(spark_width(80), 8u);
  EXPECT_EQ(spark_width(109), 8u);
  EXPECT_EQ(spark_width(110), 20u);
}

TEST(RenderTop, BatchModeShowsEveryRowWithoutCursor) {
  std::vector<TopRow> rows;
  for (uint32_t i = 0; i < 12; ++i) {
    TopRow r = quiet();
    r.row.key.proc.tgid = r.row.who.proc.tgid = 100 + i;
    rows.push_back(r);
  }
  TopState st;
  st.selected = 3;
  auto f = render(header(), rows, st, 80, 0, true);
  ASSERT_EQ(f.size(), 5 + 2 * 12u);
  for (const auto& l : f) EXPECT_NE(l[0], '>');
  EXPECT_EQ(f[5],
            "    100 alice    curl            =>   100B    50B    25B   100B   500B        ▁ ");
  EXPECT_EQ(f[28],
            "        (exited)                 <=   900B   450B   300B   900B  8.79K        █ ");
}

TEST(RenderTop, LongTextIsCutWithATilde) {
  TopRow r = quiet();
  r.row.who.exited = false;
  r.row.who.user = "verylongusername";
  r.row.who.comm = "a-program-name-longer-than-the-column";
  auto f = render(header(), {r}, {}, 80, 0, false);
  EXPECT_EQ(f[5],
            "      7 verylon~ a-program-name~ =>   100B    50B    25B   100B   500B        . ");
  auto narrow = render(header(), {r}, {}, 30, 0, false);
  EXPECT_EQ(narrow[0], "netacct top 15:40:01  fentry ~");
}

TEST(ViewName, Names) {
  EXPECT_EQ(view_name(GroupKind::process), "processes");
  EXPECT_EQ(view_name(GroupKind::connection), "connections");
  EXPECT_EQ(view_name(GroupKind::remote), "remote hosts");
}

}  // namespace

namespace {

// Regression (fixed): on a 200-column terminal the PROGRAM column stretched
// across the screen and pushed the numbers 130 columns away from the name.
// The name column stops at 40 cells; the rest shows the executable.
TEST(RenderTop, WideTerminalKeepsNumbersNextToTheName) {
  TopRow r = busy(20);
  r.row.who.exe = "/usr/lib/postgresql/15/bin/postgres";
  TopRow q = quiet(20);
  auto f = render(header(), {r, q}, {}, 200, 0, true);
  EXPECT_EQ(trimmed(f[4]),
            "    PID USER     PROGRAM                         2s    10s    40s   PEAK  TOTAL  "
            "LAST 40s              EXECUTABLE");
  EXPECT_EQ(trimmed(f[5]),
            "   4121 postgres postgres                 =>  1.50K  10.0K   512B  4.00K  1.00M    "
            "▁▁▂▂▃▃▄▄▄▅▅▆▆▇▇███  /usr/lib/postgresql/15/bin/postgres");
  EXPECT_EQ(trimmed(f[6]),
            "                                          <=  12.0K  1.95M     0B  2.38M  3.00G  "
            "▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄▄█");
  EXPECT_EQ(f[7].find("=>"), f[5].find("=>"));
  EXPECT_TRUE(trimmed(f[7]).ends_with("▁")) << f[7];  // curl's executable is unknown
  EXPECT_EQ(cells(f[5]), 200u);
}

}  // namespace

namespace {

// Names a process or a DNS answer controls never reach the terminal raw.
TEST(RenderTop, HostileNamesAreEscaped) {
  TopRow r = quiet();
  r.row.who.exited = false;
  r.row.who.comm = "\x1b[2J\n\xff";
  auto f = render(header(), {r}, {}, 80, 0, true);
  EXPECT_EQ(f[5],
            "      7 alice    \\x1b[2J\\x0a\\xff =>   100B    50B    25B   100B   500B        ▁ ");
  TopState st = in(GroupKind::remote);
  st.dns = true;
  st.name = [](uint16_t, const std::array<uint8_t, 16>&) -> std::optional<std::string> {
    return "evil\x1b]0;pwned\x07.example";
  };
  f = render(header(), hosts(), st, 80, 0, true);
  EXPECT_TRUE(f[5].starts_with(" evil\\x1b]0;pwned\\x07.exa~ (ptr) ")) << f[5];
  for (const auto& line : f)
    for (unsigned char c : line) EXPECT_GE(c, 0x20) << line;
}

}  // namespace

// With the wire layer, a fourth header line breaks the interfaces' bytes
// down (the last window's receipt); the rows below make room for it.
TEST(RenderTop, WireLineAndInterfacesView) {
  TopHeader h = header();
  h.wire.interfaces = {{.name = "eth0", .ifindex = 2, .wire = 2'000'000}};
  h.wire.total = {.wire = 2'000'000,
                  .process = 1'900'000,
                  .retrans = 20'000,
                  .non_socket = 40'000,
                  .no_process = 30'000,
                  .unexplained = 10'000};
  h.wire_seconds = 2;
  static const IfaceTraffic eth0{.ifindex = 2, .name = "eth0"},
      veth{.ifindex = 7, .name = "veth1a2b"};
  TopRow a = busy(), b = quiet();
  for (auto [r, i] : {std::pair{&a, &eth0}, std::pair{&b, &veth}}) {
    r->row.who = {};
    r->row.key = {.ifindex = i->ifindex};
    r->row.iface = i;
  }
  std::vector<TopRow> rows = {a, b, b, b};
  EXPECT_EQ(rows_room(12, h), 3u);
  EXPECT_EQ(rows_room(12, header()), 3u);
  EXPECT_EQ(rows_room(11, h), 2u);
  expect_frame(render_top(h, rows, in(GroupKind::interface), 100, 11, true), R"(
netacct top 15:40:01  fentry  interfaces  bytes/s  h: help                                          |
total  sent 1.50K/s  received 12.0K/s  (2s)   2 processes  3 connections                            |
cost   netacct cpu 0.4%  kernel 310 ns/event  evicted 0                                             |
wire   977K/s  proc 95%  retr 1%  fwd 0%  nonsock 2%  noproc 2%  unexpl 0.5%  (1 interface)         |
                                                                                                    |
 INTERFACE INDEX                                            2s    10s    40s   PEAK  TOTAL  LAST 40s|
>eth0 2                                              =>  1.50K  10.0K   512B  4.00K  1.00M    ▁▁▂▂▃▃|
>                                                    <=  12.0K  1.95M     0B  2.38M  3.00G  ▄▄▄▄▄▄▄█|
 veth1a2b 7                                          =>   100B    50B    25B   100B   500B        ▁ |
                                                     <=   900B   450B   300B   900B  8.79K        █ |
                                                                                                    |
)",
               100, 11);
}
