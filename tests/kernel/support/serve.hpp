// `netacct serve` started by a test, and its /metrics read straight from it
// (serve_test.cpp, privilege_test.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "netacct.hpp"

namespace kt {

std::string listenArg(uint16_t port);  // "127.0.0.1:PORT"

// `netacct serve` on 127.0.0.1:port (of `how.netns`), ready (its "serving"
// line) on return. In the test's own namespace it gets --no-wire (hostSafe).
std::unique_ptr<Process> startServe(uint16_t port, const std::vector<std::string>& extra = {},
                                    const Spawn& how = {});

// One scrape of /metrics, straight from netacct: series text -> value.
std::map<std::string, double> scrape(uint16_t port);

}  // namespace kt
