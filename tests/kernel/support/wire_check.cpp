#include "wire_check.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "report.hpp"

namespace kt {

const std::set<std::string> kWireProgs = {"wire_ingress_tc", "wire_egress_tc"};

std::string attachName(Attach a) {
  switch (a) {
    case Attach::Auto:
      return "auto";
    case Attach::Tcx:
      return "tcx";
    case Attach::Legacy:
      return "legacy";
  }
  return "?";
}

void PrintTo(Attach a, std::ostream* os) { *os << attachName(a); }

bool usesTcx(Attach a) { return a == Attach::Tcx || (a == Attach::Auto && kernelHasTcx()); }

bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

std::vector<TcProg> wireProgsOn(const std::string& ns, const std::string& dev) {
  std::vector<TcProg> all = tcProgs(ns, dev);
  std::erase_if(all, [](const TcProg& p) { return !kWireProgs.count(p.name); });
  return all;
}

std::optional<Stat> procStat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const size_t open = line.find('('), close = line.rfind(')');
  if (open == std::string::npos || close == std::string::npos) return std::nullopt;
  Stat s;
  s.comm = line.substr(open + 1, close - open - 1);
  std::istringstream rest(line.substr(close + 1));
  rest >> s.state >> s.ppid;
  return s;
}

bool running(pid_t pid) {
  auto s = procStat(pid);
  return s && s->state != 'Z' && s->state != 'X';
}

pid_t guardOf(pid_t netacct) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string n = e.path().filename();
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(n);
    auto s = procStat(pid);
    if (s && s->ppid == netacct && s->comm == "netacct-guard") return pid;
  }
  return 0;
}

BpfIds wireOrphansSince(const BpfIds& before) {
  BpfIds fresh;
  fresh.progs = named(allLoaded().minus(before), kWireProgs).progs;
  return stillLoaded(fresh.minus(heldByAnyone()));
}

std::vector<nlohmann::json> reportsIn(const std::string& out) {
  std::vector<nlohmann::json> reports;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line) && !in.eof();)
    reports.push_back(nlohmann::json::parse(line));
  return reports;
}

namespace {

void expectRate(const nlohmann::json& e, const char* rate, uint64_t bytes, double interval) {
  const double want = interval > 0 ? double(bytes) / interval : 0;
  EXPECT_NEAR(numField(e, rate), want, want * 1e-6 + 1e-9) << rate << " of " << e.dump();
}

}  // namespace

IfaceSum ifaceSum(const std::vector<nlohmann::json>& reports, const std::string& dev) {
  IfaceSum s;
  for (const auto& r : reports) {
    const double interval = numField(r, "interval_s");
    for (const auto& e : arrayField(r, "interfaces")) {
      const std::string name = strField(e, "name");
      s.names.insert(name);
      if (name != dev) continue;
      ++s.entries;
      const uint64_t tx = u64Field(e, "tx_wire_bytes"), rx = u64Field(e, "rx_wire_bytes");
      s.tx += tx;
      s.rx += rx;
      s.tx_packets += u64Field(e, "tx_packets");
      s.rx_packets += u64Field(e, "rx_packets");
      s.indexes.insert(u64Field(e, "index"));
      s.netns.insert(u64Field(e, "netns"));
      expectRate(e, "tx_rate", tx, interval);
      expectRate(e, "rx_rate", rx, interval);
    }
  }
  return s;
}

DevCounters minus(const DevCounters& a, const DevCounters& b) {
  return {a.tx_bytes - b.tx_bytes, a.rx_bytes - b.rx_bytes, a.tx_packets - b.tx_packets,
          a.rx_packets - b.rx_packets};
}

void expectWithin(uint64_t netacct, uint64_t DevCounters::*field, const Around& around,
                  const std::string& what) {
  const uint64_t lo = around.inner.*field, hi = around.outer.*field;
  EXPECT_TRUE(lo <= netacct && netacct <= hi)
      << what << ": netacct " << netacct << "; the interface's own counter moved " << lo
      << " while netacct surely counted, " << hi << " from before it started to after it stopped";
  EXPECT_LE(hi - lo, lo / 100) << what << ": other traffic crossed the interface meanwhile";
}

}  // namespace kt
