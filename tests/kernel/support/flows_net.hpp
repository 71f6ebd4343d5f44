// Network pieces the flow tests (flows_test.cpp) add to the fixture's two
// namespaces: a third namespace (a router), veth pairs with IPv4 only,
// routes, IPv4 forwarding, and the kernel's own counters read inside a
// namespace (an interface's bytes, an SNMP counter), which are the ground
// truth the flows are compared with.
//
// Every read and every write of a namespace's state runs on a thread of its
// own that joined the namespace (setns moves only the calling thread), so the
// test process never leaves its own namespace.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "netns.hpp"

namespace kt::flows {

// One more network namespace, na-t<pid>-<letter> (the name the fixture's
// namespaces have, so the next run removes it if this process is killed),
// removed when destroyed.
class ExtraNetns {
 public:
  explicit ExtraNetns(char letter);
  ~ExtraNetns();
  ExtraNetns(const ExtraNetns&) = delete;
  ExtraNetns& operator=(const ExtraNetns&) = delete;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// A veth pair: `dev_a` in `ns_a`, `dev_b` in `ns_b`, each with an IPv4
// address (/24) and no IPv6 address at all (no link-local: no DAD, router
// solicitation or MLD packet ever crosses it, only the test's), up. Deleted
// when destroyed, unless gone with its namespace.
class VethPair {
 public:
  VethPair(const std::string& ns_a, const std::string& dev_a, const std::string& addr_a,
           const std::string& ns_b, const std::string& dev_b, const std::string& addr_b);
  ~VethPair();
  VethPair(const VethPair&) = delete;
  VethPair& operator=(const VethPair&) = delete;

 private:
  std::string ns_a_, dev_a_;
};

// `ip route add NET via GW` in `ns`.
void addRoute(const std::string& ns, const std::string& net, const std::string& gateway);
// Writes `value` to /proc/sys/`key` as namespace `ns` has it (its own
// /proc/sys/net), e.g. ("net/ipv4/ip_forward", "1").
void setSysctl(const std::string& ns, const std::string& key, const std::string& value);

// What an interface counted itself (/proc/net/dev of its namespace; veth
// counts skb->len with the Ethernet header, as netacct's wire bytes do).
struct LinkCounters {
  uint64_t rx_bytes = 0, rx_packets = 0, tx_bytes = 0, tx_packets = 0;
  LinkCounters operator-(const LinkCounters& o) const {
    return {rx_bytes - o.rx_bytes, rx_packets - o.rx_packets, tx_bytes - o.tx_bytes,
            tx_packets - o.tx_packets};
  }
};
LinkCounters linkCounters(const std::string& ns, const std::string& dev);  // throws if no dev

// A counter of /proc/net/snmp in `ns`, e.g. ("Icmp", "OutDestUnreachs").
uint64_t snmpCounter(const std::string& ns, const std::string& group, const std::string& name);

}  // namespace kt::flows
