#pragma once
#include <optional>

#include "kernel/features.hpp"

namespace netacct {

// Checks, before anything is loaded, that netacct can run here: privileges,
// BTF, lockdown, a usable backend. Prints one line saying what is wrong and
// what to do, and returns nullopt, when it cannot.
std::optional<Backend> preflight(const Features& f, Backend requested);

}  // namespace netacct
