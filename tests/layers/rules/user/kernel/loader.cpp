#include "cli/options.hpp"
#include "kernel/loader.hpp"
#include "netacct.skel.h"
#include "output/top.hpp"
