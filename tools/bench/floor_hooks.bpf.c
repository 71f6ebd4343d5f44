// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The least a per-socket counter can cost: on the send and receive hooks,
 * find the socket's own storage (made on first use) and add the bytes with
 * one atomic. No process, no connection key, no loopback classification.
 * netacct_hook_cost runs it next to the empty program and netacct in the same
 * run: its ratio to the empty program is the floor under any design that
 * counts per socket.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} floor_bytes SEC(".maps");

static __always_inline void count(struct sock *sk, int ret)
{
	if (ret <= 0)
		return;
	__u64 *v = bpf_sk_storage_get(&floor_bytes, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (v)
		__sync_fetch_and_add(v, ret);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_length_floor, struct sock *sk, int ret, int flags)
{
	count(sk, ret);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_length_floor, struct sock *sk, int ret, int flags)
{
	count(sk, ret);
	return 0;
}
