#pragma once
#include <optional>
#include <vector>

#include "kernel/features.hpp"

namespace netacct {

// Checks, before anything is loaded, that netacct can run here: privileges,
// BTF, lockdown, a usable backend. Prints one line saying what is wrong and
// what to do, and returns nullopt, when it cannot.
std::optional<Backend> preflight(const Features& f, Backend requested);

// A --pid that names no process is a warning: it may start later.
void warn_missing_pids(const std::vector<uint32_t>& pids);

}  // namespace netacct
