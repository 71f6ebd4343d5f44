// A minimal HTTP/1.0 client for the serve tests: GET over loopback, the
// whole response read to the server's close. Test-side only (the product
// serves HTTP through prometheus-cpp); bounded by a deadline, throws on
// failure.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace kt {

struct HttpResponse {
  int status = 0;
  std::string headers, body;
};

// GET `target` ("/metrics", "/api/v1/query?query=...") from 127.0.0.1:port.
HttpResponse httpGet(uint16_t port, const std::string& target, std::chrono::milliseconds timeout);

// Percent-encoding of a query-string value (RFC 3986 unreserved kept).
std::string urlEncode(const std::string& s);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0,
// then closed).
uint16_t freeLoopbackPort();

// A connected socket to 127.0.0.1:port (owned by the caller), bounded wait.
int connectLoopback(uint16_t port, int rcvbuf = 0);

}  // namespace kt
