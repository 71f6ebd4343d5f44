// A DNS server, a loopback stub resolver and DNS clients for the tests of
// remote names (dns_names_test.cpp). Every message is built and parsed with
// ldns (Debian's libldns); the bad answers are valid ldns-built answers then
// cut or corrupted, never bytes assembled by hand.
//
// The server is a forked Child in one namespace (A) answering on UDP port 53
// from a table of names the test gives: A and AAAA records at the end of a
// CNAME chain, with the TTL the test chose; a name of the table can instead
// be answered malformed (a compression pointer to itself) or truncated (cut
// in its last record). Names of the form floodName(i) are answered without a
// table entry (A floodAddress(i)), so a client can ask 100,000 distinct names.
// Any other name: NXDOMAIN. The relay is a stub resolver on 127.0.0.53:53 in
// the client's namespace that forwards each query to the server and its
// answer back, as systemd-resolved does.
//
// Names are raw bytes with '.' between labels: a label may hold any other
// byte, control characters included (presentation() escapes them for ldns).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "child.hpp"
#include "etc_files.hpp"
#include "tempdir.hpp"
#include "traffic.hpp"

namespace kt {

enum class DnsAnswer { Normal, Malformed, Truncated };

// One name the server knows.
struct DnsName {
  std::string name;                 // the name asked
  std::vector<std::string> cnames;  // name -> cnames[0] -> cnames[1] ...
  std::vector<std::string> addrs;   // of the chain's last name: IPv4 (A) and IPv6 (AAAA)
  uint32_t ttl = 300;               // of every record of the answer
  DnsAnswer answer = DnsAnswer::Normal;
};

// ldns's presentation form of a raw name: bytes other than letters, digits,
// '-' and '_' as \DDD; a trailing dot.
std::string presentation(const std::string& raw);

// The i-th name a flood asks for, and the address the server answers for it
// (distinct for i < 2^20, in 100.64.0.0/10: no test host has one).
std::string floodName(uint32_t i);
std::string floodAddress(uint32_t i);

// The server on host:53 (UDP) in `ns`, answering until go(); its counts are
// the bytes of its own sends and receives. Ready when constructed.
Child dnsServer(const std::string& ns, const std::string& host, std::vector<DnsName> names);

constexpr const char* kStubAddress = "127.0.0.53";

// The stub on 127.0.0.53:53 in `ns` (loopback must be up there), forwarding
// to `upstream` until go(). Ready when constructed.
Child dnsRelay(const std::string& ns, const Endpoint& upstream);

// What a client made of an answer.
struct DnsReply {
  bool parsed = false;  // ldns accepted it
  int rcode = -1;
  uint16_t id = 0;
  bool id_matches = false;          // the answer's id is the query's
  std::string question;             // the answer's question name (presentation)
  std::vector<std::string> cnames;  // CNAME targets in answer order (presentation)
  std::vector<std::string> addrs;   // A/AAAA addresses, numeric
  std::vector<uint32_t> ttls;       // of every answer record
  size_t size = 0;                  // bytes received
};

// A direct query: one ldns-built question for `name` (A for AF_INET, AAAA
// for AF_INET6) sent on `fd`, a UDP socket connected to the server (or the
// stub), and its answer read and parsed; throws if none comes in time. The
// syscalls' return values are added to `counts`.
DnsReply dnsAsk(int fd, const std::string& name, int family, Counts& counts);
// A UDP socket connected to `server` (which must listen on port 53).
int dnsSocket(const Endpoint& server);

// Asks floodName(first) .. floodName(first + n - 1) on `fd`, `window`
// questions in flight at a time; every answer must parse. Returns how many
// answers came back (throws if one is missing after the timeout).
uint64_t dnsFlood(int fd, uint32_t first, uint32_t n, uint32_t window, Counts& counts);

// The files the libc resolver reads (resolv.conf naming `nameserver`,
// nsswitch.conf "hosts: files dns", a hosts file with localhost alone),
// for children that enter() them.
class ResolverFiles {
 public:
  explicit ResolverFiles(const std::string& nameserver);
  // In a forked child: this process alone sees the files over /etc. Throws.
  void enter() const;

 private:
  TempDir dir_;
  MountTarget hosts_{"/etc/hosts"}, resolv_{"/etc/resolv.conf"}, nss_{"/etc/nsswitch.conf"};
  Binds binds_;
};

// getaddrinfo(name) for `family` (SOCK_STREAM): the numeric addresses, in
// the libc's order; throws with gai_strerror on failure.
std::vector<std::string> libcResolve(const std::string& name, int family);

}  // namespace kt
