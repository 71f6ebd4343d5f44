#pragma once
#include <signal.h>

#include <memory>
#include <optional>
#include <vector>

#include "kernel/features.hpp"
#include "kernel/loader.hpp"

namespace netacct {

// Checks, before anything is loaded, that netacct can run here: privileges,
// BTF, lockdown, a usable backend. Prints one line saying what is wrong and
// what to do, and returns nullopt, when it cannot.
std::optional<Backend> preflight(const Features& f, Backend requested);

// A --pid that names no process is a warning: it may start later.
void warn_missing_pids(const std::vector<uint32_t>& pids);

// Everything before counting starts, shared by report and top: preflight,
// --pid warnings, blocking the stop signals (before anything is attached, so
// an early SIGINT is taken by the poll loop), loading and attaching.
// nullptr after printing one line when netacct cannot run.
std::unique_ptr<Session> start_session(const Command& cmd, const std::vector<uint32_t>& pids,
                                       sigset_t* stop_signals);

}  // namespace netacct
