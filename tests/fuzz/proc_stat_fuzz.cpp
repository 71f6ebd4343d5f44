// /proc/PID/stat as ProcFs::alive reads it: one read() of up to 1023 bytes.
// comm (field 2) is whatever the process named itself, parentheses and
// spaces included.
#include "check.hpp"
#include "resolve/procfs.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto line = netacct::fuzz::text(data, size < 1023 ? size : 1023);
  auto ticks = netacct::stat_start_ticks(line);
  // A start time is only ever read after the last ')'.
  netacct::fuzz::check(!ticks || line.rfind(')') != std::string_view::npos,
                       "a start time without comm's closing parenthesis");
  return 0;
}
