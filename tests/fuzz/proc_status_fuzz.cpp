// /proc/PID/status: the NSpid line that gives a process's PID in its own
// PID namespace (container_pid).
#include "check.hpp"
#include "resolve/procfs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto status = netacct::fuzz::text(data, size);
  auto pid = netacct::status_ns_pid(status);
  netacct::fuzz::check(!pid || status.find("NSpid:") != std::string_view::npos,
                       "a namespace PID without an NSpid line");
  return 0;
}
