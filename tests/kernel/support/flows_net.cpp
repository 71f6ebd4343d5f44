#include "flows_net.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <tuple>

extern char** environ;

namespace kt::flows {
namespace {

void removeNetns(const std::string& name) {
  const std::string path = "/run/netns/" + name;
  umount2(path.c_str(), MNT_DETACH);
  unlink(path.c_str());
}

// /proc/thread-self/net/FILE of the calling thread's namespace (/proc/net
// follows the thread group leader, which stays in the test's namespace).
std::string procNet(const std::string& file) {
  std::ifstream in("/proc/thread-self/net/" + file);
  if (!in) throw std::runtime_error("cannot read /proc/thread-self/net/" + file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

ExtraNetns::ExtraNetns(char letter)
    : name_("na-t" + std::to_string(getpid()) + "-" + std::string(1, letter)) {
  removeNetns(name_);  // a leftover of a crashed run that had our pid
  runIp({"netns", "add", name_});
  try {
    runIp({"-n", name_, "link", "set", "lo", "up"});
  } catch (...) {
    removeNetns(name_);
    throw;
  }
}

ExtraNetns::~ExtraNetns() { removeNetns(name_); }

VethPair::VethPair(const std::string& ns_a, const std::string& dev_a, const std::string& addr_a,
                   const std::string& ns_b, const std::string& dev_b, const std::string& addr_b)
    : ns_a_(ns_a), dev_a_(dev_a) {
  runIp({"-n", ns_a, "link", "add", dev_a, "type", "veth", "peer", "name", dev_b, "netns", ns_b});
  try {
    for (const auto& [ns, dev, addr] : {std::tuple{ns_a, dev_a, addr_a}, {ns_b, dev_b, addr_b}}) {
      runIp({"-n", ns, "link", "set", dev, "addrgenmode", "none"});  // before up: no link-local
      runIp({"-n", ns, "addr", "add", addr + "/24", "dev", dev});
      runIp({"-n", ns, "link", "set", dev, "up"});
    }
  } catch (...) {
    try {
      runIp({"-n", ns_a, "link", "del", dev_a});
    } catch (const std::exception&) {
      // The first error is the one to report.
    }
    throw;
  }
}

VethPair::~VethPair() {
  try {
    runIp({"-n", ns_a_, "link", "del", dev_a_});
  } catch (const std::exception&) {
    // Gone with its namespace.
  }
}

void addRoute(const std::string& ns, const std::string& net, const std::string& gateway) {
  runIp({"-n", ns, "route", "add", net, "via", gateway});
}

void setSysctl(const std::string& ns, const std::string& key, const std::string& value) {
  inNetns(ns, [&] {
    std::ofstream out("/proc/sys/" + key);
    out << value << "\n";
    out.close();
    if (!out) throw std::runtime_error("cannot write /proc/sys/" + key + " in " + ns);
    return 0;
  });
}

LinkCounters linkCounters(const std::string& ns, const std::string& dev) {
  const std::string text = inNetns(ns, [] { return procNet("dev"); });
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const size_t start = line.find_first_not_of(' ');
    if (line.compare(start, colon - start, dev) != 0 || colon - start != dev.size()) continue;
    // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets ...
    std::istringstream f(line.substr(colon + 1));
    uint64_t v[10] = {};
    for (auto& x : v) f >> x;
    return LinkCounters{v[0], v[1], v[8], v[9]};
  }
  throw std::runtime_error("no interface " + dev + " in " + ns);
}

uint64_t snmpCounter(const std::string& ns, const std::string& group, const std::string& name) {
  const std::string text = inNetns(ns, [] { return procNet("snmp"); });
  // Two lines per group: "Icmp: InMsgs InErrors ..." then "Icmp: 1 0 ...".
  std::istringstream in(text);
  for (std::string names, values; std::getline(in, names) && std::getline(in, values);) {
    if (names.rfind(group + ":", 0) != 0) continue;
    std::istringstream n(names.substr(group.size() + 1)), v(values.substr(group.size() + 1));
    std::string key;
    uint64_t value = 0;
    while (n >> key && v >> value)
      if (key == name) return value;
  }
  throw std::runtime_error("no " + group + " " + name + " in /proc/net/snmp of " + ns);
}

}  // namespace kt::flows
