#include "fixture.hpp"

#include <unistd.h>

namespace kt {

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

}  // namespace kt
