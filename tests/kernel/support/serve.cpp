#include "serve.hpp"

#include <sstream>
#include <stdexcept>

#include "env.hpp"
#include "http.hpp"

namespace kt {

std::string listenArg(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

std::unique_ptr<Process> startServe(uint16_t port, const std::vector<std::string>& extra,
                                    const Spawn& how) {
  std::vector<std::string> args{"serve", "--listen", listenArg(port), "--backend", testBackend()};
  args.insert(args.end(), extra.begin(), extra.end());
  auto p = std::make_unique<Process>(args, how);
  if (!p->waitOutput(
          [](const std::string&, const std::string& err) {
            return err.find("netacct: serving http://") != std::string::npos;
          },
          scaled(20)))
    throw std::runtime_error("netacct serve not ready: " + p->err());
  return p;
}

std::map<std::string, double> scrape(uint16_t port) {
  HttpResponse r = httpGet(port, "/metrics", scaledMs(5000));
  if (r.status != 200) throw std::runtime_error("GET /metrics: " + std::to_string(r.status));
  std::map<std::string, double> out;
  std::istringstream in(r.body);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

}  // namespace kt
