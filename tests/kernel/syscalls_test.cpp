// Every way of moving TCP payload through a syscall: the send/recv family,
// sendfile, splice out of a socket, MSG_PEEK (must not count), io_uring.
// Ground truth: see support/fixture.hpp.
#include <sys/socket.h>
#include <unistd.h>

#include <ostream>
#include <string>

#include "support/fixture.hpp"

namespace kt {
namespace {

struct CallPair {
  SendCall send;
  RecvCall recv;
};

void PrintTo(const CallPair& c, std::ostream* os) { *os << name(c.send) << "/" << name(c.recv); }

class SyscallPairTest : public KernelTest, public ::testing::WithParamInterface<CallPair> {};
class SyscallTest : public KernelTest {};

// Both directions use the parameter's calls: client sends, server answers.
TEST_P(SyscallPairTest, BothDirectionsCountExactly) {
  const CallPair calls = GetParam();
  Netacct na;
  auto server = tcpServerA(AF_INET, "na-call-srv", [calls](int fd, ChildCtx& ctx) {
    ctx.counts.rx += recvToEof(fd, calls.recv, 50000);
    ctx.counts.tx += sendBytes(fd, 1 * MiB + 17, calls.send, 30000);
  });
  auto client = tcpClientB(server.ep, "na-call-cli", [calls](int fd, ChildCtx& ctx) {
    ctx.counts.tx += sendBytes(fd, 2 * MiB + 3, calls.send, 40000);
    shutdown(fd, SHUT_WR);
    ctx.counts.rx += recvToEof(fd, calls.recv, 20000);
  });
  const Counts s = server.child.finish(), c = client.finish();
  const NetacctRun run = na.stop();
  EXPECT_EQ(s.rx, c.tx);
  EXPECT_EQ(c.rx, s.tx);
  expectAccounted(run, server.child, s);
  expectAccounted(run, client, c);
  expectRemote(run, client.pid(), server.ep.str());
}

INSTANTIATE_TEST_SUITE_P(Calls, SyscallPairTest,
                         ::testing::Values(CallPair{SendCall::Write, RecvCall::Read},
                                           CallPair{SendCall::Send, RecvCall::Recv},
                                           CallPair{SendCall::SendTo, RecvCall::RecvFrom},
                                           CallPair{SendCall::SendMsg, RecvCall::RecvMsg},
                                           CallPair{SendCall::WriteV, RecvCall::ReadV}),
                         [](const auto& info) {
                           return std::string(name(info.param.send)) + "_" + name(info.param.recv);
                         });

TEST_F(SyscallTest, SendfileFromTempFile) {
  Netacct na;
  auto server = tcpServerA(AF_INET, "na-sf-srv",
                           [](int fd, ChildCtx& ctx) { ctx.counts.rx += recvToEof(fd); });
  auto client = tcpClientB(server.ep, "na-sf-cli", [](int fd, ChildCtx& ctx) {
    ctx.counts.tx += sendFileBytes(fd, 3 * MiB + 123);
  });
  const Counts s = server.child.finish(), c = client.finish();
  const NetacctRun run = na.stop();
  EXPECT_EQ(s.rx, c.tx);
  expectAccounted(run, server.child, s);
  expectAccounted(run, client, c);
  expectRemote(run, client.pid(), server.ep.str());
}

// splice(socket -> pipe) consumes socket data without recvmsg: the receive
// the sock_recv_length tracepoint and fexit tcp_recvmsg both miss.
TEST_F(SyscallTest, SpliceFromTcpSocketIntoPipe) {
  Netacct na;
  auto server = tcpServerA(AF_INET, "na-splice-srv",
                           [](int fd, ChildCtx& ctx) { ctx.counts.rx += spliceToEof(fd); });
  auto client = tcpClientB(server.ep, "na-splice-cli", [](int fd, ChildCtx& ctx) {
    ctx.counts.tx += sendBytes(fd, 3 * MiB + 99);
  });
  const Counts s = server.child.finish(), c = client.finish();
  const NetacctRun run = na.stop();
  EXPECT_EQ(s.rx, c.tx);
  expectAccounted(run, server.child, s);
  expectAccounted(run, client, c);
  expectRemote(run, client.pid(), server.ep.str());
}

TEST_F(SyscallTest, TcpPeekedBytesCountOnce) {
  Netacct na;
  auto server = tcpServerA(AF_INET, "na-peek-srv",
                           [](int fd, ChildCtx& ctx) { ctx.counts.rx += peekThenReadToEof(fd); });
  auto client = tcpClientB(server.ep, "na-peek-cli", [](int fd, ChildCtx& ctx) {
    ctx.counts.tx += sendBytes(fd, 1 * MiB + 5);
  });
  const Counts s = server.child.finish(), c = client.finish();
  const NetacctRun run = na.stop();
  EXPECT_EQ(s.rx, c.tx);
  expectAccounted(run, server.child, s);
  expectAccounted(run, client, c);
  expectRemote(run, client.pid(), server.ep.str());
}

// io_uring send/recv on both sides, both directions.
TEST_F(SyscallTest, IoUringSendRecv) {
  std::string why;
  if (!uringUsable(why)) KT_SKIP(why);  // a failure under CI=true
  Netacct na;
  auto server = tcpServerA(AF_INET, "na-uring-srv", [](int fd, ChildCtx& ctx) {
    ctx.counts.rx += uringRecvToEof(fd);
    ctx.counts.tx += uringSendBytes(fd, 1 * MiB + 9);
  });
  auto client = tcpClientB(server.ep, "na-uring-cli", [](int fd, ChildCtx& ctx) {
    ctx.counts.tx += uringSendBytes(fd, 2 * MiB + 1);
    shutdown(fd, SHUT_WR);
    ctx.counts.rx += uringRecvToEof(fd);
  });
  const Counts s = server.child.finish(), c = client.finish();
  const NetacctRun run = na.stop();
  EXPECT_EQ(s.rx, c.tx);
  EXPECT_EQ(c.rx, s.tx);
  expectAccounted(run, server.child, s);
  expectAccounted(run, client, c);
  expectRemote(run, client.pid(), server.ep.str());
}

}  // namespace
}  // namespace kt
