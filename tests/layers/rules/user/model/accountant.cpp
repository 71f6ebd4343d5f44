// Fixture: each include below breaks one rule.
#include <bpf/bpf.h>
#include <nlohmann/json.hpp>
#include <prometheus/counter.h>
#include <resolve/procfs.hpp>
#include <vector>

#include "kernel/snapshot.hpp"
#include "model/accountant.hpp"
#include "netacct.h"
// #include "cli/options.hpp" is a comment, not an include
