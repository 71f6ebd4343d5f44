#include "model/clock.hpp"

#include <ctime>

namespace netacct {
namespace {

int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace

int64_t mono_now_ns() { return clock_ns(CLOCK_MONOTONIC); }
int64_t wall_now_ns() { return clock_ns(CLOCK_REALTIME); }

}  // namespace netacct
