// Debian's Prometheus server (/usr/bin/prometheus), started by a test to
// scrape `netacct serve` on loopback every second, and queried through its
// HTTP API. Its storage and config live in a temp dir of the test's own
// (/tmp/netacct-kt-prom-<pid>-XXXXXX). However the test ends, it is stopped
// and the dir removed: by the destructor, by PR_SET_PDEATHSIG when the test
// process dies, and a dir a killed run left is removed by the next start.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kt {

inline constexpr const char* kPrometheusBin = "/usr/bin/prometheus";

class PrometheusServer {
 public:
  // Starts Prometheus scraping 127.0.0.1:target_port (job "netacct") every
  // second and waits until it is ready; throws (with its log) if not.
  explicit PrometheusServer(uint16_t target_port);
  ~PrometheusServer();
  PrometheusServer(const PrometheusServer&) = delete;
  PrometheusServer& operator=(const PrometheusServer&) = delete;

  // An instant query's data ("resultType" and "result"); throws on an
  // error answer.
  nlohmann::json query(const std::string& promql);
  // Polls `query(promql)` until pred(result) holds; false at the timeout.
  bool waitQuery(const std::string& promql, const std::function<bool(const nlohmann::json&)>& pred,
                 std::chrono::milliseconds timeout);
  std::string log() const;  // Prometheus' own output, for failure messages
  uint16_t port() const { return port_; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  void stop();
};

// A vector result's values by one label's value (e.g. "direction").
std::map<std::string, double> byLabel(const nlohmann::json& result, const std::string& label);
// A range-vector result's raw samples of its only series (throws unless
// exactly one series).
std::vector<double> rawSamples(const nlohmann::json& result);

}  // namespace kt
