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
