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

/*
 * Counters live in slots: one mmapable array per kind (proc_slots,
 * conn_slots) that userspace reads in place, without a system call. The hash
 * maps procs and conns only find a key's slot (value: the slot index). Each
 * counting event sets its slot's bit in `touched` (see NA_TOUCHED_WORDS), so
 * a refresh reads the slots that moved, not every entry.
 *
 * Slots are allocated by the kernel (a free queue filled by userspace, else
 * the next never-used slot) and freed only by userspace: the entries of a
 * process that ended, and, when the connection slots run short, the
 * connections idle the longest (their bytes were read first). A freed slot is
 * handed back to the kernel one poll later, so a program that found it just
 * before it was freed is done with it.
 *
 * Map capacities. Hash maps are preallocated at load, so each costs its full
 * size in kernel memory, used or not: about 48 bytes of element header plus
 * key plus value per entry, plus the buckets; the slot arrays cost their size
 * (128 bytes per slot). That makes about 3.3 MiB for procs, 29 MiB for
 * conns, and (kprobe backend only, else one entry each) 5.5 MiB for tcp_seq
 * and under 1 MiB for inflight. The TCP receive positions (tracing
 * backends), loopback signals and rings (netacct.bpf.c) live in task and
 * socket storage, allocated per thread or socket that uses them.
 *
 * NA_MAX_PROCS: processes that moved bytes and are alive or not yet reported
 * (userspace frees exited processes' entries after each report). Hosts run
 * a few thousand processes, and only some of them use the network; 16384
 * leaves room for bursts of short-lived ones between two polls. A process
 * that finds no free slot is counted as a failed insert (its bytes are lost).
 *
 * NA_MAX_CONNS: one entry per (socket, process) that moved bytes: a busy
 * server's open sockets plus those closed but not yet freed. 131072 holds
 * 100,000 live sockets with room to spare. A connection that finds no free
 * slot keeps its bytes in its process's totals (reported as unattributed).
 *
 * NA_MAX_TCP_SEQ: kprobe backend only (the tracing backends keep the
 * position in socket storage): one receive baseline per TCP socket (LRU). An
 * evicted baseline is made again at the socket's next read, like that of a
 * connection opened before netacct started.
 *
 * NA_MAX_INFLIGHT: kprobe backend only (the loader shrinks it to 1 for the
 * others): one entry per thread between the entry and the return probe of a
 * send or receive, a thread blocked in recv included. A kretprobe catches only
 * a limited number of pending returns (maxactive, by default a small multiple
 * of the CPU count), so 8192 threads inside socket calls at once is more than
 * can be counted anyway. A full map leaves a call uncounted; an entry whose
 * return was missed stays until its thread's next call replaces it.
 */
#define NA_MAX_PROCS 16384
#define NA_MAX_CONNS 131072
#define NA_MAX_TCP_SEQ 65536
#define NA_MAX_INFLIGHT 8192

/* A process is one program run by one thread group: (tgid, exec generation,
 * start time). A reused PID is a different key (start_ns), and so is the
 * program a process execve()s (exec_gen), so bytes stay with the program that
 * moved them. start_ns is the thread-group leader's start_boottime, the value
 * /proc/PID/stat shows as starttime (in clock ticks); exec keeps it. exec_gen
 * is the low 32 bits of the task's self_exec_id, which execve() increments
 * (begin_new_exec) and every thread of the group shares. */
struct na_proc_key {
	__u32 tgid;
	__u32 exec_gen;
	__u64 start_ns;
};

enum na_proc_flags {
	/* The process execve()d another program (seen by the exec hook): this
	 * program ended, its entry moves no more bytes. */
	NA_PROC_EXECED = 1,
};

/* Counters are monotonic and only ever advanced with atomic adds.
 * lo_* hold loopback traffic separately so it can be excluded by default
 * (what counts as loopback: see enum na_conn_flags). comm is the program's
 * name: the thread-group leader's comm at first sight, whichever thread moved
 * the bytes. */
struct na_proc_val {
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u64 lo_tx_bytes;
	__u64 lo_rx_bytes;
	__u64 cgroup_id;
	__u32 uid;
	__u32 flags; /* enum na_proc_flags */
	char comm[NA_COMM_LEN];
};

/* A connection is one socket as used by one process: a socket shared by a
 * parent and a forked child gives two entries, so bytes land on the PID that
 * moved them. cookie is the kernel's socket cookie, unique per boot across
 * network namespaces, so identical 5-tuples in two namespaces never collide.
 * A datagram socket that moved datagrams both over loopback and over the
 * network has two entries, dgram_lo 0 and 1 (see enum na_conn_flags). */
struct na_conn_key {
	__u64 cookie;
	struct na_proc_key proc;
	__u32 dgram_lo; /* 1: the loopback datagrams of a datagram or raw socket */
	__u32 pad;
};

/*
 * Loopback is decided the way the kernel routes, not by address: traffic is
 * loopback when it stays inside its network namespace over the loopback
 * device (127/8, ::1, and every address of the namespace itself route there).
 *  - Stream sockets (TCP): the connection's route, sk_dst_cache->dev, whose
 *    flags have IFF_LOOPBACK (else the device its packets arrive on), read
 *    when the entry is created: one connection is wholly loopback or not.
 *  - Datagram and raw sockets (UDP, ping, raw): each datagram, by the device
 *    it crossed: sent through the loopback device's transmit, or received
 *    from it (skb_iif is the loopback ifindex).
 */
enum na_conn_flags {
	NA_CONN_LOOPBACK = 1,
};

struct na_conn_val {
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u32 netns;
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 proto;  /* IPPROTO_* */
	__u16 lport;  /* host byte order */
	__u16 rport;  /* host byte order */
	__u8 flags;   /* enum na_conn_flags */
	__u8 pad[3];
	__u8 laddr[16]; /* IPv4 in the first 4 bytes */
	__u8 raddr[16];
};

/* A slot: the entry's key, its counters and what the kernel learnt of it.
 * `id` is 0 while the slot is free or being filled, else unique per entry
 * since load: the kernel sets it (an atomic add, after the slot is filled and
 * its key inserted), userspace clears it when it frees the slot. A slot is
 * 128 bytes, two whole cache lines of its own: the counters of a sender and
 * its receiver, counted on two CPUs, never share a line. */
struct na_proc_slot {
	__u64 id;
	struct na_proc_key key;
	struct na_proc_val val;
	__u32 cgroup_slot; /* + 1: the cgroup_slots entry of val.cgroup_id; 0 none yet */
	__u8 pad[36];
};

struct na_conn_slot {
	__u64 id;
	struct na_conn_key key;
	struct na_conn_val val;
	__u8 pad[24];
};

/*
 * `cgroups`: payload bytes per cgroup v2 id (the inode of the cgroup's
 * directory), counted at each send and receive in the cgroup the moving
 * task is in at that moment (bpf_get_current_cgroup_id), so a process moved
 * into a container after its first send counts there from then on. Its own
 * map, not a sum of process entries: a container's totals stay exact when
 * its processes exit or their entries go. Counted before the process entry
 * (and read after it): no container ever shows fewer bytes than its
 * processes. The counters are slots of an array (`cgroup_slots`, the first
 * next_cgroup_slot of them used, never freed during a run), found through
 * the `cgroups` hash (id -> slot) and cached in the mover's process slot,
 * so an event of a process that stays in its cgroup costs one array load,
 * not a hash lookup. A full array leaves a cgroup uncounted (insert_failed).
 * A slot whose id is set but whose counters stay 0 lost a race to publish
 * the same cgroup: it carries nothing. A slot also holds the cgroup's
 * directory name and its parent's id, read when the slot is made: a cgroup
 * created and removed between two reads of userspace (a `docker run --rm`
 * shorter than a refresh) is still named, from its parent's path.
 *
 * With the wire layer, each slot also counts the IP packets of the sockets
 * that belong to the cgroup (the socket's cgroup: the one its creator was
 * in, inherited by an accepted socket from its listener), counted by two
 * cgroup_skb programs on the cgroup v2 root as the packets leave and enter
 * their socket's network stack, in whatever network namespace: bytes from
 * the IP header on (a GSO/GRO packet once, with its one set of headers, as
 * the wire layer counts), packets as segments. A slot first made there has
 * no name (no task is at hand in softirq context): userspace names it by id.
 */
#define NA_MAX_CGROUPS 8192
#define NA_CGROUP_NAME_LEN 80

struct na_cgroup_val {
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u64 lo_tx_bytes;
	__u64 lo_rx_bytes;
};

/* A cgroup's sockets' IP packets, on one side of the loopback split. */
struct na_cgroup_ip {
	__u64 tx_bytes;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 rx_packets;
};

struct na_cgroup_slot {
	__u64 id; /* cgroup v2 id; set before the slot is published in `cgroups` */
	struct na_cgroup_val val;
	struct na_cgroup_ip ip;	       /* over every device but loopback */
	struct na_cgroup_ip lo_ip;     /* over loopback */
	__u64 parent_id;	       /* 0 for the root */
	char name[NA_CGROUP_NAME_LEN]; /* the directory's name, NUL-terminated (cut if longer) */
};

/* The change feed: one bit per slot, set by the kernel after it adds to the
 * slot (and when it marks a process exec'd); userspace swaps each word with 0
 * and then reads the slots whose bits were set. An add either comes before
 * the swap (the read after it sees it) or after (the bit is set again, the
 * next poll reads it), so no poll misses bytes, and one that reads too many
 * only finds no change. The `touched` array holds NA_TOUCHED_WORDS 64-bit
 * words: connections first, then processes. */
#define NA_CONN_WORDS (NA_MAX_CONNS / 64)
#define NA_PROC_WORDS (NA_MAX_PROCS / 64)
#define NA_TOUCHED_WORDS (NA_CONN_WORDS + NA_PROC_WORDS)

/* Global counters, one slot per CPU (BPF_MAP_TYPE_PERCPU_ARRAY, key 0). */
struct na_stats {
	__u64 conn_created;  /* connection entries inserted by the kernel */
	__u64 proc_created;  /* process entries inserted by the kernel */
	__u64 insert_failed; /* entries that found no slot: bytes not counted there */
};

/*
 * The wire layer: what crosses each network device, counted by a TC
 * classifier on its ingress and egress (netacct.bpf.c, "Wire layer").
 *
 * Bytes are counted the way the kernel's own interface counters count them
 * (/sys/class/net/DEV/statistics, for the software devices: veth, loopback,
 * bridges, tunnels): skb->len as the packet crosses the device, link-layer
 * header included, a GSO packet once with its one set of headers. A NIC
 * driver with TSO counts what it put on the wire: each segment's headers,
 * (segments - 1) x header length more. Packets are segments: gso_segs for a
 * GSO packet, else 1.
 */
struct na_wire_val {
	__u64 rx_bytes;
	__u64 rx_packets;
	__u64 tx_bytes;
	__u64 tx_packets;
};

/*
 * `ifaces`: one entry per interface netacct attached to, keyed by ifindex
 * in netacct's own network namespace; userspace inserts the entry (zeros,
 * and l2_len in every CPU's copy) before it attaches, and deletes it once
 * the interface is gone, so the classifier never inserts. Per-CPU values: a
 * classifier runs with bottom halves off on its CPU, so plain adds are exact
 * and never contend. l2_len is the device's link-layer header length (14
 * for Ethernet and loopback), which lets the classifier read the headers in
 * place; NA_L2_UNKNOWN (tunnels, other link types) reads them with a helper.
 * NA_MAX_IFACES: interfaces attached at once; a container host has hundreds
 * of veths, 4096 leaves room for churn (an entry goes with its interface).
 */
#define NA_MAX_IFACES 4096
#define NA_L2_UNKNOWN 0xffffffff

struct na_iface_val {
	struct na_wire_val wire;
	__u32 l2_len;
	__u32 pad;
};

/*
 * `flows`: wire bytes per flow and interface (LRU: the flows idle the
 * longest make room; the interface totals stay exact). A flow is seen from
 * this host: on egress the local end is the source, on ingress the
 * destination, so both directions of a connection share one entry (for
 * forwarded traffic, "local" is the end the packet goes to or comes from on
 * that interface's far side). Non-IP packets (ARP, ...) are one flow per
 * ethertype; ports are 0 for protocols without them and for IP fragments
 * after the first. IPv6 extension headers are not walked: such a packet
 * counts under its first next-header value, without ports.
 */
#define NA_MAX_FLOWS 65536

struct na_flow_key {
	__u32 ifindex;	 /* in `retrans`: the socket's network namespace (inode) */
	__u16 ethertype; /* host order: 0x0800 IPv4, 0x86dd IPv6, 0x0806 ARP, ... */
	__u8 proto;	 /* IPPROTO_*; 0 for non-IP */
	__u8 pad;
	__u16 lport; /* host order */
	__u16 rport;
	__u32 pad2;
	__u8 laddr[16]; /* IPv4 in the first 4 bytes */
	__u8 raddr[16];
};

/*
 * `retrans`: TCP payload bytes sent again (tcp:tcp_retransmit_skb), per
 * connection by its network namespace, addresses and ports (ethertype
 * says the family; IPv4-mapped IPv6 sockets as the IPv6 they are). LRU,
 * like flows.
 */
#define NA_MAX_RETRANS 16384

struct na_retrans_val {
	__u64 bytes;
	__u64 segments; /* retransmissions (one per event; a TSO retransmit is one) */
};

/*
 * Remote names (issue 14): DNS answers delivered to local sockets, copied by
 * a cgroup_skb ingress program on the cgroup v2 root (netacct.bpf.c, "DNS
 * answers") into the `dns_answers` ring buffer, with the receiving socket's
 * cookie (userspace joins it to the connection entries: process, network
 * namespace) and cgroup. Only UDP datagrams from port 53 are copied, at most
 * NA_DNS_MAX bytes of the DNS message (the classic 512-byte UDP limit plus
 * EDNS0's common 1232: a longer answer is cut, and parses as far as c-ares
 * can read it). An answer that finds the ring full is counted in `dns_lost`.
 */
#define NA_DNS_MAX 1232
#define NA_DNS_RING_BYTES (1 << 20)

struct na_dns_event {
	__u64 cookie;	 /* the receiving socket's cookie */
	__u64 cgroup_id; /* the receiving socket's cgroup v2 id */
	__u64 mono_ns;	 /* bpf_ktime_get_ns: CLOCK_MONOTONIC */
	__u32 len;	 /* bytes of the DNS message in data */
	__u32 msg_len;	 /* the message's length as received (> len: cut) */
	__u8 data[NA_DNS_MAX];
};

#endif /* NETACCT_ABI_H */
