#pragma once
#include <signal.h>

#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "kernel/assess.hpp"
#include "kernel/features.hpp"
#include "kernel/loader.hpp"

namespace netacct {

// The two ways the one Assessment is shown. Defined here (not in
// preflight.cpp, which loads BPF) so the unit tests hold them side by side.
//
// report and top: "netacct: <message>\n", or "" when netacct can run. doctor
// lists every backend's detail, so a backend problem points there.
inline std::string preflight_error(const Assessment& a) {
  if (a.can_run()) return "";
  const char* see = a.problem == Problem::no_backend ? " (see 'netacct doctor')" : "";
  return "netacct: " + a.message + see + "\n";
}

// doctor's verdict line (after "verdict"); its JSON "problem" is a.message.
inline std::string doctor_verdict(const Assessment& a) {
  return a.can_run() ? "netacct can run" : "netacct cannot run: " + a.message;
}

// Checks, before anything is loaded, that netacct can run here. The backend
// to load, or nullopt after writing preflight_error() to `err`.
inline std::optional<Backend> preflight(const Features& f, Backend requested, std::ostream& err) {
  Assessment a = assess(f, requested);
  err << preflight_error(a);
  return a.can_run() ? a.backend : std::nullopt;
}

// A --pid that names no process is a warning: it may start later.
void warn_missing_pids(const std::set<uint32_t>& pids);

// Everything before counting starts, shared by report and top: preflight,
// --pid warnings, blocking the stop signals (before anything is attached, so
// an early SIGINT is taken by the poll loop), loading and attaching.
// nullptr after printing one line when netacct cannot run.
// *exit_code says how it failed: 2 for a usage error (an interface that does
// not exist), 1 for anything else.
std::unique_ptr<Session> start_session(const Command& cmd, sigset_t* stop_signals, int* exit_code);

}  // namespace netacct
