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

}  // namespace kt
