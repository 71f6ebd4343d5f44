// Environment of a kernel test run: privileges, BPF availability, and the
// knobs a CI job or the qemu guest passes through environment variables.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kt {

// Tests attach TC programs only to interfaces they made in namespaces of
// their own, never to the machine's: a `report` or `top` started in the
// machine's namespace (netns "") that names no --interface gets --no-wire.
std::vector<std::string> hostSafe(std::vector<std::string> args, const std::string& netns = "");

// The netacct binary under test: NETACCT_TEST_BINARY if set (the sanitizer
// tier runs this suite against its ASan+UBSan build of netacct), else the
// build tree's netacct compiled in as NETACCT_BIN.
const std::string& netacctBinary();

// NETACCT_TEST_BACKEND, default "auto": passed to every netacct as --backend.
std::string testBackend();

// NETACCT_EXPECT_BACKEND: the "backend" value reports must carry, if set.
std::optional<std::string> expectedBackend();

// NETACCT_TEST_VERBOSE (any value): print netacct's whole output after each run.
// CI=="true": a test that cannot run must fail rather than skip.
bool ciMode();

// NETACCT_TEST_TIMEOUT_SCALE (default 1): multiplies every timeout and every
// time limit a test asserts (a stop within 3 s, a ping reply within 1 s, a
// frame every delay...), for slow machines such as a TCG qemu guest (10).
double timeoutScale();
int scaledSeconds(int seconds);
inline std::chrono::seconds scaled(int seconds) {
  return std::chrono::seconds(scaledSeconds(seconds));
}
inline std::chrono::milliseconds scaledMs(int ms) {
  return std::chrono::milliseconds(static_cast<long long>(ms * timeoutScale() + 0.5));
}

// Polls `pred` every 20 ms until it holds or `timeout` passed; returns it.
bool waitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

// Empty when this process can run kernel tests (root, BPF loads); else why not.
std::string unavailableReason();

}  // namespace kt

// The only way a kernel test may skip: with the reason, and under CI=true
// a failure instead (a CI run must never pass with a test that did not run).
// support/skip_main.cpp audits every skip at the end of the run as well.
#define KT_SKIP(why)                                                                           \
  do {                                                                                         \
    const std::string kt_skip_why = (why);                                                     \
    if (::kt::ciMode()) FAIL() << "cannot run, and CI=true forbids skipping: " << kt_skip_why; \
    GTEST_SKIP() << kt_skip_why;                                                               \
  } while (0)

// First statement of every kernel test's SetUp: skip (or fail under CI) with
// the reason when the machine cannot run real BPF.
#define KT_REQUIRE_KERNEL()                                                    \
  do {                                                                         \
    const std::string kt_why = ::kt::unavailableReason();                      \
    if (!kt_why.empty()) KT_SKIP("kernel tests need root and BPF: " + kt_why); \
  } while (0)
