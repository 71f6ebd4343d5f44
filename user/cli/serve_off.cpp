// `netacct serve` in a build without the exporter (NETACCT_SERVE=OFF, the
// default of static builds: Debian has no static prometheus-cpp).
#include <iostream>

#include "cli/commands.hpp"

namespace netacct {

int run_serve(const Command&) {
  std::cerr << "netacct: this build has no Prometheus exporter (built with NETACCT_SERVE=OFF, "
               "as static builds are); use a netacct built with prometheus-cpp\n";
  return 1;
}

}  // namespace netacct
