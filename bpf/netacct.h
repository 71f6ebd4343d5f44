/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The one ABI shared by the BPF programs and the C++ userspace: map keys and
 * values. Fixed-width types and explicit padding only; user/kernel/abi.hpp
 * static_asserts every size and the loader checks them against the loaded maps.
 */
#ifndef NETACCT_ABI_H
#define NETACCT_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define NA_COMM_LEN 16

/* Map capacities. Processes and connections are LRU maps: when a connection
 * entry is evicted its bytes stay in the per-process totals, and userspace
 * reports the evicted detail (created - live - deleted). */
#define NA_MAX_PROCS 16384
#define NA_MAX_CONNS 65536
#define NA_MAX_TCP_SEQ 65536
#define NA_MAX_INFLIGHT 8192

/* A process is (tgid, start time): a reused PID is a different key. start_ns
 * is the thread-group leader's start_boottime, the value /proc/PID/stat shows
 * as starttime (in clock ticks). */
struct na_proc_key {
	__u32 tgid;
	__u32 pad;
	__u64 start_ns;
};

/* Counters are monotonic and only ever advanced with atomic adds.
 * lo_* hold loopback traffic separately so it can be excluded by default. */
struct na_proc_val {
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u64 lo_tx_bytes;
	__u64 lo_rx_bytes;
	__u64 cgroup_id;
	__u32 uid;
	__u32 pad;
	char comm[NA_COMM_LEN];
};

/* A connection is one socket as used by one process: a socket shared by a
 * parent and a forked child gives two entries, so bytes land on the PID that
 * moved them. cookie is the kernel's socket cookie, unique per boot across
 * network namespaces, so identical 5-tuples in two namespaces never collide. */
struct na_conn_key {
	__u64 cookie;
	__u32 tgid;
	__u32 pad;
	__u64 start_ns;
};

enum na_conn_flags {
	NA_CONN_LOOPBACK = 1,
};

struct na_conn_val {
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u32 netns;
	__u16 family;   /* AF_INET or AF_INET6 */
	__u16 proto;    /* IPPROTO_* */
	__u16 lport;    /* host byte order */
	__u16 rport;    /* host byte order */
	__u8 flags;     /* enum na_conn_flags */
	__u8 pad[3];
	__u8 laddr[16]; /* IPv4 in the first 4 bytes */
	__u8 raddr[16];
};

/* Global counters, one slot per CPU (BPF_MAP_TYPE_PERCPU_ARRAY, key 0). */
struct na_stats {
	__u64 conn_created;   /* connection entries inserted by the kernel */
	__u64 proc_created;   /* process entries inserted by the kernel */
	__u64 insert_failed;  /* map updates that failed: bytes not counted */
	__u64 events;         /* hook runs that counted bytes */
};

#endif /* NETACCT_ABI_H */
