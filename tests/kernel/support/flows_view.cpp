#include "flows_view.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>

#include "report.hpp"

namespace kt::flows {
namespace {

using json = nlohmann::json;

int64_t signedField(const json& e, const char* key) {
  if (e.is_object() && e.contains(key) && e[key].is_number_integer()) return e[key].get<int64_t>();
  ADD_FAILURE() << "field \"" << key << "\" missing or not an integer in " << e.dump();
  return 0;
}

bool sameFlow(const json& e, const std::string& iface, const std::string& proto, const json& local,
              const json& remote) {
  return e.value("interface", json()) == iface && e.value("proto", json()) == proto &&
         e.value("local", json()) == local && e.value("remote", json()) == remote;
}

// A receipt line's classes add up to its wire bytes, exactly.
void expectAddsUp(const json& line) {
  const uint64_t parts = u64Field(line, "process_bytes") + u64Field(line, "retrans_bytes") +
                         u64Field(line, "forwarded_bytes") + u64Field(line, "non_socket_bytes") +
                         u64Field(line, "no_process_bytes");
  EXPECT_EQ(int64_t(parts) + signedField(line, "unexplained_bytes"),
            int64_t(u64Field(line, "wire_bytes")))
      << line.dump();
}

}  // namespace

std::unique_ptr<Netacct> startIn(const std::string& ns, const std::vector<std::string>& ifaces,
                                 double interval) {
  NetacctOptions o;
  o.interval = interval;
  for (const auto& i : ifaces) o.extra.insert(o.extra.end(), {"--interface", i});
  Spawn how;
  how.netns = ns;
  return std::make_unique<Netacct>(o, how);
}

std::string describeFlows(const NetacctRun& run) {
  std::ostringstream o;
  for (size_t i = 0; i < run.reports.size(); ++i)
    for (const auto& f : arrayField(run.reports[i], "flows")) o << "\n  [" << i << "] " << f.dump();
  return o.str();
}

FlowView flowOf(const NetacctRun& run, const std::string& iface, const std::string& proto,
                const json& local, const json& remote) {
  FlowView v;
  for (const auto& r : run.reports)
    for (const auto& e : arrayField(r, "flows")) {
      if (!sameFlow(e, iface, proto, local, remote)) continue;
      ++v.entries;
      v.tx += u64Field(e, "tx_wire_bytes");
      v.rx += u64Field(e, "rx_wire_bytes");
      v.tx_packets += u64Field(e, "tx_packets");
      v.rx_packets += u64Field(e, "rx_packets");
      v.classes.insert(strField(e, "class"));
      v.owners.insert(e.value("pid", json("<missing>")).dump());
      v.comms.insert(e.value("comm", json("<missing>")).dump());
      v.forwarded.insert(boolField(e, "forwarded"));
    }
  return v;
}

ConnWire wireOf(const NetacctRun& run, const char* table, pid_t pid, const std::string& local,
                const std::string& remote) {
  ConnWire w;
  for (const auto& r : run.reports)
    for (const auto& e : arrayField(r, table)) {
      if (e.value("pid", json()) != pid) continue;
      if (!local.empty() &&
          (e.value("local", json()) != local || e.value("remote", json()) != remote))
        continue;
      ++w.entries;
      w.tx += u64Field(e, "tx_bytes");
      w.rx += u64Field(e, "rx_bytes");
      w.tx_wire += u64Field(e, "tx_wire_bytes");
      w.rx_wire += u64Field(e, "rx_wire_bytes");
      w.retrans += u64Field(e, "retrans_bytes");
    }
  return w;
}

json receiptLine(const json& report, const std::string& iface) {
  const json none;
  const json& receipt = report.contains("receipt") ? report["receipt"] : none;
  for (const auto& l : arrayField(receipt, "interfaces"))
    if (l.value("name", json()) == iface) return l;
  bool listed = false;
  for (const auto& i : arrayField(report, "interfaces")) listed |= i.value("name", json()) == iface;
  EXPECT_FALSE(listed) << "no receipt line for " << iface << " in " << report.dump().substr(0, 600);
  json zero = {{"name", iface}, {"unexplained_bytes", 0}};
  for (const char* key : {"wire_bytes", "process_bytes", "retrans_bytes", "forwarded_bytes",
                          "non_socket_bytes", "no_process_bytes"})
    zero[key] = 0u;
  return zero;
}

void expectReceiptsMatchFlows(const NetacctRun& run) {
  for (size_t i = 0; i < run.reports.size(); ++i) {
    SCOPED_TRACE("report " + std::to_string(i));
    const json& r = run.reports[i];
    json total = {{"wire_bytes", 0},       {"process_bytes", 0},    {"retrans_bytes", 0},
                  {"forwarded_bytes", 0},  {"non_socket_bytes", 0}, {"no_process_bytes", 0},
                  {"unexplained_bytes", 0}};
    for (const auto& iface : arrayField(r, "interfaces")) {
      const std::string name = strField(iface, "name");
      const json line = receiptLine(r, name);
      expectAddsUp(line);
      EXPECT_EQ(u64Field(line, "wire_bytes"),
                u64Field(iface, "tx_wire_bytes") + u64Field(iface, "rx_wire_bytes"))
          << name;
      std::map<std::string, uint64_t> byClass;
      for (const auto& f : arrayField(r, "flows"))
        if (f.value("interface", json()) == name)
          byClass[strField(f, "class")] +=
              u64Field(f, "tx_wire_bytes") + u64Field(f, "rx_wire_bytes");
      EXPECT_EQ(u64Field(line, "process_bytes") + u64Field(line, "retrans_bytes"),
                byClass["process"])
          << line.dump();
      EXPECT_EQ(u64Field(line, "forwarded_bytes"), byClass["forwarded"]) << line.dump();
      EXPECT_EQ(u64Field(line, "non_socket_bytes"), byClass["non_socket"]) << line.dump();
      EXPECT_EQ(u64Field(line, "no_process_bytes"), byClass["no_process"]) << line.dump();
      EXPECT_LT(std::llabs(signedField(line, "unexplained_bytes")) * 100,
                std::max<int64_t>(1, int64_t(u64Field(line, "wire_bytes"))))
          << line.dump();
      for (auto& [key, sum] : total.items())
        sum = key == "unexplained_bytes" ? json(sum.get<int64_t>() + signedField(line, key.c_str()))
                                         : json(sum.get<uint64_t>() + u64Field(line, key.c_str()));
    }
    const json& receipt = r.value("receipt", json());
    for (const auto& [key, sum] : total.items())
      EXPECT_EQ(receipt.value("total", json()).value(key, json()), sum) << key;
  }
}

}  // namespace kt::flows
