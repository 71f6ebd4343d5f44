// Kernel tests for netacct: real BPF, real traffic, exact byte counts.
//
// Ground truth. Every scenario runs its traffic in forked child processes: a
// server in network namespace A and a client in namespace B, joined by a veth
// pair (so nothing is loopback and nothing leaves the test's own network).
// Each child adds up the return values of its own send/recv-family syscalls,
// the only numbers netacct promises to count, and hands the sums to the test
// over a pipe when it is done. The test knows each child's pid from fork().
// netacct is started first and waited for (`netacct: ready` on stderr), the
// traffic runs, the children are reaped, then netacct gets SIGINT and prints
// the partial window. Summing tx_bytes/rx_bytes of a pid over every JSON
// report (processes[] and, separately, connections[]) must give exactly the
// child's own sums: not approximately, not at least. Other host traffic
// cannot disturb this, because the pids and the namespaces are ours alone.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "child.hpp"
#include "env.hpp"
#include "netacct.hpp"
#include "netns.hpp"
#include "report.hpp"
#include "traffic.hpp"

namespace kt {

using ConnFn = std::function<void(int fd, ChildCtx& ctx)>;

// A child that finished: its pid, comm and the counts it reported.
struct Finished {
  pid_t pid;
  std::string comm;
  Counts counts;
};

// A server child and the endpoint it listens on.
struct Server {
  Child child;
  Endpoint ep;
};

// Each process of `truth` is exactly its bytes in processes[] and in
// connections[], under its comm alone, and (if `ended`) marked ended. One
// failure naming the first wrong one, not one per process.
void expectEachExact(const NetacctRun& run, const std::vector<Finished>& truth, bool ended);

class KernelTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  const std::string& nsA() const { return net_->a(); }
  const std::string& nsB() const { return net_->b(); }
  static std::string hostA(int family) {
    return family == AF_INET6 ? NetnsPair::kA6 : NetnsPair::kA4;
  }
  // The second address of namespace A (another remote host, seen from B).
  static std::string hostA2(int family) {
    return family == AF_INET6 ? NetnsPair::kA6second : NetnsPair::kA4second;
  }
  static std::string hostB(int family) {
    return family == AF_INET6 ? NetnsPair::kB6 : NetnsPair::kB4;
  }

  // TCP server in `ns` listening on host:ephemeral; serves `connections`
  // accepted connections one after the other with `serve`.
  static Server tcpServer(const std::string& ns, const std::string& host, const std::string& comm,
                          ConnFn serve, int connections = 1);
  // TCP client in `ns`: connects to `to`, runs `drive`, closes.
  static Child tcpClient(const std::string& ns, const Endpoint& to, const std::string& comm,
                         ConnFn drive);
  // UDP server in `ns` bound to host:ephemeral, running `serve` on the socket.
  static Server udpServer(const std::string& ns, const std::string& host, const std::string& comm,
                          ConnFn serve);

  // `count` UDP echoes (1..1400 bytes) from a client in `client_ns` to a
  // server on `host` in `server_ns`, named `prefix`-usrv and `prefix`-ucli;
  // {server, client}, both finished.
  static std::pair<Finished, Finished> udpEchoes(const std::string& server_ns,
                                                 const std::string& host,
                                                 const std::string& client_ns, int count,
                                                 const std::string& prefix);

  // `procs` short-lived processes named `comm` in `client_ns`, each
  // exchanging one datagram with a UDP echo server on `host` in `server_ns`
  // (datagram i is i+1 bytes) and exiting, its socket still open unless
  // `close_socket`. Started in batches of `batch` (each child holds two
  // pipes); the last entry is the server. Every process finished.
  static std::vector<Finished> shortLivedUdpProcesses(const std::string& server_ns,
                                                      const std::string& host,
                                                      const std::string& client_ns,
                                                      const std::string& comm, int procs,
                                                      int batch, bool close_socket);

  // The common shape: server in A, client in B, over `family`.
  Server tcpServerA(int family, const std::string& comm, ConnFn serve, int connections = 1) {
    return tcpServer(nsA(), hostA(family), comm, std::move(serve), connections);
  }
  Child tcpClientB(const Endpoint& to, const std::string& comm, ConnFn drive) {
    return tcpClient(nsB(), to, comm, std::move(drive));
  }

 private:
  std::unique_ptr<NetnsPair> net_;
};

}  // namespace kt
