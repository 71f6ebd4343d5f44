// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Socket-level payload accounting. Three backends feed the same counting
 * bodies; userspace autoloads exactly one backend's programs:
 *   tracepoint: sock:sock_send_length / sock:sock_recv_length (Linux >= 6.3)
 *   fentry:     fexit on inet{,6}_sendmsg, inet{,6}_recvmsg, inet_sendpage
 *   kprobe:     kprobe/kretprobe on the same functions
 * TCP receives are counted from tcp_sock.copied_seq advances (see
 * tcp_rx_bytes), which is exact on every read path, splice included.
 * Loopback is decided from the device the bytes crossed (see the rule in
 * netacct.h, enum na_conn_flags, and "Loopback signals" below); processes are
 * named and split per program (see "Programs" below).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "netacct.h"

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define MSG_PEEK 2
#define MSG_ERRQUEUE 0x2000
#define TCP_ESTABLISHED 1
/* include/net/flow.h: every network namespace's loopback device has ifindex
 * 1 (registered first, and ifindexes are per namespace since Linux 3.7). */
#define LOOPBACK_IFINDEX 1

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader for the kprobe backend: kprobe programs may not call
 * bpf_get_socket_cookie, so sockets are named by their address instead.
 * The verifier prunes the branch not taken (rodata is frozen at load). */
const volatile __u32 sock_id_is_pointer = 0;

/* Set by the loader for the tracepoint backend: datagrams received are
 * classified from the ingress ring (see dgram_ingress_cgroup), not from a
 * signal raised while the reader dequeues them (fentry, kprobe). */
const volatile __u32 dgram_rx_from_ring = 0;

/* Key -> slot index; the counters are in the slot arrays (see netacct.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NA_MAX_PROCS);
	__type(key, struct na_proc_key);
	__type(value, __u32);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NA_MAX_CONNS);
	__type(key, struct na_conn_key);
	__type(value, __u32);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, NA_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct na_proc_slot);
} proc_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NA_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, __u32);
} cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NA_MAX_CGROUPS);
	__type(key, __u32);
	__type(value, struct na_cgroup_slot);
} cgroup_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, NA_MAX_CONNS);
	__type(key, __u32);
	__type(value, struct na_conn_slot);
} conn_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, NA_TOUCHED_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} touched SEC(".maps");

/* Slots userspace freed, handed back one poll after it freed them. */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, NA_MAX_PROCS);
	__type(value, __u32);
} free_procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, NA_MAX_CONNS);
	__type(value, __u32);
} free_conns SEC(".maps");

/* The next never-used slot of each array. */
__u64 next_proc_slot = 0;
__u64 next_conn_slot = 0;
__u64 next_cgroup_slot = 0;
/* Entry ids: unique since load, never 0. */
__u64 last_entry_id = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct na_stats);
} stats SEC(".maps");

/* kprobe backend only: arguments saved at entry for the return probe. */
struct inflight {
	struct sock *sk;
	int flags;
	int pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NA_MAX_INFLIGHT);
	__type(key, __u64);
	__type(value, struct inflight);
} inflight SEC(".maps");

/* kprobe backend only (the loader shrinks it to 1 entry otherwise): the
 * generation of the socket at each socket address. The allocator hands a
 * freed socket's address to the next socket, so the address alone would
 * merge two connections (bytes to one remote counted to the next). */
struct sk_gen {
	__u64 sig; /* local port, remote port, remote address of the socket */
	__u64 gen; /* 0 for the first socket seen at the address */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NA_MAX_CONNS);
	__type(key, __u64);
	__type(value, struct sk_gen);
} sk_gens SEC(".maps");

static __always_inline __u64 tuple_sig(struct sock *sk)
{
	__u64 num = BPF_CORE_READ(sk, __sk_common.skc_num);
	__u64 dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	__u32 daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr) ^
		      BPF_CORE_READ(sk, __sk_common.skc_v6_daddr.in6_u.u6_addr32[3]);
	return num << 48 | dport << 32 | daddr;
}

/* A new generation when the socket at an address has another tuple than
 * the one last seen there; a socket leaving its bind bucket at TCP_CLOSE
 * (port 0, possibly before its last reads) keeps its own. Kernel addresses
 * have their top 16 bits set, so a generation in them never names another
 * socket's address. */
static __always_inline __u64 pointer_id(struct sock *sk)
{
	__u64 addr = (__u64)sk, sig = tuple_sig(sk);
	struct sk_gen *g = bpf_map_lookup_elem(&sk_gens, &addr);
	if (g && (g->sig == sig || sig >> 48 == 0))
		return addr ^ (g->gen << 48);
	struct sk_gen next = { .sig = sig, .gen = g ? (g->gen + 1) & 0xffff : 0 };
	bpf_map_update_elem(&sk_gens, &addr, &next, BPF_ANY);
	return addr ^ (next.gen << 48);
}

/* The socket cookie is unique per boot across network namespaces; kprobes
 * have no cookie helper, so that backend names a socket by its address and
 * the address's generation. */
static __always_inline __u64 sock_id(struct sock *sk)
{
	if (sock_id_is_pointer)
		return pointer_id(sk);
	return bpf_get_socket_cookie(sk);
}

static __always_inline struct na_stats *stats_slot(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&stats, &zero);
}

#define STAT_INC(field)                                  \
	do {                                             \
		struct na_stats *__s = stats_slot();     \
		if (__s)                                 \
			__s->field++; /* per-CPU slot */ \
	} while (0)

/* ---- Slots (see netacct.h) ---- */

/* A free slot: one userspace handed back, else the next never used; -1 when
 * the array is full. */
static __always_inline __s64 slot_take(void *free_queue, __u64 *next, __u64 max)
{
	__u32 idx;
	if (bpf_map_pop_elem(free_queue, &idx) == 0)
		return idx;
	__u64 n = __sync_fetch_and_add(next, 1);
	return n < max ? (__s64)n : -1;
}

/* The slot's bit in the change feed, set after the add it reports. A plain
 * load first: a slot that moves often pays one atomic per poll, not per
 * event. (The add before it is an atomic read-modify-write, which x86
 * orders before this load.) */
static __always_inline void touch(__u32 word_base, __u32 idx)
{
	__u32 w = word_base + idx / 64;
	__u64 bit = 1ULL << (idx & 63);
	__u64 *word = bpf_map_lookup_elem(&touched, &w);
	if (word && !(*word & bit))
		__sync_fetch_and_or(word, bit);
}

#define TOUCH_CONN(idx) touch(0, idx)
#define TOUCH_PROC(idx) touch(NA_CONN_WORDS, idx)

/* A filled slot whose key is in its hash map gets its id: from here on
 * userspace reads it. */
static __always_inline void slot_publish(__u64 *id)
{
	__sync_fetch_and_add(id, __sync_fetch_and_add(&last_entry_id, 1) + 1);
}

/* A filled slot `slot` (index i): its key goes into the hash map and the
 * slot gets its id, from which userspace reads it. Returns the slot to count
 * into (*idx its index): this one, or, when another CPU inserted the same key
 * first, that one (this slot goes back to the free queue); NULL when the map
 * is full. The bit is set before the entry is counted as created, so a stats
 * read that sees the entry finds its bit. word_base: the slot kind's first
 * word in the change feed (TOUCH_CONN, TOUCH_PROC). */
static __always_inline void *slot_insert(void *hash, const void *key, void *free_queue, void *slots,
					 void *slot, __u64 *id, __u32 i, __u32 word_base,
					 __u32 *idx)
{
	if (bpf_map_update_elem(hash, key, &i, BPF_NOEXIST) != 0) {
		bpf_map_push_elem(free_queue, &i, 0);
		__u32 *found = bpf_map_lookup_elem(hash, key);
		if (!found) {
			STAT_INC(insert_failed);
			return NULL;
		}
		*idx = *found;
		return bpf_map_lookup_elem(slots, found);
	}
	slot_publish(id);
	touch(word_base, i);
	if (word_base)
		STAT_INC(proc_created);
	else
		STAT_INC(conn_created);
	*idx = i;
	return slot;
}

/* A field of a kernel object on the hot path. Tracing programs (tp_btf,
 * fentry, the iterator) hold BTF pointers and read fields with plain loads;
 * kprobe programs hold raw addresses and must probe-read, a helper call per
 * field, which was most of a hook's cost. The branch not taken is pruned at
 * load (sock_id_is_pointer is frozen rodata, set for the kprobe backend). */
#define KREAD(ptr, field) (sock_id_is_pointer ? BPF_CORE_READ(ptr, field) : (ptr)->field)

static __always_inline int is_inet(const struct sock *sk)
{
	__u16 family = KREAD(sk, __sk_common.skc_family);
	return family == AF_INET || family == AF_INET6;
}

/* ---- Programs ----
 * A process is named after its program, the thread-group leader's comm (what
 * top and ps show), not after whichever thread moved the bytes: runtimes name
 * their threads (tokio-worker-3, java's GC threads). And bytes belong to the
 * program that moved them: the key carries the exec generation, so after an
 * execve() the new program's bytes go to a new entry, named at its first
 * sight, and the exec hooks mark the old program's entry as ended. */

/* The task is a BTF pointer in every program type (kprobes included), so its
 * fields are plain loads. */
static __always_inline struct na_proc_key current_proc(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct na_proc_key key = {
		.tgid = task->tgid,
		/* every thread of a group has the leader's self_exec_id: threads
		 * made before an exec do not survive it (de_thread) */
		.exec_gen = (__u32)task->self_exec_id,
		.start_ns = task->group_leader->start_boottime,
	};
	return key;
}

/* A process's slot, made at first sight: its identity is captured in the
 * kernel, so a process that exits before userspace polls is still reported
 * by name. *idx is the slot's index. */
static __always_inline struct na_proc_slot *proc_entry(const struct na_proc_key *key, __u32 *idx)
{
	__u32 *found = bpf_map_lookup_elem(&procs, key);
	if (found) {
		*idx = *found;
		return bpf_map_lookup_elem(&proc_slots, found);
	}
	__s64 got = slot_take(&free_procs, &next_proc_slot, NA_MAX_PROCS);
	__u32 i = got;
	struct na_proc_slot *p = got < 0 ? NULL : bpf_map_lookup_elem(&proc_slots, &i);
	if (!p) {
		STAT_INC(insert_failed);
		return NULL;
	}
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	p->key = *key;
	__builtin_memset(&p->val, 0, sizeof(p->val));
	p->val.uid = (__u32)bpf_get_current_uid_gid();
	p->val.cgroup_id = bpf_get_current_cgroup_id();
	p->cgroup_slot = 0;
	BPF_CORE_READ_STR_INTO(&p->val.comm, task, group_leader, comm);
	return slot_insert(&procs, key, &free_procs, &proc_slots, p, &p->id, i, NA_CONN_WORDS, idx);
}

/* The exec generation has just been incremented (begin_new_exec); the entry
 * of the program this process ran until now, if it moved bytes, has ended. */
static __always_inline void program_replaced(struct task_struct *task)
{
	struct na_proc_key old = {
		.tgid = BPF_CORE_READ(task, tgid),
		.exec_gen = (__u32)BPF_CORE_READ(task, self_exec_id) - 1,
		.start_ns = BPF_CORE_READ(task, group_leader, start_boottime),
	};
	__u32 *idx = bpf_map_lookup_elem(&procs, &old);
	if (!idx)
		return;
	__u32 i = *idx;
	struct na_proc_slot *p = bpf_map_lookup_elem(&proc_slots, &i);
	if (!p)
		return;
	__sync_fetch_and_or(&p->val.flags, NA_PROC_EXECED);
	TOUCH_PROC(i);
}

/* ---- Loopback signals ----
 * A stream socket's route is its connection's (route_is_loopback). A datagram
 * socket (UDP, ping) or raw socket has no route of its own: an unconnected
 * one sends each datagram wherever its address says, and receives from
 * anywhere. Each datagram is classified by the device it crossed:
 *  - sent: the loopback device's transmit runs in the sender's context, inside
 *    the send call, with skb->sk the sending socket (lo has no qdisc: nothing
 *    defers it); the hook raises the thread's signal naming the socket, which
 *    the send hook takes when the call returns. A part appended to a cork
 *    (MSG_MORE) crosses no device yet: the cork's route says where it goes.
 *  - received (fentry, kprobe): the reader dequeues the datagram and frees it
 *    (skb_consume_udp, skb_free_datagram) inside the receive call; skb_iif is
 *    the device it came in on. Same signal, taken by the receive hook.
 *  - received (tracepoint): no tracepoint sees the dequeued skb in the
 *    reader's context on the kernels this backend serves (see
 *    dgram_ingress_cgroup), so the device is recorded when the datagram is
 *    queued to the socket and matched to reads in queue order (dgram_ring).
 */

static __always_inline int is_dgram(const struct sock *sk)
{
	__u16 type = KREAD(sk, sk_type);
	return type == SOCK_DGRAM || type == SOCK_RAW;
}

/* A thread's loopback signal: the socket whose datagram, in the thread's
 * current send or receive call, crossed the loopback device. Task storage:
 * one slot per thread, found without hashing, freed with the thread; the
 * hook that counts the call takes it (and a network datagram pays one
 * lookup). Kernel sockets are never signalled: an ICMP error that a send
 * over lo provokes is sent in softirq on the sender's thread, by a kernel
 * socket, and must not replace the sender's signal. */
struct dgram_signal {
	__u64 sk[2]; /* [1]: the current send's datagram, [0]: the current receive's */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct dgram_signal);
} dgram_signals SEC(".maps");

static __always_inline void raise_dgram_signal(const struct sock *sk, int tx)
{
	struct dgram_signal *s = bpf_task_storage_get(&dgram_signals, bpf_get_current_task_btf(), 0,
						      BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (s)
		s->sk[tx & 1] = (__u64)sk;
}

/* Whether this call's datagram crossed the loopback device. Always taken,
 * whether the call is counted or not (MSG_PEEK, errors), so no signal
 * outlives its call; sends and receives have their own, so a receive whose
 * hook never ran (a path the receive hooks miss) cannot mark a later send. */
static __always_inline int take_dgram_signal(const struct sock *sk, int tx)
{
	struct dgram_signal *s =
		bpf_task_storage_get(&dgram_signals, bpf_get_current_task_btf(), 0, 0);
	if (!s || s->sk[tx & 1] != (__u64)sk)
		return 0;
	s->sk[tx & 1] = 0;
	return 1;
}

/* Only user sockets of the inet families are counted. */
static __always_inline int signalled(const struct sock *sk)
{
	return is_inet(sk) && is_dgram(sk) && !BPF_CORE_READ_BITFIELD_PROBED(sk, sk_kern_sock);
}

static __always_inline void dgram_sent_over_loopback(const struct sk_buff *skb)
{
	struct sock *sk = KREAD(skb, sk);
	if (sk && signalled(sk))
		raise_dgram_signal(sk, 1);
}

static __always_inline void dgram_dequeued(const struct sock *sk, const struct sk_buff *skb)
{
	if (sk && KREAD(skb, skb_iif) == LOOPBACK_IFINDEX && signalled(sk))
		raise_dgram_signal(sk, 0);
}

/* Tracepoint backend: one bit per datagram queued to a socket, in queue
 * order, set when the datagram arrived over the loopback device. Socket
 * storage: freed with the socket, no eviction. Exact for a socket that only
 * ever received one kind (seen); a socket that received both is matched in
 * queue order, which one reader, in-order queueing and no drops between the
 * ingress hook and the queue keep exact (a reader that finds the queue empty
 * realigns the ring); past 256 queued datagrams the oldest bits are reused. */
#define DGRAM_RING_WORDS 4
#define DGRAM_SEEN_LO 1
#define DGRAM_SEEN_NET 2

struct dgram_ring {
	__u64 lo[DGRAM_RING_WORDS];
	__u32 tail; /* datagrams queued (ingress hook) */
	__u32 head; /* datagrams read */
	__u32 seen; /* DGRAM_SEEN_* */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct dgram_ring);
} dgram_rings SEC(".maps");

static __always_inline void ring_push(struct dgram_ring *r, int lo)
{
	__u32 slot = __sync_fetch_and_add(&r->tail, 1);
	__u64 bit = 1ULL << (slot & 63);
	__u64 *word = &r->lo[(slot >> 6) & (DGRAM_RING_WORDS - 1)];
	/* a socket that never received over loopback has only zero bits: the
	 * common, network-only socket pays one atomic per datagram, not two */
	if (lo)
		__sync_fetch_and_or(word, bit);
	else if (r->seen & DGRAM_SEEN_LO)
		__sync_fetch_and_and(word, ~bit);
	__u32 kind = lo ? DGRAM_SEEN_LO : DGRAM_SEEN_NET;
	if (!(r->seen & kind))
		__sync_fetch_and_or(&r->seen, kind);
}

/* Nothing left to read: every datagram the ring holds was read or dropped. */
static __always_inline int rx_queue_empty(struct sock *sk)
{
	if (BPF_CORE_READ(sk, sk_receive_queue.qlen))
		return 0;
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_UDP)
		return 1;
	return BPF_CORE_READ((struct udp_sock *)sk, reader_queue.qlen) == 0;
}

/* The datagram a reader just took off the queue (tracepoint backend). */
static __always_inline int ring_pop(struct sock *sk)
{
	struct dgram_ring *r = bpf_sk_storage_get(&dgram_rings, sk, 0, 0);
	if (!r)
		return 0;
	__u32 seen = r->seen;
	int lo = seen == DGRAM_SEEN_LO;
	/* else queued before netacct started, or left behind by a realignment */
	if ((__s32)(r->tail - r->head) > 0) {
		__u32 slot = __sync_fetch_and_add(&r->head, 1);
		if (seen == (DGRAM_SEEN_LO | DGRAM_SEEN_NET))
			lo = (r->lo[(slot >> 6) & (DGRAM_RING_WORDS - 1)] >> (slot & 63)) & 1;
	}
	/* Realigned when nothing is left to read: datagrams dropped after the
	 * ingress hook (a full buffer) leave head behind tail. A single-kind
	 * socket checks only then, or its lag would misfile datagrams of the
	 * other kind when one first arrives. */
	if ((seen == (DGRAM_SEEN_LO | DGRAM_SEEN_NET) || r->tail != r->head) && rx_queue_empty(sk))
		r->head = r->tail;
	return lo;
}

/* A stream socket's route: sk_dst_cache is set when it connects (or is
 * accepted) and re-set by the next transmit after an invalidation; when it is
 * briefly absent, the device its last segment arrived on (sk_rx_dst_ifindex,
 * set from the handshake) says the same for a loopback connection. Routes to
 * the namespace's own addresses use the loopback device (RTN_LOCAL). */
static __always_inline int route_is_loopback(const struct sock *sk)
{
	struct dst_entry *dst = BPF_CORE_READ(sk, sk_dst_cache);
	if (dst)
		return (BPF_CORE_READ(dst, dev, flags) & IFF_LOOPBACK) != 0;
	if (bpf_core_field_exists(sk->sk_rx_dst_ifindex)) /* Linux >= 5.16 */
		return BPF_CORE_READ(sk, sk_rx_dst_ifindex) == LOOPBACK_IFINDEX;
	return 0;
}

/* How an event is classified: a datagram's own device (0 or 1), or, for a
 * stream socket, its connection's route. */
#define BY_ROUTE -1

/* The socket's addresses, read at first sight and again when it gains a
 * remote port later (a UDP socket connected after its first send). */
static __always_inline void fill_tuple(struct na_conn_val *c, const struct sock *sk, int dgram_lo)
{
	c->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	c->proto = BPF_CORE_READ(sk, sk_protocol);
	c->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	c->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	c->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	if (c->family == AF_INET) {
		BPF_CORE_READ_INTO((__u32 *)c->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)c->raddr, sk, __sk_common.skc_daddr);
	} else {
		bpf_core_read(c->laddr, sizeof(c->laddr), &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(c->raddr, sizeof(c->raddr), &sk->__sk_common.skc_v6_daddr);
	}
	int lo = dgram_lo == BY_ROUTE ? route_is_loopback(sk) : dgram_lo;
	c->flags = lo ? NA_CONN_LOOPBACK : 0;
}

/* kprobe backend: the address now names another socket when the local port
 * changed. A closed socket leaving its bind bucket (inet_put_port, at
 * TCP_CLOSE, possibly before its last reads) has port 0: not a new socket. */
static __always_inline int reused_address(const struct na_conn_val *val, const struct sock *sk)
{
	__u16 num = BPF_CORE_READ(sk, __sk_common.skc_num);
	return num != 0 && num != val->lport;
}

/* A connection's slot, made at first sight. *idx is the slot's index. */
static __always_inline struct na_conn_slot *
conn_entry(const struct na_conn_key *key, const struct sock *sk, int dgram_lo, __u32 *idx)
{
	__u32 *found = bpf_map_lookup_elem(&conns, key);
	if (found) {
		*idx = *found;
		struct na_conn_slot *c = bpf_map_lookup_elem(&conn_slots, found);
		/* One read on the hot path: an unconnected UDP socket keeps port 0
		 * and is not re-read at every datagram. */
		if (c && ((c->val.rport == 0 && KREAD(sk, __sk_common.skc_dport) != 0) ||
			  (sock_id_is_pointer && reused_address(&c->val, sk))))
			fill_tuple(&c->val, sk, dgram_lo);
		return c;
	}
	__s64 got = slot_take(&free_conns, &next_conn_slot, NA_MAX_CONNS);
	__u32 i = got;
	struct na_conn_slot *c = got < 0 ? NULL : bpf_map_lookup_elem(&conn_slots, &i);
	if (!c) {
		STAT_INC(insert_failed);
		return NULL;
	}
	c->key = *key;
	__builtin_memset(&c->val, 0, sizeof(c->val));
	fill_tuple(&c->val, sk, dgram_lo);
	return slot_insert(&conns, key, &free_conns, &conn_slots, c, &c->id, i, 0, idx);
}

/* Tracing backends: each socket remembers the process that last counted on
 * it and that process's slots, so the common event (the same program on the
 * same socket again) finds its counters without hashing a key. A cached slot
 * is used only while its id is the one remembered: userspace clears the id
 * when it frees the slot, and a reused slot has a new one. The kprobe backend
 * has no socket storage and always hashes. */
struct sock_cache {
	struct na_proc_key owner;
	__u64 conn_id[2]; /* [dgram_lo part] */
	__u64 proc_id;
	__u32 conn_slot[2];
	__u32 proc_slot;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sock_cache);
} sock_caches SEC(".maps");

static __always_inline int same_proc(const struct na_proc_key *a, const struct na_proc_key *b)
{
	return a->tgid == b->tgid && a->exec_gen == b->exec_gen && a->start_ns == b->start_ns;
}

static __always_inline struct na_conn_slot *cached_conn(struct sock_cache *sc, int part, __u32 *idx)
{
	__u32 i = sc->conn_slot[part & 1];
	struct na_conn_slot *c = bpf_map_lookup_elem(&conn_slots, &i);
	if (!c || !sc->conn_id[part & 1] || c->id != sc->conn_id[part & 1])
		return NULL;
	*idx = i;
	return c;
}

static __always_inline struct na_proc_slot *cached_proc(struct sock_cache *sc, __u32 *idx)
{
	__u32 i = sc->proc_slot;
	struct na_proc_slot *p = bpf_map_lookup_elem(&proc_slots, &i);
	if (!p || !sc->proc_id || p->id != sc->proc_id)
		return NULL;
	*idx = i;
	return p;
}

/* The slots found by hashing, remembered for the socket's next event. */
static __always_inline void cache_slots(struct sock *sk, struct sock_cache *sc,
					const struct na_proc_key *owner, int part,
					struct na_conn_slot *conn, __u32 ci,
					struct na_proc_slot *proc, __u32 pi)
{
	if (!sc) {
		sc = bpf_sk_storage_get(&sock_caches, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (!sc)
			return;
	}
	if (!same_proc(&sc->owner, owner)) {
		sc->owner = *owner;
		sc->conn_id[0] = sc->conn_id[1] = 0;
	}
	if (conn) {
		sc->conn_slot[part & 1] = ci;
		sc->conn_id[part & 1] = conn->id;
	}
	if (proc) {
		sc->proc_slot = pi;
		sc->proc_id = proc->id;
	}
}

/* kernfs_node's parent before Linux 6.15, which renamed it __parent. */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

/* The current task's cgroup (the one just counted): its directory name and
 * its parent's id, for userspace to name it even once it is gone. */
static __always_inline void name_cgroup(struct na_cgroup_slot *s)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct kernfs_node *kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	struct kernfs_node *parent;
	if (bpf_core_field_exists(kn->__parent))
		parent = BPF_CORE_READ(kn, __parent);
	else
		parent = BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
	s->parent_id = parent ? BPF_CORE_READ(parent, id) : 0;
	bpf_probe_read_kernel_str(s->name, sizeof(s->name), BPF_CORE_READ(kn, name));
}

/* A cgroup's slot, found through `cgroups` or made: the slot's id is set
 * before the slot is published, so a reader never finds a slot of another
 * cgroup. Of two CPUs making the same cgroup's slot, the second uses the
 * first's (its own stays at zero). */
static __always_inline struct na_cgroup_slot *cgroup_slot(__u64 id, __u32 *idx, bool named)
{
	__u32 *found = bpf_map_lookup_elem(&cgroups, &id);
	if (!found) {
		__u64 n = __sync_fetch_and_add(&next_cgroup_slot, 1);
		__u32 i = n;
		struct na_cgroup_slot *s =
			n < NA_MAX_CGROUPS ? bpf_map_lookup_elem(&cgroup_slots, &i) : NULL;
		if (!s)
			return NULL;
		s->id = id;
		if (named)
			name_cgroup(s);
		if (bpf_map_update_elem(&cgroups, &id, &i, BPF_NOEXIST) == 0) {
			*idx = i;
			return s;
		}
		found = bpf_map_lookup_elem(&cgroups, &id);
		if (!found)
			return NULL;
	}
	*idx = *found;
	return bpf_map_lookup_elem(&cgroup_slots, found);
}

/* The bytes to the mover's current cgroup (netacct.h, `cgroups`), through
 * the slot its process entry remembers while it stays there; the process
 * entry follows it into a new one, so its rows name the cgroup it is in. */
static __always_inline void count_cgroup(struct na_proc_slot *proc, __u64 bytes, int tx, int lo)
{
	__u64 id = bpf_get_current_cgroup_id();
	struct na_cgroup_slot *s = NULL;
	if (proc && proc->cgroup_slot && proc->val.cgroup_id == id) {
		__u32 i = proc->cgroup_slot - 1;
		s = bpf_map_lookup_elem(&cgroup_slots, &i);
		if (s && s->id != id)
			s = NULL;
	}
	if (!s) {
		__u32 i = 0;
		s = cgroup_slot(id, &i, true);
		if (!s) {
			STAT_INC(insert_failed);
			return;
		}
		if (proc) {
			proc->val.cgroup_id = id;
			proc->cgroup_slot = i + 1;
		}
	}
	__sync_fetch_and_add(tx ? (lo ? &s->val.lo_tx_bytes : &s->val.tx_bytes) :
				  (lo ? &s->val.lo_rx_bytes : &s->val.rx_bytes),
			     bytes);
}

/* Credit bytes to the current process and to (socket, process). dgram_lo is
 * the datagram's own classification, or BY_ROUTE for a stream socket.
 * The process is counted before its connection, and userspace reads
 * connections before processes: every byte a connection read shows is in
 * the process read that follows, so no connection row exceeds its process. */
static __always_inline void account(struct sock *sk, __u64 bytes, int tx, int dgram_lo)
{
	struct na_proc_key pkey = current_proc();
	int part = dgram_lo == 1;
	__u32 ci = 0, pi = 0;
	struct na_conn_slot *conn = NULL;
	struct na_proc_slot *proc = NULL;
	struct sock_cache *sc = NULL;
	if (!sock_id_is_pointer) {
		sc = bpf_sk_storage_get(&sock_caches, sk, 0, 0);
		if (sc && same_proc(&sc->owner, &pkey)) {
			conn = cached_conn(sc, part, &ci);
			proc = cached_proc(sc, &pi);
		}
	}
	if (conn) {
		if (conn->val.rport == 0 && KREAD(sk, __sk_common.skc_dport) != 0)
			fill_tuple(&conn->val, sk, dgram_lo);
	} else {
		struct na_conn_key ckey = {
			.cookie = sock_id(sk),
			.proc = pkey,
			.dgram_lo = part,
		};
		conn = conn_entry(&ckey, sk, dgram_lo, &ci);
	}
	int cached = proc != NULL;
	if (!proc)
		proc = proc_entry(&pkey, &pi);
	if (!sock_id_is_pointer && (!cached || !sc || sc->conn_slot[part & 1] != ci))
		cache_slots(sk, sc, &pkey, part, conn, ci, proc, pi);
	int lo = conn ? (conn->val.flags & NA_CONN_LOOPBACK) :
			(dgram_lo == BY_ROUTE ? route_is_loopback(sk) : dgram_lo);
	count_cgroup(proc, bytes, tx, lo);
	if (proc) {
		__u64 *ctr = tx ? (lo ? &proc->val.lo_tx_bytes : &proc->val.tx_bytes) :
				  (lo ? &proc->val.lo_rx_bytes : &proc->val.rx_bytes);
		__sync_fetch_and_add(ctr, bytes);
		TOUCH_PROC(pi);
	}
	if (conn) {
		__sync_fetch_and_add(tx ? &conn->val.tx_bytes : &conn->val.rx_bytes, bytes);
		TOUCH_CONN(ci);
	}
}

/* A send with MSG_MORE (or on a UDP_CORK socket) only appends to the
 * socket's cork: nothing crosses a device until the last part goes out. The
 * cork holds the route the datagram will take (ip_setup_cork,
 * ip6_setup_cork), which classifies the parts appended. The parts wait in
 * sk_write_queue, which every other send leaves empty: one load decides,
 * and only a corked send reads the route. */
static __always_inline int corked_over_loopback(const struct sock *sk)
{
	if (KREAD(sk, sk_write_queue.qlen) == 0)
		return 0;
	struct dst_entry *dst = BPF_CORE_READ((struct inet_sock *)sk, cork.base.dst);
	return dst && (BPF_CORE_READ(dst, dev, flags) & IFF_LOOPBACK);
}

static __always_inline void count_send(struct sock *sk, int ret)
{
	if (!sk || !is_inet(sk))
		return;
	int dgram_lo = BY_ROUTE;
	if (is_dgram(sk))
		dgram_lo = take_dgram_signal(sk, 1) || (ret > 0 && corked_over_loopback(sk));
	if (ret > 0)
		account(sk, ret, 1, dgram_lo);
}

/* copied_seq also steps over the peer's FIN (one sequence number, no data)
 * when a reader consumes it. tcp_fin() sets SOCK_DONE and the FIN is the last
 * sequence number, so copied_seq == rcv_nxt then means the FIN was consumed. */
static __always_inline __u32 tcp_bytes_seq(struct sock *sk)
{
	__u64 flags = KREAD(sk, __sk_common.skc_flags);
	int fin_seen = (flags >> bpf_core_enum_value(enum sock_flags, SOCK_DONE)) & 1;
	__u32 rcv_nxt, seq;
	if (sock_id_is_pointer) {
		struct tcp_sock *tp = (struct tcp_sock *)sk;
		rcv_nxt = BPF_CORE_READ(tp, rcv_nxt);
		seq = BPF_CORE_READ(tp, copied_seq);
	} else {
		/* the verifier types a cast's target as the original struct */
		struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
		if (!tp)
			return 0;
		rcv_nxt = tp->rcv_nxt;
		seq = tp->copied_seq;
	}
	return fin_seen && seq == rcv_nxt ? seq - 1 : seq;
}

/* Receive position per TCP socket. `provisional` is set when the socket was
 * first seen by tcp_rcv_space_adjust in the middle of a read (a connection
 * opened before netacct started): bytes that read copied before that point
 * are only known when the read returns (see settle_first_read). */
struct tcp_rx {
	__u32 seq;  /* last copied_seq counted */
	__u32 base; /* seq at first sight when provisional */
	__u32 provisional;
	__u32 pad;
};

/* kprobe backend only (the loader shrinks it to 1 entry otherwise): kprobe
 * programs cannot use socket storage. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NA_MAX_TCP_SEQ);
	__type(key, __u64);
	__type(value, struct tcp_rx);
} tcp_seq SEC(".maps");

/* Tracing backends: the position lives with the socket, found through it
 * without hashing and freed with it. */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tcp_rx);
} tcp_rx_store SEC(".maps");

static __always_inline struct tcp_rx *tcp_rx_find(struct sock *sk)
{
	if (sock_id_is_pointer) {
		__u64 id = sock_id(sk);
		return bpf_map_lookup_elem(&tcp_seq, &id);
	}
	return bpf_sk_storage_get(&tcp_rx_store, sk, 0, 0);
}

/* Creates the socket's position from *init unless it exists (replace: 0) or
 * overwrites it (replace: 1). Returns whether this call's *init is in place:
 * of two observers creating at once, only one is told so. */
static __always_inline int tcp_rx_put(struct sock *sk, struct tcp_rx *init, int replace)
{
	if (sock_id_is_pointer) {
		__u64 id = sock_id(sk);
		return bpf_map_update_elem(&tcp_seq, &id, init, replace ? BPF_ANY : BPF_NOEXIST) ==
		       0;
	}
	/* socket storage has no create-only update: the creator is the thread
	 * whose token the new entry carries */
	__u32 token = (__u32)bpf_get_current_pid_tgid() | 0x80000000;
	init->pad = token;
	struct tcp_rx *st =
		bpf_sk_storage_get(&tcp_rx_store, sk, init, BPF_SK_STORAGE_GET_F_CREATE);
	/* NULL when another CPU created it first: a replace overwrites that */
	if (!st && replace)
		st = bpf_sk_storage_get(&tcp_rx_store, sk, 0, 0);
	if (!st)
		return 0;
	if (replace) {
		st->seq = init->seq;
		st->base = init->base;
		st->provisional = init->provisional;
	} else if (st->pad != token) {
		return 0;
	}
	st->pad = 0;
	return 1;
}

/* Claims the advance from st->seq to seq; concurrent observers of the same
 * advance race on the compare-and-swap and only one counts it.
 * Why 4 tries: a swap fails only when another observer claimed a position
 * in between, and one thread has at most one observation in flight. Reads of
 * one TCP socket are serialized by the socket lock (tcp_rcv_space_adjust runs
 * under it, the receive hooks just after the read released it), so failing
 * four times in a row takes several threads reading one socket at the same
 * instant. Giving up defers rather than drops: st->seq stays behind and the
 * socket's next observation claims the rest. The bound is small because
 * clang unrolls the loop: each try is a copy of the swap in every program
 * that counts TCP receives. */
static __always_inline __u32 advance_tcp_rx(struct tcp_rx *st, __u32 seq)
{
	for (int i = 0; i < 4; i++) {
		__u32 old = st->seq;
		if ((__s32)(seq - old) <= 0)
			return 0;
		if (__sync_val_compare_and_swap(&st->seq, old, seq) == old)
			return seq - old;
	}
	return 0;
}

/* The read returned `bytes`; of those, seq - base were already counted. */
static __always_inline __u32 settle_first_read(struct tcp_rx *st, __u32 seq, __u32 bytes)
{
	if (!st->provisional || !__sync_lock_test_and_set(&st->provisional, 0))
		return 0;
	__u32 counted = seq - st->base;
	return bytes > counted ? bytes - counted : 0;
}

/*
 * TCP: bytes received are exactly how far tcp_sock.copied_seq (what readers
 * have consumed) advanced. This is the same on recvmsg, splice
 * (tcp_read_sock), zero-copy receive and io_uring, never counts MSG_PEEK, and
 * is idempotent: the recv hook and tcp_rcv_space_adjust both observe the
 * same advance and only the first claims it.
 * `read_bytes` is what the read that just returned consumed (read_end), or 0
 * when called from inside a read (tcp_rcv_space_adjust). Returns the bytes
 * to count: each program calls account() once (every inlined copy of it is
 * verified again, which is most of the load time).
 */
static __always_inline __u32 tcp_rx_bytes(struct sock *sk, __u32 read_bytes, int read_end)
{
	__u32 seq = tcp_bytes_seq(sk);
	struct tcp_rx *st = tcp_rx_find(sk);
	if (!st) {
		struct tcp_rx init = { .seq = seq, .base = seq, .provisional = !read_end };
		if (tcp_rx_put(sk, &init, 0))
			return read_bytes;
		st = tcp_rx_find(sk);
		if (!st)
			return 0;
	}
	__u32 n = advance_tcp_rx(st, seq);
	if (read_end)
		n += settle_first_read(st, seq, read_bytes);
	return n;
}

/* A datagram (or raw) receive: whether it counts, and its class in *lo. The
 * signal is taken even when the call is not counted; the ring advances only
 * when a datagram left the queue (a zero-length datagram included). */
static __always_inline int dgram_rx_counts(struct sock *sk, int ret, int flags, int *lo)
{
	int peek = flags & (MSG_PEEK | MSG_ERRQUEUE);
	if (dgram_rx_from_ring) {
		if (peek || ret < 0)
			return 0;
		*lo = ring_pop(sk);
	} else {
		*lo = take_dgram_signal(sk, 0);
		if (peek)
			return 0;
	}
	return ret > 0;
}

static __always_inline void count_recv(struct sock *sk, int ret, int flags)
{
	if (!sk || !is_inet(sk))
		return;
	int lo = BY_ROUTE;
	__u32 bytes = ret > 0 ? ret : 0;
	if (is_dgram(sk)) {
		if (!dgram_rx_counts(sk, ret, flags, &lo))
			return;
	} else if (flags & (MSG_PEEK | MSG_ERRQUEUE)) {
		return;
	} else if (BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP) {
		bytes = tcp_rx_bytes(sk, bytes, 1);
	}
	if (bytes)
		account(sk, bytes, 0, lo);
}

static __always_inline void tcp_rx_hook(struct sock *sk)
{
	if (!sk || !is_inet(sk))
		return;
	__u32 bytes = tcp_rx_bytes(sk, 0, 0);
	if (bytes)
		account(sk, bytes, 0, BY_ROUTE);
}

/* A new connection's receive baseline is its copied_seq when it becomes
 * established, so the first read is counted whole whichever hook sees it
 * first. It is kept after TCP_CLOSE: a socket that shut down its side first
 * reaches CLOSE (via TIME_WAIT) while unread data is still queued. The LRU
 * recycles baselines; a new connection overwrites a reused key's. Runs in
 * softirq for passive opens: no process is credited here. */
static __always_inline void tcp_state(const struct sock *sk, int newstate)
{
	if (newstate != TCP_ESTABLISHED)
		return;
	struct tcp_rx init = { .seq = tcp_bytes_seq((struct sock *)sk) };
	tcp_rx_put((struct sock *)sk, &init, 1);
}

/* Run once by the loader of the fentry and kprobe backends, after they are
 * attached: every TCP socket a process holds gets its receive baseline. A
 * read blocked when netacct started never returns through an attached fexit
 * or kretprobe (those arm at function entry), so its first bytes, copied
 * before tcp_rcv_space_adjust first sees the socket, would be lost; with the
 * baseline, that first observation claims them. (The tracepoint fires at
 * the end of every read, in-flight ones included: the tracepoint backend
 * settles such a read whole, see settle_first_read.) Iterates every task's
 * files, in every network namespace; a socket already seen keeps its
 * position (BPF_NOEXIST). */
SEC("iter/task_file")
int tcp_baseline_iter(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	if (!file)
		return 0;
	struct socket *sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	struct sock *sk = sock->sk;
	if (!sk || sock->type != SOCK_STREAM || !is_inet(sk) ||
	    BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	struct tcp_rx init = { .seq = tcp_bytes_seq(sk) };
	tcp_rx_put(sk, &init, 0);
	return 0;
}

/* ---- tracepoint backend (Linux >= 6.3, commit 6e6eda44b939) ---- */

/* sock_sendmsg_nosec: every sendmsg/write/sendfile(6.5+, splice_to_socket)
 * and io_uring send, with the bytes actually sent (not requested). */
SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_length_tp, struct sock *sk, int ret, int flags)
{
	count_send(sk, ret);
	return 0;
}

/* sock_recvmsg_nosec: every recvmsg/read/io_uring recv. Does not fire for
 * splice from a TCP socket; tcp_rcv_space_adjust covers that. */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_length_tp, struct sock *sk, int ret, int flags)
{
	count_recv(sk, ret, flags);
	return 0;
}

/* tcp:tcp_rcv_space_adjust (Linux >= 4.16) runs in the reader's context after
 * tcp_recvmsg copies each skb and at the end of tcp_read_sock (splice). */
SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(tcp_rcv_space_adjust_tp, struct sock *sk)
{
	tcp_rx_hook(sk);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state_tp, const struct sock *sk, int oldstate, int newstate)
{
	if (BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP)
		tcp_state(sk, newstate);
	return 0;
}

/* net:net_dev_queue fires in __dev_queue_xmit, in the caller's context,
 * before the qdisc, for every packet of every device: the loopback device
 * (noqueue) then transmits in the same call. Why a tracepoint on every device
 * rather than a cgroup_skb egress program (which also sees the device, but
 * only for sockets): it cannot affect the packet, and its cost on a non-lo
 * packet is two loads and a branch (measured in the commit that added it).
 * fentry and kprobe hook loopback_xmit instead, which runs for lo alone. */
SEC("tp_btf/net_dev_queue")
int BPF_PROG(net_dev_queue_tp, struct sk_buff *skb)
{
	struct net_device *dev = skb->dev;
	if (dev && (dev->flags & IFF_LOOPBACK))
		dgram_sent_over_loopback(skb);
	return 0;
}

/*
 * Datagrams received, tracepoint backend. A reader-context signal would need
 * the dequeued skb inside udp_recvmsg, and on the kernels this backend serves
 * no tracepoint sees it: skb:skb_copy_datagram_iovec skips linear skbs (most
 * datagrams: copy_linear_skb), skb:consume_skb stopped firing there when
 * skb_consume_udp moved to skb_attempt_defer_free (6.18 here), and
 * sock_recv_length carries only the socket. The cgroup_skb ingress hook runs
 * per datagram after socket lookup (sk_filter, before the socket's queue) and
 * knows the socket and the input device; it records one bit per datagram in
 * the socket's ring, matched to reads in queue order (ring_pop). Attached to
 * the cgroup v2 root through a link (dies with netacct), always passes the
 * packet; returns on the first test for stream sockets.
 */
SEC("cgroup_skb/ingress")
int dgram_ingress_cgroup(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || (sk->type != SOCK_DGRAM && sk->type != SOCK_RAW))
		return 1;
	struct dgram_ring *r = bpf_sk_storage_get(&dgram_rings, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (r)
		ring_push(r, skb->ingress_ifindex == LOOPBACK_IFINDEX);
	return 1;
}

/*
 * IP packets per cgroup (netacct.h, `cgroups`), wire layer only, every
 * backend: cgroup_skb programs on the cgroup v2 root run for every packet of
 * every full socket of every cgroup below it (effective programs are
 * inherited), in the socket's own network namespace: egress in
 * ip_finish_output / ip6_finish_output before GSO segmentation, ingress in
 * sk_filter after the socket lookup; both with skb->len from the IP header
 * on. Why not the TC classifier: at TC ingress no socket is known yet, and a
 * container's packets cross its own namespace's device, not the ones netacct
 * watches. bpf_skb_cgroup_id is the socket's cgroup (a request socket's
 * SYN-ACK: its listener's, where the hook runs for it; Linux 6.1's does not,
 * 6.18's does). Tested on both. Always passes the packet.
 */
static __always_inline void count_cgroup_ip(struct __sk_buff *skb, bool tx)
{
	__u64 id = bpf_skb_cgroup_id(skb);
	if (!id)
		return; /* no full socket: a request or time-wait socket's packet */
	__u32 idx;
	struct na_cgroup_slot *s = cgroup_slot(id, &idx, false);
	if (!s) {
		STAT_INC(insert_failed);
		return;
	}
	struct na_cgroup_ip *c = skb->ifindex == LOOPBACK_IFINDEX ? &s->lo_ip : &s->ip;
	__u64 segs = skb->gso_segs ? skb->gso_segs : 1;
	__sync_fetch_and_add(tx ? &c->tx_bytes : &c->rx_bytes, skb->len);
	__sync_fetch_and_add(tx ? &c->tx_packets : &c->rx_packets, segs);
}

SEC("cgroup_skb/egress")
int cgroup_ip_egress_wire(struct __sk_buff *skb)
{
	count_cgroup_ip(skb, true);
	return 1;
}

SEC("cgroup_skb/ingress")
int cgroup_ip_ingress_wire(struct __sk_buff *skb)
{
	count_cgroup_ip(skb, false);
	return 1;
}

/*
 * Wire layer: every backend. A TC classifier on the ingress and egress of
 * each interface netacct watches (attached as a TCX link on Linux >= 6.6,
 * else as a direct-action cls_bpf filter under clsact: user/kernel/wire.cpp).
 * TC egress runs in __dev_queue_xmit before the qdisc, TC ingress in
 * __netif_receive_skb_core before the protocol handlers: each packet the
 * device carries passes once, whole (a GSO packet before segmentation, a GRO
 * packet after merging), with the link-layer header in skb->len on both sides
 * (cls_bpf pushes it back on ingress). Counting rule: netacct.h,
 * struct na_wire_val. Returns TC_ACT_UNSPEC (TCX_NEXT, the same -1): the
 * packet goes on to the next program or filter as if netacct were not there.
 */
#define TC_ACT_UNSPEC (-1)
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_SCTP_ 132
#define IPPROTO_UDPLITE_ 136

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, NA_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct na_iface_val);
} ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NA_MAX_FLOWS);
	__type(key, struct na_flow_key);
	__type(value, struct na_wire_val);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NA_MAX_RETRANS);
	__type(key, struct na_flow_key);
	__type(value, struct na_retrans_val);
} retrans SEC(".maps");

static __always_inline int has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP_ ||
	       proto == IPPROTO_UDPLITE_;
}

/* The packet's flow, oriented from this host (netacct.h, struct
 * na_flow_key), read with a helper relative to the network header: for
 * devices whose link-layer header netacct does not know, and packets whose
 * headers are not in the linear part. */
static __always_inline void flow_by_helper(struct __sk_buff *skb, bool egress,
					   struct na_flow_key *k)
{
	__u8 *src = egress ? k->laddr : k->raddr;
	__u8 *dst = egress ? k->raddr : k->laddr;
	__u32 l4 = 0;
	if (k->ethertype == ETH_P_IP) {
		struct iphdr ip;
		if (bpf_skb_load_bytes_relative(skb, 0, &ip, sizeof(ip), BPF_HDR_START_NET))
			return;
		k->proto = ip.protocol;
		__builtin_memcpy(src, &ip.saddr, 4);
		__builtin_memcpy(dst, &ip.daddr, 4);
		if (ip.frag_off & bpf_htons(0x1fff))
			return; /* a later fragment: no ports in it */
		l4 = ip.ihl * 4;
	} else if (k->ethertype == ETH_P_IPV6) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes_relative(skb, 0, &ip6, sizeof(ip6), BPF_HDR_START_NET))
			return;
		k->proto = ip6.nexthdr;
		__builtin_memcpy(src, &ip6.saddr, 16);
		__builtin_memcpy(dst, &ip6.daddr, 16);
		l4 = sizeof(ip6);
	}
	__be16 ports[2];
	if (!has_ports(k->proto) ||
	    bpf_skb_load_bytes_relative(skb, l4, ports, sizeof(ports), BPF_HDR_START_NET))
		return;
	k->lport = bpf_ntohs(egress ? ports[0] : ports[1]);
	k->rport = bpf_ntohs(egress ? ports[1] : ports[0]);
}

/* The same, read in place (direct packet access: no helper call) after the
 * device's link-layer header; 0 when the headers are not all in the linear
 * part, so the helper must read them. */
static __always_inline int flow_in_place(struct __sk_buff *skb, bool egress, struct na_flow_key *k,
					 __u32 l2_len)
{
	void *end = (void *)(long)skb->data_end;
	void *nh = (void *)(long)skb->data;
	__u8 *src = egress ? k->laddr : k->raddr;
	__u8 *dst = egress ? k->raddr : k->laddr;
	__u32 l4;
	if (l2_len > 14)
		return 0;
	nh += l2_len;
	if (k->ethertype == ETH_P_IP) {
		struct iphdr *ip = nh;
		if ((void *)(ip + 1) > end)
			return 0;
		k->proto = ip->protocol;
		__builtin_memcpy(src, &ip->saddr, 4);
		__builtin_memcpy(dst, &ip->daddr, 4);
		if (ip->frag_off & bpf_htons(0x1fff))
			return 1;
		l4 = ip->ihl * 4;
	} else if (k->ethertype == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = nh;
		if ((void *)(ip6 + 1) > end)
			return 0;
		k->proto = ip6->nexthdr;
		__builtin_memcpy(src, &ip6->saddr, 16);
		__builtin_memcpy(dst, &ip6->daddr, 16);
		l4 = sizeof(*ip6);
	} else {
		return 1;
	}
	if (!has_ports(k->proto))
		return 1;
	__be16 *ports = nh + (l4 & 0x7f);
	if ((void *)(ports + 2) > end)
		return 0;
	k->lport = bpf_ntohs(egress ? ports[0] : ports[1]);
	k->rport = bpf_ntohs(egress ? ports[1] : ports[0]);
	return 1;
}

static __always_inline void flow_of(struct __sk_buff *skb, bool egress, struct na_flow_key *k,
				    __u32 l2_len)
{
	k->ifindex = skb->ifindex;
	k->ethertype = bpf_ntohs(skb->protocol);
	if (flow_in_place(skb, egress, k, l2_len))
		return;
	k->proto = 0;
	flow_by_helper(skb, egress, k);
}

static __always_inline void count_flow(struct __sk_buff *skb, bool egress, __u64 segs, __u32 l2_len)
{
	struct na_flow_key k = {};
	flow_of(skb, egress, &k, l2_len);
	struct na_wire_val *v = bpf_map_lookup_elem(&flows, &k);
	if (!v) {
		struct na_wire_val zero = {};
		bpf_map_update_elem(&flows, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&flows, &k);
		if (!v)
			return;
	}
	if (egress) {
		__sync_fetch_and_add(&v->tx_bytes, skb->len);
		__sync_fetch_and_add(&v->tx_packets, segs);
	} else {
		__sync_fetch_and_add(&v->rx_bytes, skb->len);
		__sync_fetch_and_add(&v->rx_packets, segs);
	}
}

static __always_inline void count_wire(struct __sk_buff *skb, bool egress)
{
	__u32 ifindex = skb->ifindex;
	struct na_iface_val *v = bpf_map_lookup_elem(&ifaces, &ifindex);
	if (!v)
		return;
	__u64 segs = skb->gso_segs ? skb->gso_segs : 1;
	if (egress) {
		v->wire.tx_bytes += skb->len;
		v->wire.tx_packets += segs;
	} else {
		v->wire.rx_bytes += skb->len;
		v->wire.rx_packets += segs;
	}
	count_flow(skb, egress, segs, v->l2_len);
}

SEC("tc")
int wire_ingress_tc(struct __sk_buff *skb)
{
	count_wire(skb, false);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int wire_egress_tc(struct __sk_buff *skb)
{
	count_wire(skb, true);
	return TC_ACT_UNSPEC;
}

/* tcp:tcp_retransmit_skb (Linux >= 4.15) fires for each retransmission of a
 * data segment, in whatever context retransmits (the RTO timer, an incoming
 * ACK). Attached as a raw tracepoint on every backend: it needs neither BTF
 * tracing (fentry) nor kprobes, nor tracefs (which `ip netns exec` hides by
 * remounting /sys, so a classic tracepoint could not be found). Its first
 * two arguments are the socket and the skb on every kernel since. skb->len
 * is the segment's payload (headers are pushed on a clone as it is sent). */
static __always_inline void count_retransmit(const struct sock *sk, const struct sk_buff *skb)
{
	struct na_flow_key k = { .proto = IPPROTO_TCP };
	k.ifindex = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	k.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	k.rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (family == AF_INET) {
		k.ethertype = ETH_P_IP;
		BPF_CORE_READ_INTO((__u32 *)k.laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)k.raddr, sk, __sk_common.skc_daddr);
	} else {
		k.ethertype = ETH_P_IPV6;
		bpf_core_read(k.laddr, sizeof(k.laddr), &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(k.raddr, sizeof(k.raddr), &sk->__sk_common.skc_v6_daddr);
	}
	__u64 len = BPF_CORE_READ(skb, len);
	struct na_retrans_val *v = bpf_map_lookup_elem(&retrans, &k);
	if (!v) {
		struct na_retrans_val zero = {};
		bpf_map_update_elem(&retrans, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&retrans, &k);
		if (!v)
			return;
	}
	__sync_fetch_and_add(&v->bytes, len);
	__sync_fetch_and_add(&v->segments, 1);
}

/* Kernels whose tracepoint has no error argument fire it only for a
 * retransmission that was sent. */
SEC("raw_tp/tcp_retransmit_skb")
int tcp_retransmit_wire(struct bpf_raw_tracepoint_args *ctx)
{
	count_retransmit((const struct sock *)ctx->args[0], (const struct sk_buff *)ctx->args[1]);
	return 0;
}

/* Newer kernels (6.18 here) pass the transmit's error as a third argument
 * and fire for failed attempts too: a segment whose earlier copy is still
 * queued on the host (-EBUSY) or that could not be sent crossed no wire and
 * is not in TCP_INFO's bytes_retrans. The loader picks this program where
 * the tracepoint's BTF prototype has the argument (the other would be
 * refused an argument the tracepoint lacks). */
SEC("raw_tp/tcp_retransmit_skb")
int tcp_retransmit_err_wire(struct bpf_raw_tracepoint_args *ctx)
{
	if ((int)ctx->args[2] != 0)
		return 0;
	count_retransmit((const struct sock *)ctx->args[0], (const struct sk_buff *)ctx->args[1]);
	return 0;
}

/* sched:sched_process_exec fires in exec_binprm once the new program is
 * loaded, after begin_new_exec incremented self_exec_id. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec_tp, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	program_replaced(p);
	return 0;
}

/* ---- fentry backend (BTF trampolines, Linux >= 5.5) ----
 * inet_sendmsg / inet6_sendmsg sit below every socket send syscall and above
 * the protocols (TCP, UDP, ping, raw, SCTP): one hook per family, and
 * v4-mapped UDP (udpv6_sendmsg -> udp_sendmsg) is seen once. Their
 * signatures have been stable since Linux 4.x, unlike tcp_recvmsg and
 * udp_recvmsg, which lost `noblock` in 5.19 (commit ec095263a965).
 *
 * This backend and the kprobe one serve kernels before 6.3. Those kernels do
 * have the tcp:tcp_rcv_space_adjust and sock:inet_sock_set_state tracepoints
 * (Linux >= 4.16), yet both backends hook the functions instead: a backend is
 * one attach mechanism. The loader autoloads a backend's programs by their
 * name suffix, doctor calls a backend available after probing that one
 * mechanism, and --backend fentry or kprobe then runs that mechanism alone,
 * which is what the VM suite tests backend by backend. */

/* sock->sk, not BPF_CORE_READ: bpf_get_socket_cookie in tracing programs
 * takes a BTF pointer to a socket (ARG_PTR_TO_BTF_ID_SOCK_COMMON); a value
 * read with bpf_probe_read is a scalar and the verifier refuses the load. */
SEC("fexit/inet_sendmsg")
int BPF_PROG(inet_sendmsg_fexit, struct socket *sock, struct msghdr *msg, size_t size, int ret)
{
	count_send(sock->sk, ret);
	return 0;
}

SEC("fexit/inet6_sendmsg")
int BPF_PROG(inet6_sendmsg_fexit, struct socket *sock, struct msghdr *msg, size_t size, int ret)
{
	count_send(sock->sk, ret);
	return 0;
}

/* sendfile/splice to a socket before Linux 6.5 (commit dc97391e6610) went
 * through sendpage, not sendmsg. Not loaded where the function is gone. */
SEC("fexit/inet_sendpage")
int BPF_PROG(inet_sendpage_fexit, struct socket *sock, void *page, int offset, size_t size,
	     int flags, int ret)
{
	count_send(sock->sk, ret);
	return 0;
}

SEC("fexit/inet_recvmsg")
int BPF_PROG(inet_recvmsg_fexit, struct socket *sock, struct msghdr *msg, size_t size, int flags,
	     int ret)
{
	count_recv(sock->sk, ret, flags);
	return 0;
}

SEC("fexit/inet6_recvmsg")
int BPF_PROG(inet6_recvmsg_fexit, struct socket *sock, struct msghdr *msg, size_t size, int flags,
	     int ret)
{
	count_recv(sock->sk, ret, flags);
	return 0;
}

/* IPv6 raw and ping sockets (inet6_sockraw_ops) and L2TP over IP receive
 * through sock_common_recvmsg, not inet6_recvmsg. The two never nest, so a
 * read is seen by exactly one of them; other families are not counted. */
SEC("fexit/sock_common_recvmsg")
int BPF_PROG(sock_common_recvmsg_fexit, struct socket *sock, struct msghdr *msg, size_t size,
	     int flags, int ret)
{
	count_recv(sock->sk, ret, flags);
	return 0;
}

SEC("fentry/tcp_rcv_space_adjust")
int BPF_PROG(tcp_rcv_space_adjust_fentry, struct sock *sk)
{
	tcp_rx_hook(sk);
	return 0;
}

/* tcp_set_state is where inet_sock_set_state fires for TCP (through
 * inet_sk_state_store): every move to TCP_ESTABLISHED, active or passive open,
 * goes through it; the tracepoint's other TCP sources (inet_csk_clone_lock,
 * inet_csk_listen_start) only set SYN_RECV on a new child socket and
 * LISTEN/CLOSE around listen(). It is TCP-only, so unlike the tracepoint it
 * needs no protocol test, and it is a global function (EXPORT_SYMBOL_GPL) that
 * fexit and kprobes can attach to on every kernel these backends serve. */
SEC("fexit/tcp_set_state")
int BPF_PROG(tcp_set_state_fexit, struct sock *sk, int state)
{
	tcp_state(sk, state);
	return 0;
}

/* The loopback device's ndo_start_xmit (drivers/net/loopback.c), called from
 * the sender's __dev_queue_xmit for lo packets only: no cost for other
 * devices. Static, but never inlined (called through netdev_ops), so it has
 * BTF and a kallsyms entry on every kernel. */
SEC("fentry/loopback_xmit")
int BPF_PROG(loopback_xmit_fentry, struct sk_buff *skb, struct net_device *dev)
{
	dgram_sent_over_loopback(skb);
	return 0;
}

/* udp_recvmsg and udpv6_recvmsg end every dequeue with skb_consume_udp, in
 * the reader's context (MSG_PEEK too: the receive hook takes that signal and
 * does not count). Global, same signature since it replaced consume_skb there
 * (Linux 4.10) and through 6.18. */
SEC("fentry/skb_consume_udp")
int BPF_PROG(skb_consume_udp_fentry, struct sock *sk, struct sk_buff *skb, int len)
{
	dgram_dequeued(sk, skb);
	return 0;
}

/* raw_recvmsg, rawv6_recvmsg and ping_recvmsg free each datagram they read
 * with skb_free_datagram, in the reader's context. */
SEC("fentry/skb_free_datagram")
int BPF_PROG(skb_free_datagram_fentry, struct sock *sk, struct sk_buff *skb)
{
	dgram_dequeued(sk, skb);
	return 0;
}

/* begin_new_exec (Linux >= 5.8, formerly flush_old_exec) is the point of no
 * return of execve(): on success the old program is gone (de_thread) and
 * self_exec_id was incremented. */
SEC("fexit/begin_new_exec")
int BPF_PROG(begin_new_exec_fexit, struct linux_binprm *bprm, int ret)
{
	if (ret == 0)
		program_replaced((struct task_struct *)bpf_get_current_task());
	return 0;
}

/* ---- kprobe backend: the same functions, arguments stashed per thread ----
 * Hooks the same functions as the fentry backend, tcp_set_state and
 * tcp_rcv_space_adjust included, for the same reason (one mechanism per
 * backend). */

static __always_inline void stash(struct socket *sock, int flags)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct inflight f = { .sk = BPF_CORE_READ(sock, sk), .flags = flags };
	bpf_map_update_elem(&inflight, &id, &f, BPF_ANY);
}

static __always_inline struct inflight *unstash(struct inflight *out)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct inflight *f = bpf_map_lookup_elem(&inflight, &id);
	if (!f)
		return 0;
	*out = *f;
	bpf_map_delete_elem(&inflight, &id);
	return out;
}

static __always_inline void send_ret(int ret)
{
	struct inflight f;
	if (unstash(&f))
		count_send(f.sk, ret);
}

static __always_inline void recv_ret(int ret)
{
	struct inflight f;
	if (unstash(&f))
		count_recv(f.sk, ret, f.flags);
}

SEC("kprobe/inet_sendmsg")
int BPF_KPROBE(inet_sendmsg_kprobe, struct socket *sock)
{
	stash(sock, 0);
	return 0;
}

SEC("kretprobe/inet_sendmsg")
int BPF_KRETPROBE(inet_sendmsg_kretprobe, int ret)
{
	send_ret(ret);
	return 0;
}

SEC("kprobe/inet6_sendmsg")
int BPF_KPROBE(inet6_sendmsg_kprobe, struct socket *sock)
{
	stash(sock, 0);
	return 0;
}

SEC("kretprobe/inet6_sendmsg")
int BPF_KRETPROBE(inet6_sendmsg_kretprobe, int ret)
{
	send_ret(ret);
	return 0;
}

SEC("kprobe/inet_sendpage")
int BPF_KPROBE(inet_sendpage_kprobe, struct socket *sock)
{
	stash(sock, 0);
	return 0;
}

SEC("kretprobe/inet_sendpage")
int BPF_KRETPROBE(inet_sendpage_kretprobe, int ret)
{
	send_ret(ret);
	return 0;
}

SEC("kprobe/inet_recvmsg")
int BPF_KPROBE(inet_recvmsg_kprobe, struct socket *sock, void *msg, size_t size, int flags)
{
	stash(sock, flags);
	return 0;
}

SEC("kretprobe/inet_recvmsg")
int BPF_KRETPROBE(inet_recvmsg_kretprobe, int ret)
{
	recv_ret(ret);
	return 0;
}

SEC("kprobe/inet6_recvmsg")
int BPF_KPROBE(inet6_recvmsg_kprobe, struct socket *sock, void *msg, size_t size, int flags)
{
	stash(sock, flags);
	return 0;
}

SEC("kretprobe/inet6_recvmsg")
int BPF_KRETPROBE(inet6_recvmsg_kretprobe, int ret)
{
	recv_ret(ret);
	return 0;
}

SEC("kprobe/sock_common_recvmsg")
int BPF_KPROBE(sock_common_recvmsg_kprobe, struct socket *sock, void *msg, size_t size, int flags)
{
	stash(sock, flags);
	return 0;
}

SEC("kretprobe/sock_common_recvmsg")
int BPF_KRETPROBE(sock_common_recvmsg_kretprobe, int ret)
{
	recv_ret(ret);
	return 0;
}

SEC("kprobe/tcp_rcv_space_adjust")
int BPF_KPROBE(tcp_rcv_space_adjust_kprobe, struct sock *sk)
{
	tcp_rx_hook(sk);
	return 0;
}

SEC("kprobe/tcp_set_state")
int BPF_KPROBE(tcp_set_state_kprobe, struct sock *sk, int state)
{
	tcp_state(sk, state);
	return 0;
}

SEC("kprobe/loopback_xmit")
int BPF_KPROBE(loopback_xmit_kprobe, struct sk_buff *skb)
{
	dgram_sent_over_loopback(skb);
	return 0;
}

SEC("kprobe/skb_consume_udp")
int BPF_KPROBE(skb_consume_udp_kprobe, struct sock *sk, struct sk_buff *skb)
{
	dgram_dequeued(sk, skb);
	return 0;
}

SEC("kprobe/skb_free_datagram")
int BPF_KPROBE(skb_free_datagram_kprobe, struct sock *sk, struct sk_buff *skb)
{
	dgram_dequeued(sk, skb);
	return 0;
}

SEC("kretprobe/begin_new_exec")
int BPF_KRETPROBE(begin_new_exec_kretprobe, int ret)
{
	if (ret == 0)
		program_replaced((struct task_struct *)bpf_get_current_task());
	return 0;
}

/*
 * DNS answers (netacct.h, na_dns_event): every backend unless
 * --no-dns-names. On the cgroup v2 root, like the per-cgroup IP counters: it
 * runs for every packet delivered to a full socket of any cgroup below the
 * root, in any network namespace, after the socket lookup, with the packet
 * from its IP header on. A stub resolver answering over loopback
 * (127.0.0.53, dnsmasq) delivers the answer to the asking program's own
 * socket, so it is seen here as well. The common case (a stream socket's
 * packet) costs the socket's protocol test; a UDP datagram not from port 53
 * costs two small header reads more. Only the DNS message is copied, cut at
 * NA_DNS_MAX bytes. Always passes the packet.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, NA_DNS_RING_BYTES);
} dns_answers SEC(".maps");

/* Answers that found the ring full (userspace reads it from .bss). */
__u64 dns_lost = 0;

#define DNS_PORT 53

struct udp_header {
	__be16 source;
	__be16 dest;
	__be16 len;
	__be16 check;
};

/* Where the UDP header starts, or 0 when the packet is not UDP over IP. IPv6
 * extension headers are not walked (a DNS answer carries none). */
static __always_inline __u32 udp_offset(struct __sk_buff *skb)
{
	__u8 b;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, 0, &b, 1))
			return 0;
		return (b & 0xf) * 4;
	}
	if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, 6, &b, 1) || b != IPPROTO_UDP)
			return 0;
		return 40;
	}
	return 0;
}

/* The receiving socket as the connection entries name it (sock_id): its
 * cookie, or with the kprobe backend its address and the address's current
 * generation (pointer_id; read here, never made: the socket's own hooks made
 * it when it sent the query). */
static __always_inline __u64 dns_sock_id(struct __sk_buff *skb, struct bpf_sock *sk)
{
	if (!sock_id_is_pointer)
		return bpf_get_socket_cookie(skb);
	/* The verifier refuses arithmetic on a socket pointer (a cast is not
	 * enough: "pointer arithmetic on sock prohibited"); its value, copied
	 * out of the stack slot that holds it, is a plain number. */
	__u64 addr = 0;
	bpf_probe_read_kernel(&addr, sizeof(addr), &sk);
	struct sk_gen *g = bpf_map_lookup_elem(&sk_gens, &addr);
	return addr ^ ((g ? g->gen : 0) << 48);
}

SEC("cgroup_skb/ingress")
int dns_answer_dns(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != IPPROTO_UDP)
		return 1;
	__u32 l4 = udp_offset(skb);
	struct udp_header uh;
	if (!l4 || bpf_skb_load_bytes(skb, l4, &uh, sizeof(uh)) || uh.source != bpf_htons(DNS_PORT))
		return 1;
	__u32 msg = bpf_ntohs(uh.len);
	if (msg <= sizeof(uh) || l4 + msg > skb->len)
		return 1;
	msg -= sizeof(uh);
	struct na_dns_event *e = bpf_ringbuf_reserve(&dns_answers, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&dns_lost, 1);
		return 1;
	}
	/* The copy's length less one, bounded by a 64-bit compare: Linux 6.1's
	 * verifier learns no lower bound from a 32-bit "len != 0" and refused
	 * a length that might be 0 (bpf_skb_load_bytes' size is ARG_CONST_SIZE);
	 * from "last < NA_DNS_MAX" it knows last + 1 lies in 1..NA_DNS_MAX. */
	__u64 last = (msg < NA_DNS_MAX ? msg : NA_DNS_MAX) - 1;
	barrier_var(last);
	if (last >= NA_DNS_MAX || bpf_skb_load_bytes(skb, l4 + sizeof(uh), e->data, last + 1)) {
		bpf_ringbuf_discard(e, 0);
		return 1;
	}
	e->cookie = dns_sock_id(skb, sk);
	e->cgroup_id = bpf_skb_cgroup_id(skb);
	e->mono_ns = bpf_ktime_get_ns();
	e->len = last + 1;
	e->msg_len = msg;
	bpf_ringbuf_submit(e, 0);
	return 1;
}
