// The kernel ABI seen from C++: bpf/netacct.h plus size checks, so a layout
// change on one side fails the build instead of corrupting counters.
#pragma once
#include <cstdint>

extern "C" {
#include "netacct.h"
}

static_assert(sizeof(na_proc_key) == 16);
static_assert(sizeof(na_proc_val) == 64);
static_assert(sizeof(na_conn_key) == 32);
static_assert(sizeof(na_conn_val) == 64);
static_assert(sizeof(na_stats) == 24);
static_assert(sizeof(na_proc_slot) == 128);
static_assert(sizeof(na_conn_slot) == 128);
static_assert(sizeof(na_wire_val) == 32);
static_assert(sizeof(na_iface_val) == 40);
static_assert(sizeof(na_flow_key) == 48);
static_assert(sizeof(na_retrans_val) == 16);
static_assert(sizeof(na_cgroup_val) == 32);
static_assert(sizeof(na_cgroup_ip) == 32);
static_assert(sizeof(na_cgroup_slot) == 192);
static_assert(NA_MAX_CONNS % 64 == 0 && NA_MAX_PROCS % 64 == 0);
static_assert(sizeof(na_dns_event) == 32 + NA_DNS_MAX);
