#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "output/format.hpp"
#include "output/report.hpp"

using namespace netacct;

namespace {

GroupRow process(uint32_t pid, std::string comm, uint32_t uid, uint64_t tx, uint64_t rx) {
  GroupRow row{.key = {.proc = {pid, 1}}, .tx = tx, .rx = rx};
  row.who = {.proc = row.key.proc, .comm = std::move(comm), .uid = uid};
  row.tx_rate = double(tx) / 5;
  row.rx_rate = double(rx) / 5;
  return row;
}

GroupRow connection(const GroupRow& owner, uint16_t family, uint16_t proto, Endpoint local,
                    Endpoint remote) {
  GroupRow row = owner;
  row.key.cookie = 7;
  row.conn = {
      .family = family, .proto = proto, .local = local, .remote = remote, .netns = 4026531840u};
  return row;
}

GroupRow remote(uint16_t family, std::array<uint8_t, 16> addr, uint64_t tx, uint64_t rx,
                uint64_t procs, uint64_t conns) {
  GroupRow row{.key = {.remote = {.family = family, .addr = addr}}, .tx = tx, .rx = rx};
  row.tx_rate = double(tx) / 5;
  row.rx_rate = double(rx) / 5;
  row.processes = procs;
  row.connections = conns;
  return row;
}

// Rows point at their interface; the report's Attributed keeps it alive.
const IfaceTraffic kEth0{.ifindex = 2,
                         .netns = 4026531840u,
                         .name = "eth0",
                         .tx_bytes = 2600,
                         .rx_bytes = 1100000,
                         .tx_packets = 30,
                         .rx_packets = 760};

GroupRow iface(const IfaceTraffic& i) {
  GroupRow row{.key = {.ifindex = i.ifindex}, .iface = &i, .tx = i.tx_bytes, .rx = i.rx_bytes};
  row.tx_rate = double(row.tx) / 5;
  row.rx_rate = double(row.rx) / 5;
  return row;
}

// curl's connection as the wire layer saw it on eth0.
const FlowTraffic kCurlFlow{
    .bytes = {.key = {.ifindex = 2,
                      .ethertype = 0x86dd,
                      .proto = IPPROTO_TCP,
                      .lport = 40000,
                      .rport = 443,
                      .laddr = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
                      .raddr = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5}},
              .tx_bytes = 2000,
              .rx_bytes = 1099000,
              .tx_packets = 25,
              .rx_packets = 750},
    .cls = FlowClass::process,
    .owner = ConnId{.cookie = 7, .proc = {4242, 1}},
    .iface = "eth0"};
// ARP on eth0: no process.
const FlowTraffic kArp{.bytes = {.key = {.ifindex = 2, .ethertype = 0x0806},
                                 .tx_bytes = 600,
                                 .rx_bytes = 1000,
                                 .tx_packets = 5,
                                 .rx_packets = 10},
                       .cls = FlowClass::non_socket,
                       .iface = "eth0"};

GroupRow flow(const FlowTraffic& f, std::string comm) {
  GroupRow row{.key = {.cookie = uint64_t(uintptr_t(&f))},
               .flow = &f,
               .tx = f.bytes.tx_bytes,
               .rx = f.bytes.rx_bytes};
  row.who.comm = std::move(comm);
  row.tx_rate = double(row.tx) / 5;
  row.rx_rate = double(row.rx) / 5;
  return row;
}

// A Kubernetes container (curl's) and a systemd service (nginx's).
const std::string kPodId(64, 'c');
const ContainerTraffic kPod{
    .cgroup_id = 9001,
    .name = std::make_shared<const CgroupName>(CgroupName{
        .path = "/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + kPodId + ".scope",
        .runtime = "containerd",
        .id = kPodId,
        .name = "shop/web-7d4/curl",
        .pod = "web-7d4",
        .namespace_ = "shop"}),
    .tx = 1536,
    .rx = 1048576,
    .wire = {.tx_wire = 2000, .rx_wire = 1099000, .retrans = 100},
    .ip = {.tx_bytes = 1650, .rx_bytes = 1088500, .tx_packets = 24, .rx_packets = 749},
    .processes = 1};
const ContainerTraffic kNginxUnit{
    .cgroup_id = 77,
    .name = std::make_shared<const CgroupName>(CgroupName{.path = "/system.slice/nginx.service",
                                                          .runtime = "systemd",
                                                          .id = "nginx.service",
                                                          .name = "nginx.service"}),
    .tx = 500,
    .rx = 20,
    .processes = 1};

GroupRow container(const ContainerTraffic& c) {
  GroupRow row{
      .key = {.cgroup = c.cgroup_id}, .container = &c, .tx = c.tx, .rx = c.rx, .wire = c.wire};
  row.tx_rate = double(row.tx) / 5;
  row.rx_rate = double(row.rx) / 5;
  return row;
}

const std::array<uint8_t, 16> kFd1 = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
const std::array<uint8_t, 16> kDb5 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};

Report fixed_report() {
  Report r{.start_wall = 1'700'000'000'123'000'000,  // 2023-11-14T22:13:20.123Z
           .end_wall = 1'700'000'005'123'000'000,
           .interval_s = 5,
           .host = "web1",
           .backend = "fentry",
           .tx_bytes = 2036,
           .rx_bytes = 1048596,
           .tx_rate = 407.2,
           .rx_rate = 209719.2,
           .loss = {.conns_evicted = 2, .insert_failed = 1}};
  GroupRow curl = process(4242, "curl", 1000, 1536, 1048576);
  curl.wire = {.tx_wire = 2000, .rx_wire = 1099000, .retrans = 100};
  curl.who.exe = "/usr/bin/curl";
  curl.who.user = "alice";
  curl.who.cgroup = "/user.slice/user-1000.slice/session-2.scope";
  curl.who.container_pid = 7;
  GroupRow nginx = process(17, "nginx", 33, 500, 20);
  nginx.who.cgroup = "/system.slice/nginx.service";
  nginx.who.container = "nginx.service";
  nginx.who.exited = true;
  r.tables = {
      {.kind = GroupKind::process, .rows = {curl, nginx}},
      {.kind = GroupKind::connection,
       .rows = {connection(curl, AF_INET6, IPPROTO_TCP, {kFd1, 40000}, {kDb5, 443}),
                connection(nginx, AF_INET, IPPROTO_UDP, {{10, 0, 0, 1}, 53},
                           {{10, 0, 0, 2}, 5353})}},
      {.kind = GroupKind::remote,
       .rows = {remote(AF_INET6, kDb5, 1536, 1048576, 1, 2),
                remote(AF_INET, {10, 0, 0, 2}, 500, 20, 1, 1)}},
      {.kind = GroupKind::interface, .rows = {iface(kEth0)}},
      {.kind = GroupKind::flow, .rows = {flow(kCurlFlow, "curl"), flow(kArp, "")}},
      {.kind = GroupKind::container, .rows = {container(kPod), container(kNginxUnit)}},
  };
  r.receipt.interfaces = {{.name = "eth0",
                           .ifindex = 2,
                           .wire = 1102600,
                           .process = 1100900,
                           .retrans = 100,
                           .non_socket = 1600}};
  r.receipt.total = r.receipt.interfaces[0];
  r.receipt.total.name = "";
  r.receipt.total.ifindex = 0;
  return r;
}

std::vector<GroupRow>& rows(Report& r, GroupKind kind);

// fixed_report() with remote names: curl's connection and remote host from
// its own answer, nginx's remote from another process's answer with
// control characters in the name.
Report named_report() {
  Report r = fixed_report();
  auto shop = std::make_shared<const NamedRemote>(
      NamedRemote{.name = "shop.example", .source = NameSource::answer});
  auto evil = std::make_shared<const NamedRemote>(
      NamedRemote{.name = "ev\x1b[2Jil\"name", .source = NameSource::namespace_});
  rows(r, GroupKind::connection)[0].name = shop;
  rows(r, GroupKind::remote)[0].name = shop;
  rows(r, GroupKind::remote)[1].name = evil;
  r.dns = {.enabled = true,
           .answers = 3,
           .malformed = 1,
           .lost = 2,
           .entries = 4,
           .expired = 5,
           .evicted = 6};
  return r;
}

std::vector<GroupRow>& rows(Report& r, GroupKind kind) {
  for (auto& t : r.tables)
    if (t.kind == kind) return t.rows;
  return r.tables.emplace_back(GroupTable{.kind = kind}).rows;
}
std::vector<GroupRow>& procs(Report& r) { return rows(r, GroupKind::process); }
std::vector<GroupRow>& conns(Report& r) { return rows(r, GroupKind::connection); }

std::string write(Format f, GroupKind by, const std::vector<Report>& reports) {
  std::ostringstream out;
  ReportWriter w(out, f, by);
  for (const auto& r : reports) w.write(r);
  return out.str();
}

// Trailing blanks are covered by their own test below.
std::string rstrip_lines(const std::string& s) {
  std::istringstream in(s);
  std::string line, out;
  while (std::getline(in, line)) {
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

const char* kTextHeader =
    "2023-11-14T22:13:20.123Z .. 2023-11-14T22:13:25.123Z  web1  backend fentry"
    "  sent 2.0 KiB (407 B/s)  received 1.0 MiB (204.8 KiB/s)\n";

}  // namespace

TEST(Output, JsonLineGolden) {
  EXPECT_EQ(
      to_json_line(fixed_report()),
      R"({"backend":"fentry","connections":[{"comm":"curl","family":"ipv6",)"
      R"("local":"[fd00::1]:40000","netns":4026531840,"pid":4242,"proto":"tcp",)"
      R"("remote":"[2001:db8::5]:443","remote_name":null,"remote_name_source":null,)"
      R"("retrans_bytes":100,"rx_bytes":1048576,)"
      R"("rx_rate":209715.2,"rx_wire_bytes":1099000,"tx_bytes":1536,"tx_rate":307.2,)"
      R"("tx_wire_bytes":2000},{"comm":"nginx","family":"ipv4","local":"10.0.0.1:53",)"
      R"("netns":4026531840,"pid":17,"proto":"udp","remote":"10.0.0.2:5353","remote_name":null,)"
      R"("remote_name_source":null,"retrans_bytes":0,)"
      R"("rx_bytes":20,"rx_rate":4.0,"rx_wire_bytes":0,"tx_bytes":500,"tx_rate":100.0,)"
      R"("tx_wire_bytes":0}],"containers":[{"cgroup":"/kubepods.slice/kubepods-pod1.slice/)"
      R"(cri-containerd-cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc.scope",)"
      R"("cgroup_id":9001,"id":"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",)"
      R"("name":"shop/web-7d4/curl","namespace":"shop","pod":"web-7d4","processes":1,)"
      R"("retrans_bytes":100,"runtime":"containerd","rx_bytes":1048576,"rx_ip_bytes":1088500,)"
      R"("rx_ip_packets":749,"rx_rate":209715.2,"rx_wire_bytes":1099000,"tx_bytes":1536,)"
      R"("tx_ip_bytes":1650,"tx_ip_packets":24,"tx_rate":307.2,"tx_wire_bytes":2000},)"
      R"({"cgroup":"/system.slice/nginx.service","cgroup_id":77,"id":"nginx.service",)"
      R"("name":"nginx.service","namespace":null,"pod":null,"processes":1,"retrans_bytes":0,)"
      R"("runtime":"systemd","rx_bytes":20,"rx_ip_bytes":0,"rx_ip_packets":0,"rx_rate":4.0,)"
      R"("rx_wire_bytes":0,"tx_bytes":500,"tx_ip_bytes":0,"tx_ip_packets":0,"tx_rate":100.0,)"
      R"("tx_wire_bytes":0}],)"
      R"("dns":{"answers":0,"enabled":false,"entries":0,"evicted":0,"expired":0,"lost":0,)"
      R"("malformed":0},"end":"2023-11-14T22:13:25.123Z","flows":[{"class":"process",)"
      R"("comm":"curl","family":"ipv6","forwarded":false,"interface":"eth0",)"
      R"("local":"[fd00::1]:40000","pid":4242,"proto":"tcp","remote":"[2001:db8::5]:443",)"
      R"("rx_packets":750,"rx_rate":219800.0,"rx_wire_bytes":1099000,"tx_packets":25,)"
      R"("tx_rate":400.0,"tx_wire_bytes":2000},{"class":"non_socket","comm":null,"family":null,)"
      R"("forwarded":false,"interface":"eth0","local":null,"pid":null,"proto":"arp",)"
      R"("remote":null,"rx_packets":10,"rx_rate":200.0,"rx_wire_bytes":1000,"tx_packets":5,)"
      R"("tx_rate":120.0,"tx_wire_bytes":600}],"host":"web1","interfaces":[{"index":2,)"
      R"("name":"eth0","netns":4026531840,"rx_packets":760,"rx_rate":220000.0,)"
      R"("rx_wire_bytes":1100000,"tx_packets":30,"tx_rate":520.0,"tx_wire_bytes":2600}],)"
      R"("interval_s":5.0,"loss":{"evicted_connections":2,"failed_inserts":1,)"
      R"("unattributed_rx_bytes":0,"unattributed_tx_bytes":0},)"
      R"("processes":[{"cgroup":"/user.slice/user-1000.slice/session-2.scope","comm":"curl",)"
      R"("container":null,"container_pid":7,"exe":"/usr/bin/curl","exited":false,"pid":4242,)"
      R"("retrans_bytes":100,)"
      R"("rx_bytes":1048576,"rx_rate":209715.2,"rx_wire_bytes":1099000,"tx_bytes":1536,)"
      R"("tx_rate":307.2,"tx_wire_bytes":2000,"uid":1000,"user":"alice"},)"
      R"({"cgroup":"/system.slice/nginx.service","comm":"nginx","container":"nginx.service",)"
      R"("container_pid":null,"exe":null,"exited":true,"pid":17,"retrans_bytes":0,"rx_bytes":20,)"
      R"("rx_rate":4.0,)"
      R"("rx_wire_bytes":0,"tx_bytes":500,"tx_rate":100.0,"tx_wire_bytes":0,"uid":33,)"
      R"("user":null}],"receipt":{"interfaces":[{"forwarded_bytes":0,"index":2,"name":"eth0",)"
      R"("no_process_bytes":0,"non_socket_bytes":1600,"process_bytes":1100900,)"
      R"("retrans_bytes":100,"unexplained_bytes":0,"wire_bytes":1102600}],)"
      R"("total":{"forwarded_bytes":0,"no_process_bytes":0,"non_socket_bytes":1600,)"
      R"("process_bytes":1100900,"retrans_bytes":100,"unexplained_bytes":0,)"
      R"("wire_bytes":1102600}},"remotes":[{"connections":2,"family":"ipv6","processes":1,)"
      R"("remote":"2001:db8::5","remote_name":null,"remote_name_source":null,)"
      R"("rx_bytes":1048576,"rx_rate":209715.2,"tx_bytes":1536,)"
      R"("tx_rate":307.2},{"connections":1,"family":"ipv4","processes":1,"remote":"10.0.0.2",)"
      R"("remote_name":null,"remote_name_source":null,)"
      R"("rx_bytes":20,"rx_rate":4.0,"tx_bytes":500,"tx_rate":100.0}],)"
      R"("schema":"netacct.report/1","start":"2023-11-14T22:13:20.123Z",)"
      R"("totals":{"rx_bytes":1048596,"tx_bytes":2036}})");
}

TEST(Output, JsonEmptyReportHasEmptyArraysAndNullCgroup) {
  Report r;
  r.start_wall = r.end_wall = 0;
  procs(r) = {process(1, "init", 0, 0, 0)};
  auto j = nlohmann::json::parse(to_json_line(r));
  EXPECT_EQ(j["connections"], nlohmann::json::array());
  EXPECT_EQ(j["remotes"], nlohmann::json::array());
  EXPECT_EQ(j["interfaces"], nlohmann::json::array());
  EXPECT_TRUE(j["processes"][0]["cgroup"].is_null());
  EXPECT_TRUE(j["processes"][0]["user"].is_null());
  EXPECT_EQ(j["start"], "1970-01-01T00:00:00.000Z");
}

TEST(Output, JsonWriterWritesOneLinePerReport) {
  Report r = fixed_report();
  EXPECT_EQ(write(Format::json, GroupKind::process, {r, r}),
            to_json_line(r) + "\n" + to_json_line(r) + "\n");
}

// Regression (fixed): comm is whatever the process set (prctl PR_SET_NAME) and the
// kernel cuts it at 15 bytes, possibly inside a UTF-8 sequence; exe and
// cgroup paths are raw bytes too. nlohmann's dump() throws type_error 316 on
// invalid UTF-8, so one such process aborts the whole JSON report.
TEST(Output, JsonSurvivesInvalidUtf8InComm) {
  Report r = fixed_report();
  procs(r)[0].who.comm = "caf\xc3";  // "café" cut mid-character
  conns(r)[0].who.comm = "caf\xc3";
  std::string line;
  ASSERT_NO_THROW(line = to_json_line(r));
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["processes"][0]["pid"], 4242);
}

TEST(Output, TextByProcessGolden) {
  std::string out = write(Format::text, GroupKind::process, {fixed_report()});
  EXPECT_EQ(
      rstrip_lines(out),
      std::string(kTextHeader) +
          " PID  USER   PROGRAM     SENT  RECEIVED   SEND/s       RECV/s\n"
          "4242  alice  curl     1.5 KiB   1.0 MiB  307 B/s  204.8 KiB/s\n"
          "  17  33     nginx      500 B      20 B  100 B/s        4 B/s  exited\n"
          "wire: 1.1 MiB on 1 interface = processes 1.0 MiB + retransmits 100 B + forwarded 0 B + "
          "non-socket 1.6 KiB + no process 0 B + unexplained 0 B\n"
          "loss: 2 connection entries evicted, 1 failed inserts\n"
          "\n");
}

TEST(Output, TextByConnectionGolden) {
  std::string out = write(Format::text, GroupKind::connection, {fixed_report()});
  EXPECT_EQ(
      out,
      std::string(kTextHeader) +
          " PID  PROGRAM  PROTO  LOCAL            REMOTE                SENT  RECEIVED  "
          " SEND/s       RECV/s\n"
          "4242  curl     tcp    [fd00::1]:40000  [2001:db8::5]:443  1.5 KiB   1.0 MiB  "
          "307 B/s  204.8 KiB/s\n"
          "  17  nginx    udp    10.0.0.1:53      10.0.0.2:5353        500 B      20 B  "
          "100 B/s        4 B/s\n"
          "wire: 1.1 MiB on 1 interface = processes 1.0 MiB + retransmits 100 B + forwarded 0 B + "
          "non-socket 1.6 KiB + no process 0 B + unexplained 0 B\n"
          "loss: 2 connection entries evicted, 1 failed inserts\n"
          "\n");
}

// Wire bytes per interface: text shows bytes and rates, CSV and JSON the
// packets too, under names apart from payload bytes.
TEST(Output, TextAndCsvByInterface) {
  EXPECT_EQ(
      rstrip_lines(write(Format::text, GroupKind::interface, {fixed_report()})),
      std::string(kTextHeader) +
          "INTERFACE  INDEX     SENT  RECEIVED   SEND/s       RECV/s\n"
          "eth0           2  2.5 KiB   1.0 MiB  520 B/s  214.8 KiB/s\n"
          "wire: 1.1 MiB on 1 interface = processes 1.0 MiB + retransmits 100 B + forwarded 0 B + "
          "non-socket 1.6 KiB + no process 0 B + unexplained 0 B\n"
          "loss: 2 connection entries evicted, 1 failed inserts\n"
          "\n");
  EXPECT_EQ(write(Format::csv, GroupKind::interface, {fixed_report()}),
            "start,end,name,index,netns,tx_wire_bytes,rx_wire_bytes,tx_packets,rx_packets,"
            "tx_rate,rx_rate\n"
            "2023-11-14T22:13:20.123Z,2023-11-14T22:13:25.123Z,eth0,2,4026531840,2600,1100000,30,"
            "760,520.0,220000.0\n");
}

TEST(Output, TextWithoutLossHasNoLossLine) {
  Report r = fixed_report();
  r.loss = {};
  r.receipt = {};  // no wire layer: no receipt line either
  std::string out = write(Format::text, GroupKind::connection, {r});
  EXPECT_EQ(out.find("loss:"), std::string::npos);
  EXPECT_TRUE(out.ends_with("  4 B/s\n\n")) << out;
}

// Regression (fixed): the empty last header cell (and the empty "exited"
// cell of live processes) still gets the two-space column separator, so
// those lines end in "  " although table() says the last column is not padded.
TEST(Output, TextByProcessHasNoTrailingBlanks) {
  std::istringstream in(write(Format::text, GroupKind::process, {fixed_report()}));
  std::string line;
  while (std::getline(in, line)) EXPECT_FALSE(line.ends_with(" ")) << "'" << line << "'";
}

TEST(Output, CsvByProcessHeaderOnceAcrossWrites) {
  Report second = fixed_report();
  second.start_wall += 5'000'000'000;
  second.end_wall += 5'000'000'000;
  procs(second).resize(1);
  std::string out = write(Format::csv, GroupKind::process, {fixed_report(), second});
  EXPECT_EQ(
      out,
      "start,end,pid,comm,exe,uid,user,cgroup,container,tx_bytes,rx_bytes,tx_rate,rx_rate,exited,"
      "tx_wire_bytes,rx_wire_bytes,retrans_bytes\n"
      "2023-11-14T22:13:20.123Z,2023-11-14T22:13:25.123Z,4242,curl,/usr/bin/curl,1000,alice,"
      "/user.slice/user-1000.slice/session-2.scope,,1536,1048576,307.2,209715.2,false,2000,"
      "1099000,100\n"
      "2023-11-14T22:13:20.123Z,2023-11-14T22:13:25.123Z,17,nginx,,33,,"
      "/system.slice/nginx.service,nginx.service,500,20,100.0,4.0,true,0,0,0\n"
      "2023-11-14T22:13:25.123Z,2023-11-14T22:13:30.123Z,4242,curl,/usr/bin/curl,1000,alice,"
      "/user.slice/user-1000.slice/session-2.scope,,1536,1048576,307.2,209715.2,false,2000,"
      "1099000,100\n");
}

TEST(Output, CsvByConnectionHeaderOnceAcrossWrites) {
  Report empty;
  std::string out = write(Format::csv, GroupKind::connection, {empty, named_report()});
  EXPECT_EQ(out,
            "start,end,pid,comm,proto,family,local,remote,tx_bytes,rx_bytes,tx_rate,rx_rate,netns,"
            "tx_wire_bytes,rx_wire_bytes,retrans_bytes,remote_name,remote_name_source\n"
            "2023-11-14T22:13:20.123Z,2023-11-14T22:13:25.123Z,4242,curl,tcp,ipv6,[fd00::1]:40000,"
            "[2001:db8::5]:443,1536,1048576,307.2,209715.2,4026531840,2000,1099000,100,"
            "shop.example,answer\n"
            "2023-11-14T22:13:20.123Z,2023-11-14T22:13:25.123Z,17,nginx,udp,ipv4,10.0.0.1:53,"
            "10.0.0.2:5353,500,20,100.0,4.0,4026531840,0,0,0,,\n");
}

TEST(Output, CsvQuotesCommasAndQuotes) {
  Report r = fixed_report();
  procs(r).resize(1);
  conns(r).resize(1);
  procs(r)[0].who.comm = conns(r)[0].who.comm = "a,b \"c\"";
  procs(r)[0].who.exe = "/opt/x,y";

  std::string procs = write(Format::csv, GroupKind::process, {r});
  EXPECT_NE(procs.find(",4242,\"a,b \"\"c\"\"\",\"/opt/x,y\",1000,"), std::string::npos) << procs;

  std::string conns = write(Format::csv, GroupKind::connection, {r});
  EXPECT_NE(conns.find(",4242,\"a,b \"\"c\"\"\",tcp,"), std::string::npos) << conns;
}

// A carriage return (any control character) in a name is written visibly:
// CSV readers and terminals never see it raw.
TEST(Output, CsvEscapesCarriageReturn) {
  Report r = fixed_report();
  procs(r).resize(1);
  procs(r)[0].who.comm = "a\rb";
  std::string out = write(Format::csv, GroupKind::process, {r});
  EXPECT_NE(out.find(",4242,a\\x0db,"), std::string::npos) << out;
}

// Names any process can set (prctl PR_SET_NAME), through every sink: no
// control character reaches the output raw, every row stays one line,
// invalid UTF-8 is escaped reversibly, JSON carries the escaped name exactly.
struct Hostile {
  const char* raw;
  const char* shown;  // text, CSV, top
  const char* json;   // the JSON string's value
};
const Hostile kHostile[] = {
    {"\x1b[31mred", "\\x1b[31mred", "\x1b[31mred"},
    {"tab\there", "tab\\x09here", "tab\there"},
    {"new\nline", "new\\x0aline", "new\nline"},
    {"bell\a", "bell\\x07", "bell\a"},
    {"del\x7f", "del\\x7f", "del\x7f"},
    {"c1\xc2\x9b"
     "2J",
     "c1\\xc2\\x9b"
     "2J",
     "c1\xc2\x9b"
     "2J"},                               // U+009B: a CSI
    {"caf\xc3", "caf\\xc3", "caf\\xc3"},  // cut inside a character
    {"\xff\xfe", "\\xff\\xfe", "\\xff\\xfe"},
    {"back\\slash", "back\\\\slash", "back\\\\slash"},  // escaped, so reversible
    {"caf\xc3\xa9", "caf\xc3\xa9", "caf\xc3\xa9"},      // valid UTF-8 stays
};

TEST(Output, HostileNamesInEverySink) {
  for (const auto& h : kHostile) {
    Report r = fixed_report();
    procs(r)[0].who.comm = h.raw;
    procs(r)[0].who.exe = std::string("/tmp/") + h.raw;
    conns(r)[0].who.comm = h.raw;
    rows(r, GroupKind::flow)[0].who.comm = h.raw;
    for (Format f : {Format::text, Format::csv})
      for (GroupKind by : {GroupKind::process, GroupKind::connection, GroupKind::flow}) {
        std::string out = write(f, by, {r});
        EXPECT_NE(out.find(h.shown), std::string::npos) << h.raw << " in " << out;
        for (unsigned char c : out) EXPECT_TRUE(c >= 0x20 || c == '\n') << h.raw << ": " << out;
        size_t lines = std::count(out.begin(), out.end(), '\n');
        // One line per row (two in each table); text adds the header, the
        // table's heading, the wire and loss lines and a blank line.
        EXPECT_EQ(lines, f == Format::csv ? 3u : 7u) << out;
      }
    auto j = nlohmann::json::parse(to_json_line(r));
    EXPECT_EQ(j["processes"][0]["comm"], std::string(h.json)) << h.raw;
    EXPECT_EQ(j["processes"][0]["exe"], std::string("/tmp/") + h.json) << h.raw;
    EXPECT_EQ(j["connections"][0]["comm"], std::string(h.json)) << h.raw;
  }
}

// Columns stay aligned whatever a name holds.
TEST(Output, TextColumnsAlignWithMultibyteAndEscapedNames) {
  Report r = fixed_report();
  procs(r)[0].who.comm = "caf\xc3\xa9";  // 4 cells, 5 bytes
  procs(r)[1].who.comm = "\x1b";         // 4 cells once escaped
  std::istringstream in(write(Format::text, GroupKind::process, {r}));
  std::string header, line1, line2, line3;
  std::getline(in, header);
  std::getline(in, line1);
  std::getline(in, line2);
  std::getline(in, line3);
  // Right-aligned numbers end in the same cell on every row.
  auto end_of = [](const std::string& line, const std::string& cell) {
    return display_width(line.substr(0, line.find(cell))) + display_width(cell);
  };
  EXPECT_EQ(end_of(line2, "1.5 KiB"), end_of(line1, "SENT")) << line1 << "\n" << line2;
  EXPECT_EQ(end_of(line3, "500 B"), end_of(line1, "SENT")) << line1 << "\n" << line3;
}

TEST(Output, TextByRemoteGolden) {
  std::string out = write(Format::text, GroupKind::remote, {fixed_report()});
  EXPECT_EQ(
      out,
      std::string(kTextHeader) +
          "REMOTE          SENT  RECEIVED   SEND/s       RECV/s  PROCESSES  CONNECTIONS\n"
          "2001:db8::5  1.5 KiB   1.0 MiB  307 B/s  204.8 KiB/s          1            2\n"
          "10.0.0.2       500 B      20 B  100 B/s        4 B/s          1            1\n"
          "wire: 1.1 MiB on 1 interface = processes 1.0 MiB + retransmits 100 B + forwarded 0 B + "
          "non-socket 1.6 KiB + no process 0 B + unexplained 0 B\n"
          "loss: 2 connection entries evicted, 1 failed inserts\n"
          "\n");
}

TEST(Output, CsvByRemote) {
  std::string out = write(Format::csv, GroupKind::remote, {named_report()});
  EXPECT_EQ(out,
            "start,end,remote,family,tx_bytes,rx_bytes,tx_rate,rx_rate,processes,connections,"
            "remote_name,remote_name_source\n"
            "2023-11-14T22:13:20.123Z,2023-11-14T22:13:25.123Z,2001:db8::5,ipv6,1536,1048576,"
            "307.2,209715.2,1,2,shop.example,answer\n"
            "2023-11-14T22:13:20.123Z,2023-11-14T22:13:25.123Z,10.0.0.2,ipv4,500,20,100.0,4.0,1,1,"
            "\"ev\\x1b[2Jil\"\"name\",namespace\n");
}

// Names: the text tables show a NAME column when some row has one, every
// control character of an answer escaped; JSON has name and source.
TEST(Output, TextByConnectionShowsNames) {
  std::string out = write(Format::text, GroupKind::connection, {named_report()});
  EXPECT_EQ(
      out,
      std::string(kTextHeader) +
          " PID  PROGRAM  PROTO  LOCAL            REMOTE                SENT  RECEIVED  "
          " SEND/s       RECV/s  NAME\n"
          "4242  curl     tcp    [fd00::1]:40000  [2001:db8::5]:443  1.5 KiB   1.0 MiB  "
          "307 B/s  204.8 KiB/s  shop.example\n"
          "  17  nginx    udp    10.0.0.1:53      10.0.0.2:5353        500 B      20 B  "
          "100 B/s        4 B/s\n"
          "wire: 1.1 MiB on 1 interface = processes 1.0 MiB + retransmits 100 B + forwarded 0 B + "
          "non-socket 1.6 KiB + no process 0 B + unexplained 0 B\n"
          "loss: 2 connection entries evicted, 1 failed inserts\n"
          "\n");
}

TEST(Output, TextByRemoteEscapesNames) {
  std::string out = write(Format::text, GroupKind::remote, {named_report()});
  EXPECT_NE(out.find("  1            1  ev\\x1b[2Jil\"name\n"), std::string::npos) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
}

TEST(Output, JsonNamesAndDnsCounters) {
  auto j = nlohmann::json::parse(to_json_line(named_report()));
  EXPECT_EQ(j["connections"][0]["remote_name"], "shop.example");
  EXPECT_EQ(j["connections"][0]["remote_name_source"], "answer");
  EXPECT_TRUE(j["connections"][1]["remote_name"].is_null());
  EXPECT_TRUE(j["connections"][1]["remote_name_source"].is_null());
  EXPECT_EQ(j["remotes"][1]["remote_name"], "ev\x1b[2Jil\"name");
  EXPECT_EQ(j["remotes"][1]["remote_name_source"], "namespace");
  EXPECT_EQ(j["dns"], nlohmann::json::parse(R"({"enabled":true,"answers":3,"malformed":1,)"
                                            R"("lost":2,"entries":4,"expired":5,"evicted":6})"));
}

// Every column of every grouping reaches the JSON under its name: a new
// grouping's columns need no writer code.
TEST(Output, JsonHasEveryGroupingsArrayWithItsColumns) {
  auto j = nlohmann::json::parse(to_json_line(fixed_report()));
  for (const auto& g : groupings()) {
    ASSERT_TRUE(j[g.plural].is_array()) << g.plural;
    ASSERT_FALSE(j[g.plural].empty()) << g.plural;
    for (const auto& c : g.columns) {
      if (c.sinks & kJson) {
        EXPECT_TRUE(j[g.plural][0].contains(c.name)) << g.plural << "." << c.name;
      }
    }
  }
}
