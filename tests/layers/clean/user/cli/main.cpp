// cli may include anything.
#include <CLI/CLI.hpp>
#include <bpf/libbpf.h>
#include <nlohmann/json.hpp>

#include "kernel/loader.hpp"
#include "model/types.hpp"
#include "netacct.h"
#include "output/json.hpp"
#include "resolve/cgroup.hpp"
