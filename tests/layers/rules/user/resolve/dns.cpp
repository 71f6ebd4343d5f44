#include "../output/top.hpp"
#include "resolve/dns.hpp"
#include "vmlinux.h"
