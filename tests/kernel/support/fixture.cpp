#include "fixture.hpp"

#include <unistd.h>

#include <algorithm>
#include <set>

namespace kt {

void expectEachExact(const NetacctRun& run, const std::vector<Finished>& truth, bool ended) {
  std::vector<std::string> wrong;
  for (const auto& t : truth) {
    const PidView v = viewOf(run, t.pid);
    if (v.processes.tx != t.counts.tx || v.processes.rx != t.counts.rx ||
        v.connections.tx != t.counts.tx || v.connections.rx != t.counts.rx ||
        v.comms != std::set<std::string>{t.comm} || (ended && !v.any_exited))
      wrong.push_back("expected tx " + std::to_string(t.counts.tx) + " rx " +
                      std::to_string(t.counts.rx) + (ended ? " ended" : "") + " comm " + t.comm +
                      "; " + describePid(run, t.pid));
  }
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " of " << truth.size()
                             << " processes misreported; first: "
                             << (wrong.empty() ? "" : wrong.front());
}

void KernelTest::SetUp() {
  KT_REQUIRE_KERNEL();
  net_ = std::make_unique<NetnsPair>();
}

void KernelTest::TearDown() { net_.reset(); }

Server KernelTest::tcpServer(const std::string& ns, const std::string& host,
                             const std::string& comm, ConnFn serve, int connections) {
  Child child(ns, comm, [host, serve, connections](ChildCtx& ctx) {
    int lfd = tcpListen(host);
    ctx.post(localEndpoint(lfd).port);  // the parent learns where to connect
    for (int i = 0; i < connections; ++i) {
      int fd = tcpAccept(lfd);
      serve(fd, ctx);
      close(fd);
    }
    close(lfd);
  });
  const auto port = static_cast<uint16_t>(child.nextPost().first);
  return Server{std::move(child), Endpoint{host, port}};
}

Child KernelTest::tcpClient(const std::string& ns, const Endpoint& to, const std::string& comm,
                            ConnFn drive) {
  return Child(ns, comm, [to, drive](ChildCtx& ctx) {
    int fd = tcpConnect(to);
    drive(fd, ctx);
    close(fd);
  });
}

Server KernelTest::udpServer(const std::string& ns, const std::string& host,
                             const std::string& comm, ConnFn serve) {
  Child child(ns, comm, [host, serve](ChildCtx& ctx) {
    int fd = udpBound(host);
    ctx.post(localEndpoint(fd).port);
    serve(fd, ctx);
    close(fd);
  });
  const auto port = static_cast<uint16_t>(child.nextPost().first);
  return Server{std::move(child), Endpoint{host, port}};
}

std::pair<Finished, Finished> KernelTest::udpEchoes(const std::string& server_ns,
                                                    const std::string& host,
                                                    const std::string& client_ns, int count,
                                                    const std::string& prefix) {
  auto server = udpServer(server_ns, host, prefix + "-usrv",
                          [count](int fd, ChildCtx& ctx) { ctx.counts += udpEcho(fd, count); });
  const Endpoint to = server.ep;
  Child client(client_ns, prefix + "-ucli", [to, count](ChildCtx& ctx) {
    int fd = udpSocket(AF_INET);
    ctx.counts += udpPingPong(fd, &to, count);
    close(fd);
  });
  Finished c{client.pid(), client.comm(), client.finish()};
  Finished s{server.child.pid(), server.child.comm(), server.child.finish()};
  return {std::move(s), std::move(c)};
}

std::vector<Finished> KernelTest::shortLivedUdpProcesses(const std::string& server_ns,
                                                         const std::string& host,
                                                         const std::string& client_ns,
                                                         const std::string& comm, int procs,
                                                         int batch, bool close_socket) {
  auto server = udpServer(server_ns, host, comm + "-srv",
                          [procs](int fd, ChildCtx& ctx) { ctx.counts += udpEcho(fd, procs); });
  const Endpoint to = server.ep;
  std::vector<Finished> done;
  for (int base = 0; base < procs; base += batch) {
    std::vector<Child> children;
    for (int i = base; i < std::min(procs, base + batch); ++i)
      children.emplace_back(client_ns, comm, [to, i, close_socket](ChildCtx& ctx) {
        int fd = udpSocket(AF_INET);
        ctx.counts += udpPingPong(fd, &to, 1, i);
        if (close_socket) close(fd);  // else exit closes it
      });
    for (auto& c : children) done.push_back({c.pid(), c.comm(), c.finish()});
  }
  done.push_back({server.child.pid(), server.child.comm(), server.child.finish()});
  return done;
}

}  // namespace kt
