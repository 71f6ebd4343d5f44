// Socket helpers for traffic children. Every function that moves bytes
// returns the sum of what the kernel's syscalls returned: that sum is the
// ground truth netacct must reproduce exactly. Errors throw.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "child.hpp"

namespace kt {

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;

struct Endpoint {
  std::string host;  // numeric; a ':' means IPv6 (incl. ::ffff:a.b.c.d)
  uint16_t port = 0;

  int family() const;
  std::string str() const;  // "10.213.1.1:80" or "[fd00:213::1]:80"
  socklen_t fill(sockaddr_storage& ss) const;
};

Endpoint localEndpoint(int fd);
Endpoint peerEndpoint(int fd);

int tcpListen(const std::string& host);  // bound to host:0
int tcpListenOn(const Endpoint& at);     // bound to at (port 0: ephemeral)
// Connects from a given local endpoint (SO_REUSEADDR), e.g. the same port in
// two network namespaces.
int tcpConnectFrom(const Endpoint& from, const Endpoint& to);
int tcpConnect(const Endpoint& to);
int tcpAccept(int listen_fd);  // bounded wait (any stream protocol's listener)
// SOCK_STREAM sockets of another protocol (IPPROTO_SCTP: one-to-one style),
// as tcpListenOn and tcpConnect make them.
int streamListenOn(const Endpoint& at, int protocol);
int streamConnect(const Endpoint& to, int protocol);
int udpBound(const std::string& host);  // bound to host:0
int udpSocket(int family);              // unbound
void setRecvTimeout(int fd, int ms);
void setNonblocking(int fd);

enum class SendCall { Write, Send, SendTo, SendMsg, WriteV };
enum class RecvCall { Read, Recv, RecvFrom, RecvMsg, ReadV };
const char* name(SendCall c);
const char* name(RecvCall c);

// One syscall of the given kind; returns its result (-1 with errno).
ssize_t sendOnce(int fd, const void* buf, size_t len, SendCall how);
ssize_t recvOnce(int fd, void* buf, size_t len, RecvCall how);

// Stream helpers.
uint64_t sendBytes(int fd, uint64_t total, SendCall how = SendCall::Write, size_t chunk = 64 * KiB);
uint64_t recvToEof(int fd, RecvCall how = RecvCall::Read, size_t chunk = 64 * KiB);
// Reads exactly `total` bytes (throws at an earlier end of stream): for
// protocols without a half-close (SCTP), where a reader cannot wait for EOF.
uint64_t recvExactly(int fd, uint64_t total, size_t chunk = 64 * KiB);
// Nonblocking sends of `chunk`; what each returned is summed. `stats`, if
// given, counts the sends that returned less than asked, and EAGAINs.
struct NonblockingStats {
  uint64_t short_sends = 0;
  uint64_t would_block = 0;
};
uint64_t sendNonblocking(int fd, uint64_t total, size_t chunk = 1 * MiB,
                         NonblockingStats* stats = nullptr);
uint64_t sendFileBytes(int sock, uint64_t total);  // sendfile(2) from a temp file
uint64_t spliceToEof(int sock);                    // splice(sock -> pipe), then drain the pipe
uint64_t peekThenReadToEof(int sock);              // MSG_PEEK, then read the same bytes
// Sends `total` from a second thread (then SHUT_WR) while reading to EOF.
Counts duplexExchange(int fd, uint64_t total);

// Datagrams first..first+count-1 (1 + i % 8 bytes), each from a fresh UDP
// socket closed after it: one new connection entry per datagram.
uint64_t sendFromFreshSockets(const Endpoint& to, int first, int count);

// Whether an SCTP socket of `family` can be made here; if not, why.
bool sctpUsable(int family, std::string& why);

// io_uring (liburing) one request at a time.
bool uringUsable(std::string& why);
uint64_t uringSendBytes(int fd, uint64_t total, size_t chunk = 64 * KiB);
uint64_t uringRecvToEof(int fd, size_t chunk = 64 * KiB);

// UDP request/response. Sizes of datagram i: datagramSize(i), 1..1400 bytes.
size_t datagramSize(int i);
// Answers `count` datagrams with a reply of the same size to their source.
// peek: each datagram is first looked at with MSG_PEEK (which must not count).
Counts udpEcho(int fd, int count, bool peek = false);
// Sends `count` datagrams and waits for each reply. to == nullptr: the socket
// is connected (send/recv); otherwise sendto/recvfrom. Datagram k has size
// datagramSize(first + k).
Counts udpPingPong(int fd, const Endpoint* to, int count, int first = 0);
// Same exchange in batches with sendmmsg/recvmmsg on both sides.
Counts udpEchoMmsg(int fd, int count, int batch);
Counts udpPingPongMmsg(int fd, int count, int batch);  // connected socket

}  // namespace kt
