#include "traffic.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include "env.hpp"

namespace kt {
namespace {

const int kIoTimeoutMs = scaledSeconds(10) * 1000;

[[noreturn]] void fail(const std::string& what, int err = errno) {
  throw std::system_error(err, std::generic_category(), what);
}

// A shared, patterned source buffer: content does not matter for counting.
const char* pattern(size_t len) {
  static const std::vector<char> buf = [] {
    std::vector<char> b(2 * MiB);
    for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<char>('a' + i % 26);
    return b;
  }();
  if (len > buf.size()) throw std::invalid_argument("pattern buffer too small");
  return buf.data();
}

void setTimeout(int fd, int opt, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv) != 0) fail("setsockopt timeout");
}

int newSocket(int family, int type, int protocol = 0) {
  int fd = socket(family, type | SOCK_CLOEXEC, protocol);
  if (fd < 0) fail("socket");
  setTimeout(fd, SO_RCVTIMEO, kIoTimeoutMs);
  setTimeout(fd, SO_SNDTIMEO, kIoTimeoutMs);  // also bounds connect()
  return fd;
}

void bindTo(int fd, const Endpoint& at) {
  sockaddr_storage ss;
  socklen_t len = at.fill(ss);
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) fail("bind " + at.str());
}
void bindTo(int fd, const std::string& host) { bindTo(fd, Endpoint{host, 0}); }

Endpoint toEndpoint(const sockaddr_storage& ss) {
  char text[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return {text, ntohs(in->sin_port)};
  }
  auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
  inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
  return {text, ntohs(in6->sin6_port)};
}

ssize_t retryEintr(auto call) {
  ssize_t n;
  while ((n = call()) < 0 && errno == EINTR) {
  }
  return n;
}

void waitFor(int fd, short events) {
  pollfd p{fd, events, 0};
  int rc = poll(&p, 1, kIoTimeoutMs);
  if (rc == 0) throw std::runtime_error("socket not ready within timeout");
  if (rc < 0 && errno != EINTR) fail("poll");
}

}  // namespace

// ---- endpoints and sockets ----

int Endpoint::family() const { return host.find(':') == std::string::npos ? AF_INET : AF_INET6; }

std::string Endpoint::str() const {
  std::string p = ":" + std::to_string(port);
  return family() == AF_INET6 ? "[" + host + "]" + p : host + p;
}

socklen_t Endpoint::fill(sockaddr_storage& ss) const {
  std::memset(&ss, 0, sizeof ss);
  if (family() == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &in->sin_addr) != 1) throw std::invalid_argument(host);
    return sizeof *in;
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) != 1) throw std::invalid_argument(host);
  return sizeof *in6;
}

Endpoint localEndpoint(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) fail("getsockname");
  return toEndpoint(ss);
}

Endpoint peerEndpoint(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) fail("getpeername");
  return toEndpoint(ss);
}

int tcpListen(const std::string& host) { return tcpListenOn(Endpoint{host, 0}); }

int tcpListenOn(const Endpoint& at) { return streamListenOn(at, IPPROTO_TCP); }

int streamListenOn(const Endpoint& at, int protocol) {
  int fd = newSocket(at.family(), SOCK_STREAM, protocol);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bindTo(fd, at);
  if (listen(fd, 512) != 0) fail("listen");
  return fd;
}

int tcpConnectFrom(const Endpoint& from, const Endpoint& to) {
  int fd = newSocket(to.family(), SOCK_STREAM);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  bindTo(fd, from);
  sockaddr_storage ss;
  socklen_t len = to.fill(ss);
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) fail("connect " + to.str());
  return fd;
}

int tcpConnect(const Endpoint& to) { return streamConnect(to, IPPROTO_TCP); }

int streamConnect(const Endpoint& to, int protocol) {
  int fd = newSocket(to.family(), SOCK_STREAM, protocol);
  sockaddr_storage ss;
  socklen_t len = to.fill(ss);
  if (retryEintr([&] { return connect(fd, reinterpret_cast<sockaddr*>(&ss), len); }) != 0)
    fail("connect " + to.str());
  return fd;
}

int tcpAccept(int listen_fd) {
  waitFor(listen_fd, POLLIN);
  int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) fail("accept");
  setTimeout(fd, SO_RCVTIMEO, kIoTimeoutMs);
  setTimeout(fd, SO_SNDTIMEO, kIoTimeoutMs);
  return fd;
}

int udpBound(const std::string& host) {
  int fd = newSocket(Endpoint{host, 0}.family(), SOCK_DGRAM);
  bindTo(fd, host);
  return fd;
}

int udpSocket(int family) { return newSocket(family, SOCK_DGRAM); }

void setRecvTimeout(int fd, int ms) { setTimeout(fd, SO_RCVTIMEO, ms); }

void setNonblocking(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) fail("fcntl O_NONBLOCK");
}

// ---- the syscall variants ----

const char* name(SendCall c) {
  switch (c) {
    case SendCall::Write:
      return "write";
    case SendCall::Send:
      return "send";
    case SendCall::SendTo:
      return "sendto";
    case SendCall::SendMsg:
      return "sendmsg";
    case SendCall::WriteV:
      return "writev";
  }
  return "?";
}

const char* name(RecvCall c) {
  switch (c) {
    case RecvCall::Read:
      return "read";
    case RecvCall::Recv:
      return "recv";
    case RecvCall::RecvFrom:
      return "recvfrom";
    case RecvCall::RecvMsg:
      return "recvmsg";
    case RecvCall::ReadV:
      return "readv";
  }
  return "?";
}

ssize_t sendOnce(int fd, const void* buf, size_t len, SendCall how) {
  auto* p = static_cast<char*>(const_cast<void*>(buf));
  // Vector calls split the buffer, so the kernel has to sum segments.
  iovec iov[3] = {{p, len / 3}, {p + len / 3, len / 3}, {p + 2 * (len / 3), len - 2 * (len / 3)}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 3;
  return retryEintr([&]() -> ssize_t {
    switch (how) {
      case SendCall::Write:
        return write(fd, buf, len);
      case SendCall::Send:
        return send(fd, buf, len, MSG_NOSIGNAL);
      case SendCall::SendTo:
        return sendto(fd, buf, len, MSG_NOSIGNAL, nullptr, 0);
      case SendCall::SendMsg:
        return sendmsg(fd, &msg, MSG_NOSIGNAL);
      case SendCall::WriteV:
        return writev(fd, iov, 3);
    }
    return -1;
  });
}

ssize_t recvOnce(int fd, void* buf, size_t len, RecvCall how) {
  auto* p = static_cast<char*>(buf);
  iovec iov[3] = {{p, len / 3}, {p + len / 3, len / 3}, {p + 2 * (len / 3), len - 2 * (len / 3)}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 3;
  sockaddr_storage from{};
  socklen_t fromlen = sizeof from;
  return retryEintr([&]() -> ssize_t {
    switch (how) {
      case RecvCall::Read:
        return read(fd, buf, len);
      case RecvCall::Recv:
        return recv(fd, buf, len, 0);
      case RecvCall::RecvFrom:
        return recvfrom(fd, buf, len, 0, reinterpret_cast<sockaddr*>(&from), &fromlen);
      case RecvCall::RecvMsg:
        return recvmsg(fd, &msg, 0);
      case RecvCall::ReadV:
        return readv(fd, iov, 3);
    }
    return -1;
  });
}

// ---- stream helpers ----

uint64_t sendBytes(int fd, uint64_t total, SendCall how, size_t chunk) {
  const char* src = pattern(chunk);
  uint64_t sent = 0;
  while (sent < total) {
    ssize_t n = sendOnce(fd, src, std::min<uint64_t>(chunk, total - sent), how);
    if (n < 0) fail(std::string(name(how)));
    sent += n;
  }
  return sent;
}

uint64_t recvToEof(int fd, RecvCall how, size_t chunk) {
  std::vector<char> buf(chunk);
  uint64_t got = 0;
  for (;;) {
    ssize_t n = recvOnce(fd, buf.data(), buf.size(), how);
    if (n < 0) fail(std::string(name(how)));
    if (n == 0) return got;
    got += n;
  }
}

uint64_t recvExactly(int fd, uint64_t total, size_t chunk) {
  std::vector<char> buf(chunk);
  uint64_t got = 0;
  while (got < total) {
    ssize_t n =
        recvOnce(fd, buf.data(), std::min<uint64_t>(buf.size(), total - got), RecvCall::Read);
    if (n < 0) fail("read");
    if (n == 0)
      throw std::runtime_error("end of stream after " + std::to_string(got) + " of " +
                               std::to_string(total) + " bytes");
    got += n;
  }
  return got;
}

uint64_t sendNonblocking(int fd, uint64_t total, size_t chunk, NonblockingStats* stats) {
  setNonblocking(fd);
  const char* src = pattern(chunk);
  uint64_t sent = 0;
  while (sent < total) {
    const size_t asked = std::min<uint64_t>(chunk, total - sent);
    ssize_t n = retryEintr([&] { return send(fd, src, asked, MSG_NOSIGNAL); });
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (stats) ++stats->would_block;
      waitFor(fd, POLLOUT);
      continue;
    }
    if (n < 0) fail("send (nonblocking)");
    if (stats && size_t(n) < asked) ++stats->short_sends;
    sent += n;  // often less than asked: the count netacct must use
  }
  return sent;
}

uint64_t sendFileBytes(int sock, uint64_t total) {
  int file = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (file < 0) {
    char path[] = "/tmp/netacct-kt-XXXXXX";
    file = mkstemp(path);
    if (file < 0) fail("mkstemp");
    unlink(path);
  }
  for (uint64_t off = 0; off < total;) {
    size_t len = std::min<uint64_t>(MiB, total - off);
    ssize_t n = pwrite(file, pattern(len), len, static_cast<off_t>(off));
    if (n <= 0) fail("pwrite temp file");
    off += n;
  }
  off_t offset = 0;
  uint64_t sent = 0;
  while (sent < total) {
    ssize_t n = retryEintr([&] { return sendfile(sock, file, &offset, total - sent); });
    if (n <= 0) fail("sendfile");
    sent += n;
  }
  close(file);
  return sent;
}

uint64_t spliceToEof(int sock) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) fail("pipe");
  std::vector<char> buf(64 * KiB);
  uint64_t moved = 0;
  for (;;) {
    ssize_t n =
        retryEintr([&] { return splice(sock, nullptr, p[1], nullptr, 64 * KiB, SPLICE_F_MOVE); });
    if (n < 0) fail("splice socket->pipe");
    if (n == 0) break;
    moved += n;
    for (ssize_t left = n; left > 0;) {  // drain the pipe; pipe reads are not socket bytes
      ssize_t r = read(p[0], buf.data(), std::min<size_t>(left, buf.size()));
      if (r <= 0) fail("read pipe");
      left -= r;
    }
  }
  close(p[0]);
  close(p[1]);
  return moved;
}

uint64_t peekThenReadToEof(int sock) {
  std::vector<char> buf(32 * KiB);
  uint64_t got = 0;
  for (;;) {
    ssize_t peeked = retryEintr([&] { return recv(sock, buf.data(), 16 * KiB, MSG_PEEK); });
    if (peeked < 0) fail("recv MSG_PEEK");
    if (peeked == 0) return got;
    for (ssize_t left = peeked; left > 0;) {
      ssize_t n = retryEintr([&] { return recv(sock, buf.data(), left, 0); });
      if (n <= 0) fail("recv after peek");
      got += n;
      left -= n;
    }
  }
}

Counts duplexExchange(int fd, uint64_t total) {
  Counts c;
  std::exception_ptr send_error;
  std::thread sender([&] {
    try {
      c.tx = sendBytes(fd, total);
      shutdown(fd, SHUT_WR);
    } catch (...) {
      send_error = std::current_exception();
      shutdown(fd, SHUT_RDWR);  // unblocks the reader
    }
  });
  std::exception_ptr recv_error;
  try {
    c.rx = recvToEof(fd);
  } catch (...) {
    recv_error = std::current_exception();
    shutdown(fd, SHUT_RDWR);  // unblocks the sender
  }
  sender.join();
  if (send_error) std::rethrow_exception(send_error);
  if (recv_error) std::rethrow_exception(recv_error);
  return c;
}

// ---- SCTP ----

bool sctpUsable(int family, std::string& why) {
  int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_SCTP);
  if (fd < 0) {
    why = std::string("this kernel has no SCTP (socket(") +
          (family == AF_INET6 ? "AF_INET6" : "AF_INET") +
          ", SOCK_STREAM, IPPROTO_SCTP): " + std::strerror(errno) +
          "; CONFIG_IP_SCTP unset or the sctp module not loadable)";
    return false;
  }
  close(fd);
  return true;
}

// ---- io_uring ----

namespace {

class Ring {
 public:
  Ring() {
    int rc = io_uring_queue_init(8, &ring_, 0);
    if (rc < 0) fail("io_uring_queue_init", -rc);
  }
  ~Ring() { io_uring_queue_exit(&ring_); }
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  // Submits one request prepared by `prep` and returns its cqe->res.
  template <typename Prep>
  int run(Prep prep) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
    if (sqe == nullptr) throw std::runtime_error("io_uring: no sqe");
    prep(sqe);
    int rc = io_uring_submit_and_wait(&ring_, 1);
    if (rc < 0) fail("io_uring_submit_and_wait", -rc);
    io_uring_cqe* cqe = nullptr;
    rc = io_uring_wait_cqe(&ring_, &cqe);
    if (rc < 0) fail("io_uring_wait_cqe", -rc);
    int res = cqe->res;
    io_uring_cqe_seen(&ring_, cqe);
    return res;
  }

 private:
  io_uring ring_{};
};

}  // namespace

bool uringUsable(std::string& why) {
  io_uring ring{};
  int rc = io_uring_queue_init(2, &ring, 0);
  if (rc < 0) {
    why = std::string("io_uring unavailable: ") + std::strerror(-rc);
    return false;
  }
  io_uring_queue_exit(&ring);
  return true;
}

uint64_t uringSendBytes(int fd, uint64_t total, size_t chunk) {
  Ring ring;
  const char* src = pattern(chunk);
  uint64_t sent = 0;
  while (sent < total) {
    size_t len = std::min<uint64_t>(chunk, total - sent);
    int res = ring.run([&](io_uring_sqe* s) { io_uring_prep_send(s, fd, src, len, MSG_NOSIGNAL); });
    if (res == -EINTR || res == -EAGAIN) continue;
    if (res < 0) fail("io_uring send", -res);
    sent += res;
  }
  return sent;
}

uint64_t uringRecvToEof(int fd, size_t chunk) {
  Ring ring;
  std::vector<char> buf(chunk);
  uint64_t got = 0;
  for (;;) {
    int res =
        ring.run([&](io_uring_sqe* s) { io_uring_prep_recv(s, fd, buf.data(), buf.size(), 0); });
    if (res == -EINTR || res == -EAGAIN) continue;
    if (res < 0) fail("io_uring recv", -res);
    if (res == 0) return got;
    got += res;
  }
}

// ---- UDP ----

size_t datagramSize(int i) { return 1 + (static_cast<size_t>(i) * 7919) % 1400; }

uint64_t sendFromFreshSockets(const Endpoint& to, int first, int count) {
  sockaddr_storage ss;
  const socklen_t len = to.fill(ss);
  char buf[8] = {};
  uint64_t sent = 0;
  for (int i = first; i < first + count; ++i) {
    const int fd = socket(to.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket");
    const ssize_t n = sendto(fd, buf, size_t(1 + i % 8), 0, reinterpret_cast<sockaddr*>(&ss), len);
    if (n <= 0) fail("sendto");
    sent += uint64_t(n);
    close(fd);
  }
  return sent;
}

Counts udpEcho(int fd, int count, bool peek) {
  std::vector<char> buf(64 * KiB);
  Counts c;
  for (int i = 0; i < count; ++i) {
    sockaddr_storage from{};
    socklen_t fromlen = sizeof from;
    auto* sa = reinterpret_cast<sockaddr*>(&from);
    if (peek && retryEintr([&] { return recv(fd, buf.data(), buf.size(), MSG_PEEK); }) < 0)
      fail("udp recv MSG_PEEK");
    ssize_t n = retryEintr([&] { return recvfrom(fd, buf.data(), buf.size(), 0, sa, &fromlen); });
    if (n < 0) fail("udp recvfrom");
    c.rx += n;
    ssize_t m = retryEintr([&] { return sendto(fd, buf.data(), n, 0, sa, fromlen); });
    if (m < 0) fail("udp sendto reply");
    c.tx += m;
  }
  return c;
}

Counts udpPingPong(int fd, const Endpoint* to, int count, int first) {
  sockaddr_storage ss{};
  socklen_t len = to ? to->fill(ss) : 0;
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  std::vector<char> buf(64 * KiB);
  Counts c;
  for (int i = 0; i < count; ++i) {
    const size_t size = datagramSize(first + i);
    ssize_t n = retryEintr([&] {
      return to ? sendto(fd, pattern(size), size, 0, sa, len) : send(fd, pattern(size), size, 0);
    });
    if (n < 0) fail("udp send");
    c.tx += n;
    n = retryEintr([&] {
      return to ? recvfrom(fd, buf.data(), buf.size(), 0, nullptr, nullptr)
                : recv(fd, buf.data(), buf.size(), 0);
    });
    if (n < 0) fail("udp recv reply");
    c.rx += n;
  }
  return c;
}

namespace {

// Storage for one batch of datagrams for sendmmsg/recvmmsg.
struct Batch {
  explicit Batch(int n) : msgs(n), iovs(n), names(n), bufs(n, std::vector<char>(2048)) {
    for (int k = 0; k < n; ++k) {
      iovs[k] = {bufs[k].data(), bufs[k].size()};
      msgs[k].msg_hdr.msg_iov = &iovs[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
      msgs[k].msg_hdr.msg_name = &names[k];
      msgs[k].msg_hdr.msg_namelen = sizeof names[k];
    }
  }
  std::vector<mmsghdr> msgs;
  std::vector<iovec> iovs;
  std::vector<sockaddr_storage> names;
  std::vector<std::vector<char>> bufs;
};

// recvmmsg until n datagrams arrived; returns their bytes.
uint64_t recvBatch(int fd, Batch& b, int n) {
  uint64_t bytes = 0;
  for (int got = 0; got < n;) {
    int r = static_cast<int>(
        retryEintr([&] { return recvmmsg(fd, b.msgs.data() + got, n - got, 0, nullptr); }));
    if (r <= 0) fail("recvmmsg");
    for (int k = got; k < got + r; ++k) bytes += b.msgs[k].msg_len;
    got += r;
  }
  return bytes;
}

// sendmmsg until n datagrams left; returns their bytes.
uint64_t sendBatch(int fd, Batch& b, int n) {
  uint64_t bytes = 0;
  for (int sent = 0; sent < n;) {
    int r = static_cast<int>(
        retryEintr([&] { return sendmmsg(fd, b.msgs.data() + sent, n - sent, 0); }));
    if (r <= 0) fail("sendmmsg");
    for (int k = sent; k < sent + r; ++k) bytes += b.msgs[k].msg_len;
    sent += r;
  }
  return bytes;
}

}  // namespace

Counts udpEchoMmsg(int fd, int count, int batch) {
  Counts c;
  for (int i = 0; i < count; i += batch) {
    const int n = std::min(batch, count - i);
    Batch b(n);
    c.rx += recvBatch(fd, b, n);
    for (int k = 0; k < n; ++k)
      b.iovs[k].iov_len = b.msgs[k].msg_len;  // reply: same size, to source
    c.tx += sendBatch(fd, b, n);
  }
  return c;
}

Counts udpPingPongMmsg(int fd, int count, int batch) {
  Counts c;
  for (int i = 0; i < count; i += batch) {
    const int n = std::min(batch, count - i);
    Batch out(n);
    for (int k = 0; k < n; ++k) {
      out.iovs[k].iov_len = datagramSize(i + k);
      out.msgs[k].msg_hdr.msg_name = nullptr;  // connected socket
      out.msgs[k].msg_hdr.msg_namelen = 0;
    }
    c.tx += sendBatch(fd, out, n);
    Batch in(n);
    c.rx += recvBatch(fd, in, n);
  }
  return c;
}

}  // namespace kt
