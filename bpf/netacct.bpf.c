// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Socket-level payload accounting. Three backends feed the same counting
 * bodies; userspace autoloads exactly one backend's programs:
 *   tracepoint: sock:sock_send_length / sock:sock_recv_length (Linux >= 6.3)
 *   fentry:     fexit on inet{,6}_sendmsg, inet{,6}_recvmsg, inet_sendpage
 *   kprobe:     kprobe/kretprobe on the same functions
 * TCP receives are counted from tcp_sock.copied_seq advances (see
 * count_tcp_rx), which is exact on every read path, splice included.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "netacct.h"

#define AF_INET 2
#define AF_INET6 10
#define MSG_PEEK 2
#define MSG_ERRQUEUE 0x2000
#define TCP_ESTABLISHED 1

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader for the kprobe backend: kprobe programs may not call
 * bpf_get_socket_cookie, so sockets are named by their address instead.
 * The verifier prunes the branch not taken (rodata is frozen at load). */
const volatile __u32 sock_id_is_pointer = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NA_MAX_PROCS);
	__type(key, struct na_proc_key);
	__type(value, struct na_proc_val);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NA_MAX_CONNS);
	__type(key, struct na_conn_key);
	__type(value, struct na_conn_val);
} conns SEC(".maps");

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

static __always_inline int is_inet(const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return family == AF_INET || family == AF_INET6;
}

static __always_inline __u64 current_start_ns(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	return BPF_CORE_READ(task, group_leader, start_boottime);
}

/* First sight of a process: capture its identity in the kernel, so a process
 * that exits before userspace polls is still reported by name. */
static __always_inline struct na_proc_val *proc_entry(const struct na_proc_key *key)
{
	struct na_proc_val *val = bpf_map_lookup_elem(&procs, key);
	if (val)
		return val;
	struct na_proc_val init = {};
	init.uid = (__u32)bpf_get_current_uid_gid();
	init.cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(init.comm, sizeof(init.comm));
	if (bpf_map_update_elem(&procs, key, &init, BPF_NOEXIST) == 0)
		STAT_INC(proc_created);
	val = bpf_map_lookup_elem(&procs, key);
	if (!val)
		STAT_INC(insert_failed);
	return val;
}

static __always_inline int is_loopback(const struct na_conn_val *c)
{
	const __u32 *r = (const __u32 *)c->raddr, *l = (const __u32 *)c->laddr;
	if (c->family == AF_INET)
		return c->raddr[0] == 127 || c->laddr[0] == 127 || (r[0] && r[0] == l[0]);
	int lead_zero = r[0] == 0 && r[1] == 0;
	int v6_lo = lead_zero && r[2] == 0 && r[3] == bpf_htonl(1); /* ::1 */
	int mapped_lo = lead_zero && r[2] == bpf_htonl(0xffff) && c->raddr[12] == 127;
	/* traffic to one of this host's own addresses also goes over lo */
	int same = (r[0] | r[1] | r[2] | r[3]) && r[0] == l[0] && r[1] == l[1] && r[2] == l[2] &&
		   r[3] == l[3];
	return v6_lo || mapped_lo || same;
}

/* The socket's addresses, read at first sight and again when it gains a
 * remote port later (a UDP socket connected after its first send). */
static __always_inline void fill_tuple(struct na_conn_val *c, const struct sock *sk)
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
	c->flags = is_loopback(c) ? NA_CONN_LOOPBACK : 0;
}

/* kprobe backend: the address now names another socket when the local port
 * changed. A closed socket leaving its bind bucket (inet_put_port, at
 * TCP_CLOSE, possibly before its last reads) has port 0: not a new socket. */
static __always_inline int reused_address(const struct na_conn_val *val, const struct sock *sk)
{
	__u16 num = BPF_CORE_READ(sk, __sk_common.skc_num);
	return num != 0 && num != val->lport;
}

static __always_inline struct na_conn_val *conn_entry(const struct na_conn_key *key,
						      const struct sock *sk)
{
	struct na_conn_val *val = bpf_map_lookup_elem(&conns, key);
	if (val) {
		/* One read on the hot path: an unconnected UDP socket keeps port 0
		 * and is not re-read at every datagram. */
		if ((val->rport == 0 && BPF_CORE_READ(sk, __sk_common.skc_dport) != 0) ||
		    (sock_id_is_pointer && reused_address(val, sk)))
			fill_tuple(val, sk);
		return val;
	}
	struct na_conn_val init = {};
	fill_tuple(&init, sk);
	if (bpf_map_update_elem(&conns, key, &init, BPF_NOEXIST) == 0)
		STAT_INC(conn_created);
	val = bpf_map_lookup_elem(&conns, key);
	if (!val)
		STAT_INC(insert_failed);
	return val;
}

/* Credit bytes to the current process and to (socket, process). */
static __always_inline void account(struct sock *sk, __u64 bytes, int tx)
{
	struct na_proc_key pkey = {
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.start_ns = current_start_ns(),
	};
	struct na_conn_key ckey = {
		.cookie = sock_id(sk),
		.tgid = pkey.tgid,
		.start_ns = pkey.start_ns,
	};
	struct na_conn_val *conn = conn_entry(&ckey, sk);
	struct na_proc_val *proc = proc_entry(&pkey);
	int lo = conn ? (conn->flags & NA_CONN_LOOPBACK) : 0;
	if (conn)
		__sync_fetch_and_add(tx ? &conn->tx_bytes : &conn->rx_bytes, bytes);
	if (proc) {
		__u64 *ctr = tx ? (lo ? &proc->lo_tx_bytes : &proc->tx_bytes) :
				  (lo ? &proc->lo_rx_bytes : &proc->rx_bytes);
		__sync_fetch_and_add(ctr, bytes);
	}
	STAT_INC(events);
}

static __always_inline void count_send(struct sock *sk, int ret)
{
	if (ret <= 0 || !sk || !is_inet(sk))
		return;
	account(sk, ret, 1);
}

/* copied_seq also steps over the peer's FIN (one sequence number, no data)
 * when a reader consumes it. tcp_fin() sets SOCK_DONE and the FIN is the last
 * sequence number, so copied_seq == rcv_nxt then means the FIN was consumed. */
static __always_inline __u32 tcp_bytes_seq(struct sock *sk)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u64 flags = BPF_CORE_READ(sk, __sk_common.skc_flags);
	int fin_seen = (flags >> bpf_core_enum_value(enum sock_flags, SOCK_DONE)) & 1;
	__u32 rcv_nxt = BPF_CORE_READ(tp, rcv_nxt);
	__u32 seq = BPF_CORE_READ(tp, copied_seq);
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

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NA_MAX_TCP_SEQ);
	__type(key, __u64);
	__type(value, struct tcp_rx);
} tcp_seq SEC(".maps");

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
static __always_inline void advance_tcp_rx(struct sock *sk, struct tcp_rx *st, __u32 seq)
{
	for (int i = 0; i < 4; i++) {
		__u32 old = st->seq;
		if ((__s32)(seq - old) <= 0)
			return;
		if (__sync_val_compare_and_swap(&st->seq, old, seq) == old) {
			account(sk, seq - old, 0);
			return;
		}
	}
}

/* The read returned `bytes`; of those, seq - base were already counted. */
static __always_inline void settle_first_read(struct sock *sk, struct tcp_rx *st, __u32 seq,
					      __u32 bytes)
{
	if (!st->provisional || !__sync_lock_test_and_set(&st->provisional, 0))
		return;
	__u32 counted = seq - st->base;
	if (bytes > counted)
		account(sk, bytes - counted, 0);
}

/*
 * TCP: bytes received are exactly how far tcp_sock.copied_seq (what readers
 * have consumed) advanced. This is the same on recvmsg, splice
 * (tcp_read_sock), zero-copy receive and io_uring, never counts MSG_PEEK, and
 * is idempotent: the recv hook and tcp_rcv_space_adjust both observe the
 * same advance and only the first claims it.
 * `read_bytes` is what the read that just returned consumed (read_end), or 0
 * when called from inside a read (tcp_rcv_space_adjust).
 */
static __always_inline void count_tcp_rx(struct sock *sk, __u32 read_bytes, int read_end)
{
	__u64 cookie = sock_id(sk);
	__u32 seq = tcp_bytes_seq(sk);
	struct tcp_rx *st = bpf_map_lookup_elem(&tcp_seq, &cookie);
	if (!st) {
		struct tcp_rx init = { .seq = seq, .base = seq, .provisional = !read_end };
		if (bpf_map_update_elem(&tcp_seq, &cookie, &init, BPF_NOEXIST) == 0) {
			if (read_bytes)
				account(sk, read_bytes, 0);
			return;
		}
		st = bpf_map_lookup_elem(&tcp_seq, &cookie);
		if (!st)
			return;
	}
	advance_tcp_rx(sk, st, seq);
	if (read_end)
		settle_first_read(sk, st, seq, read_bytes);
}

static __always_inline void count_recv(struct sock *sk, int ret, int flags)
{
	if (!sk || !is_inet(sk) || (flags & (MSG_PEEK | MSG_ERRQUEUE)))
		return;
	if (BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP) {
		count_tcp_rx(sk, ret > 0 ? ret : 0, 1);
		return;
	}
	if (ret > 0)
		account(sk, ret, 0);
}

static __always_inline void tcp_rx_hook(struct sock *sk)
{
	if (sk && is_inet(sk))
		count_tcp_rx(sk, 0, 0);
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
	__u64 cookie = sock_id((struct sock *)sk);
	struct tcp_rx init = { .seq = BPF_CORE_READ((struct tcp_sock *)sk, copied_seq) };
	bpf_map_update_elem(&tcp_seq, &cookie, &init, BPF_ANY);
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
