// Environment of a kernel test run: privileges, BPF availability, and the
// knobs a CI job or the qemu guest passes through environment variables.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

namespace kt {

// NETACCT_TEST_BACKEND, default "auto": passed to every netacct as --backend.
std::string testBackend();

// NETACCT_EXPECT_BACKEND: the "backend" value reports must carry, if set.
std::optional<std::string> expectedBackend();

// NETACCT_TEST_VERBOSE (any value): print netacct's whole output after each run.
// CI=="true": a test that cannot run must fail rather than skip.
bool ciMode();

// NETACCT_TEST_TIMEOUT_SCALE (default 1): multiplies every timeout, for slow
// machines such as a TCG qemu guest.
int scaledSeconds(int seconds);
inline std::chrono::seconds scaled(int seconds) {
  return std::chrono::seconds(scaledSeconds(seconds));
}

// Empty when this process can run kernel tests (root, BPF loads); else why not.
std::string unavailableReason();

}  // namespace kt

// First statement of every kernel test's SetUp: skip (or fail under CI) with
// the reason when the machine cannot run real BPF.
#define KT_REQUIRE_KERNEL()                                                        \
  do {                                                                             \
    const std::string kt_why = ::kt::unavailableReason();                          \
    if (!kt_why.empty()) {                                                         \
      if (::kt::ciMode()) FAIL() << "kernel tests required (CI=true): " << kt_why; \
      GTEST_SKIP() << kt_why;                                                      \
    }                                                                              \
  } while (0)
