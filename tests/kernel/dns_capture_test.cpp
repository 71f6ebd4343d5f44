// Remote names, smoke test of the capture path (kernel program -> ring ->
// c-ares -> cache -> report JSON): a DNS server child in namespace A answers
// one A query (an answer built by ldns) on A's address, port 53; a client in
// B asks it for a name, then opens a TCP connection to the address it got.
// The client's connection must carry the name it asked for, source
// "answer", and the report's dns counters the one answer. With
// --no-dns-names the same exchange names nothing and dns.enabled is false.
// The full behaviour (CNAME chains, namespaces, expiry, floods) is
// dns_names_test.cpp's.
// stdbool.h first: without it ldns/common.h defines bool, true and false
// as macros, which break the C++ headers after it.
#include <stdbool.h>
// clang-format off
#include <ldns/ldns.h>
// clang-format on
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "support/fixture.hpp"

namespace kt {
namespace {

constexpr const char* kName = "na-smoke.example.";

// Answers one query on `at` (port 53) with `name` A `addr`, TTL 300.
void answerOne(const Endpoint& at, const std::string& addr, ChildCtx& ctx) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_storage ss;
  socklen_t len = at.fill(ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) throw std::runtime_error("bind :53");
  setRecvTimeout(fd, 10000);
  ctx.post(1);
  uint8_t buf[512];
  sockaddr_storage from;
  socklen_t from_len = sizeof from;
  ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
  if (n <= 0) throw std::runtime_error("no query");
  ctx.counts.rx += uint64_t(n);
  ldns_pkt* query = nullptr;
  if (ldns_wire2pkt(&query, buf, size_t(n)) != LDNS_STATUS_OK) throw std::runtime_error("query");
  ldns_pkt* answer = ldns_pkt_clone(query);
  ldns_pkt_set_qr(answer, true);
  ldns_pkt_set_aa(answer, true);
  ldns_rr* rr = nullptr;
  std::string text = std::string(kName) + " 300 IN A " + addr;
  if (ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr) != LDNS_STATUS_OK)
    throw std::runtime_error("rr");
  ldns_pkt_push_rr(answer, LDNS_SECTION_ANSWER, rr);
  uint8_t* wire = nullptr;
  size_t wire_len = 0;
  if (ldns_pkt2wire(&wire, answer, &wire_len) != LDNS_STATUS_OK) throw std::runtime_error("wire");
  ssize_t sent = sendto(fd, wire, wire_len, 0, reinterpret_cast<sockaddr*>(&from), from_len);
  if (sent != ssize_t(wire_len)) throw std::runtime_error("send answer");
  ctx.counts.tx += uint64_t(sent);
  free(wire);
  ldns_pkt_free(answer);
  ldns_pkt_free(query);
  close(fd);
}

// Asks `server` for kName (type A) over a connected UDP socket; the answer
// is read whole.
void ask(const Endpoint& server, ChildCtx& ctx) {
  ldns_pkt* q = nullptr;
  if (ldns_pkt_query_new_frm_str(&q, kName, LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD) !=
      LDNS_STATUS_OK)
    throw std::runtime_error("query");
  ldns_pkt_set_id(q, 4242);
  uint8_t* wire = nullptr;
  size_t wire_len = 0;
  if (ldns_pkt2wire(&wire, q, &wire_len) != LDNS_STATUS_OK) throw std::runtime_error("wire");
  int fd = udpSocket(AF_INET);
  sockaddr_storage ss;
  socklen_t len = server.fill(ss);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) throw std::runtime_error("connect");
  ctx.counts.tx += uint64_t(send(fd, wire, wire_len, 0));
  setRecvTimeout(fd, 10000);
  uint8_t buf[512];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n <= 0) throw std::runtime_error("no answer");
  ctx.counts.rx += uint64_t(n);
  free(wire);
  ldns_pkt_free(q);
  close(fd);
}

class DnsCaptureTest : public KernelTest {
 protected:
  // The exchange: the answer, then a TCP connection to the address.
  NetacctRun exchange(NetacctOptions opts) {
    Netacct na(opts);
    const Endpoint dns{hostA(AF_INET), 53};
    Child server(nsA(), "na-dnsc-srv", [dns](ChildCtx& ctx) { answerOne(dns, dns.host, ctx); });
    server.nextPost();
    auto tcp = tcpServerA(AF_INET, "na-dnsc-tcp",
                          [](int fd, ChildCtx& ctx) { ctx.counts.rx += recvToEof(fd); });
    const Endpoint to = tcp.ep;
    Child client(nsB(), "na-dnsc-cli", [dns, to](ChildCtx& ctx) {
      ask(dns, ctx);
      int fd = tcpConnect(to);
      ctx.counts.tx += sendBytes(fd, 1000);
      close(fd);
    });
    client_pid_ = client.pid();
    client.finish();
    server.finish();
    tcp.child.finish();
    return na.stop();
  }
  pid_t client_pid_ = 0;
};

TEST_F(DnsCaptureTest, AnswerNamesTheConnectionOfTheProcessThatAsked) {
  NetacctRun run = exchange({});
  ASSERT_TRUE(run.exitedZero()) << run.describe();
  bool named = false;
  for (const auto& conn : viewOf(run, client_pid_).conns) {
    if (conn.value("proto", "") != "tcp") continue;
    EXPECT_EQ(conn["remote_name"], "na-smoke.example") << conn.dump();
    EXPECT_EQ(conn["remote_name_source"], "answer") << conn.dump();
    named = true;
  }
  EXPECT_TRUE(named) << "no TCP connection of the client\n" << run.describe();
  uint64_t answers = 0;
  for (const auto& r : run.reports) {
    EXPECT_EQ(r["dns"]["enabled"], true);
    EXPECT_EQ(r["dns"]["malformed"], 0);
    answers = std::max<uint64_t>(answers, r["dns"]["answers"].get<uint64_t>());
  }
  EXPECT_GE(answers, 1u) << run.describe();
}

TEST_F(DnsCaptureTest, NoDnsNamesCapturesNothing) {
  NetacctRun run = exchange({.extra = {"--no-dns-names"}});
  ASSERT_TRUE(run.exitedZero()) << run.describe();
  for (const auto& conn : viewOf(run, client_pid_).conns) {
    EXPECT_TRUE(conn["remote_name"].is_null()) << conn.dump();
    EXPECT_TRUE(conn["remote_name_source"].is_null()) << conn.dump();
  }
  for (const auto& r : run.reports) {
    EXPECT_EQ(r["dns"]["enabled"], false);
    EXPECT_EQ(r["dns"]["answers"], 0);
  }
}

}  // namespace
}  // namespace kt
