// Packet loss made to order, for the retransmit test (flows_test.cpp): this
// kernel may have no sch_netem (the host's 6.18 has none), so the test loses
// packets with a TC program of its own, built from raw instructions and
// attached with libbpf's bpf_tc_* calls (a clsact qdisc and a direct-action
// cls_bpf filter, which every kernel since 4.5 has).
#pragma once

#include <cstdint>
#include <string>

namespace kt::flows {

// On the ingress of `dev` in namespace `ns`: of the TCP segments over
// `family` (AF_INET, AF_INET6, no IP options or extension headers) to port
// `dport` that carry data (200 bytes or more on the wire), drops every
// `every`-th, `max_drops` at most (so the transfer ends in bounded time: a
// lost retransmission costs a timeout). Removed (qdisc and program) when
// destroyed, unless gone with its namespace.
class TcpDropper {
 public:
  TcpDropper(const std::string& ns, const std::string& dev, int family, uint16_t dport,
             uint32_t every, uint32_t max_drops);
  ~TcpDropper();
  TcpDropper(const TcpDropper&) = delete;
  TcpDropper& operator=(const TcpDropper&) = delete;

  // Segments dropped so far.
  uint64_t dropped() const;

 private:
  std::string ns_, dev_;
  uint32_t every_ = 0, max_drops_ = 0;
  int map_fd_ = -1, prog_fd_ = -1;
};

// The kernel's count of a TCP socket's retransmitted payload (TCP_INFO
// tcpi_bytes_retrans, Linux >= 4.19: skb->len of each retransmission, what
// the tcp_retransmit_skb tracepoint sees). Throws on failure.
uint64_t tcpBytesRetrans(int fd);

}  // namespace kt::flows
