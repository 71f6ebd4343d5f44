// Time, behind a seam: the event loop schedules its ticks from a Clock, so a
// test can drive time instead of sleeping. Snapshots stamp themselves with
// the free functions (the same clocks).
#pragma once
#include <cstdint>

namespace netacct {

// Monotonic (CLOCK_MONOTONIC: never jumps, stops during suspend) and wall
// clock (CLOCK_REALTIME) time in ns.
int64_t mono_now_ns();
int64_t wall_now_ns();

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t mono_ns() const = 0;
  virtual int64_t wall_ns() const = 0;
};

// The machine's clocks: mono_now_ns() and wall_now_ns().
class SystemClock final : public Clock {
 public:
  int64_t mono_ns() const override { return mono_now_ns(); }
  int64_t wall_ns() const override { return wall_now_ns(); }
};

}  // namespace netacct
