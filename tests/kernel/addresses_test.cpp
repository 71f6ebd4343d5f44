// Addresses as the kernel uses them, from the real binary: a dual-stack
// server (an IPv6 socket bound to :: with IPV6_V6ONLY off, as python's
// http.server --bind :: and iperf3 -s are) talks IPv4 through
// ::ffff:a.b.c.d; netacct shows that traffic as the IPv4 it is and groups
// its remote host with native IPv4. Also: CSV --by connection carries netns.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sstream>

#include "support/fixture.hpp"

namespace kt {
namespace {

// Listening on [::]:0 for IPv4 and IPv6 alike.
int dualStackListen() {
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int off = 0;
  setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  sockaddr_in6 any{};
  any.sin6_family = AF_INET6;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0 || listen(fd, 8) != 0)
    throw std::runtime_error("dual-stack listen failed");
  return fd;
}

class Addresses : public KernelTest {};

TEST_F(Addresses, DualStackServerIsReportedAsIpv4) {
  Netacct na;
  Child server(nsA(), "na-dual-srv", [](ChildCtx& ctx) {
    int lfd = dualStackListen();
    ctx.post(localEndpoint(lfd).port);
    int fd = tcpAccept(lfd);
    ctx.counts.rx += recvToEof(fd);
    close(fd);
    close(lfd);
  });
  Endpoint ep{hostA(AF_INET), static_cast<uint16_t>(server.nextPost().first)};
  Child client = tcpClientB(ep, "na-dual-cli",
                            [](int fd, ChildCtx& ctx) { ctx.counts.tx += sendBytes(fd, 300001); });
  const Counts s = server.finish(), c = client.finish();
  const NetacctRun run = na.stop();
  EXPECT_EQ(s.rx, c.tx);
  expectAccounted(run, server, s);
  expectConnKind(run, server.pid(), "tcp", "ipv4");
  expectLocal(run, server.pid(), ep.str());
  expectRemoteHost(run, server.pid(), hostB(AF_INET));
  // Its client is one remote host, the same native IPv4 address the client
  // side reports, never ::ffff:...
  for (const auto& report : run.reports)
    for (const auto& r : report.at("remotes")) {
      std::string remote = r.at("remote");
      EXPECT_EQ(remote.find("::ffff:"), std::string::npos) << remote;
      if (remote == hostB(AF_INET)) {
        EXPECT_EQ(r.at("family"), "ipv4");
      }
    }
  EXPECT_NE(run.out.find("\"remote\":\"" + hostB(AF_INET) + "\""), std::string::npos) << run.out;
}

TEST_F(Addresses, CsvByConnectionHasNetns) {
  Netacct csv({.format = "csv", .extra = {"--by", "connection"}});
  auto server = tcpServerA(AF_INET, "na-ns-srv",
                           [](int fd, ChildCtx& ctx) { ctx.counts.rx += recvToEof(fd); });
  auto client = tcpClientB(server.ep, "na-ns-cli",
                           [](int fd, ChildCtx& ctx) { ctx.counts.tx += sendBytes(fd, 4321); });
  server.child.finish();
  client.finish();
  const NetacctRun run = csv.stop();
  std::istringstream lines(run.out);
  std::string header;
  std::getline(lines, header);
  EXPECT_EQ(header,
            "start,end,pid,comm,proto,family,local,remote,tx_bytes,rx_bytes,tx_rate,rx_rate,netns,"
            "tx_wire_bytes,rx_wire_bytes,retrans_bytes,remote_name,remote_name_source");
  std::string row, srv, cli;
  while (std::getline(lines, row)) {
    if (row.find(",na-ns-srv,") != std::string::npos) srv = row;
    if (row.find(",na-ns-cli,") != std::string::npos) cli = row;
  }
  ASSERT_FALSE(srv.empty()) << run.out;
  ASSERT_FALSE(cli.empty()) << run.out;
  auto netns_of = [](const std::string& r) {  // the 13th field
    size_t at = 0;
    for (int i = 0; i < 12; ++i) at = r.find(',', at) + 1;
    return r.substr(at, r.find(',', at) - at);
  };
  // Two namespaces: two different, nonzero namespace ids.
  EXPECT_NE(netns_of(srv), netns_of(cli));
  EXPECT_NE(netns_of(srv), "0");
  EXPECT_NE(netns_of(cli), "0");
}

}  // namespace
}  // namespace kt
