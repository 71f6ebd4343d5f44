// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The floor of the per-event cost: one program that does nothing on each hook
 * the tracepoint backend uses. netacct_hook_cost runs it next to netacct, in
 * the same run, so each hook's cost reads as a ratio to an empty program on
 * that hook (the design target: at most 2x).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tp_btf/sock_send_length")
int BPF_PROG(sock_send_length_empty)
{
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(sock_recv_length_empty)
{
	return 0;
}

SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(tcp_rcv_space_adjust_empty)
{
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state_empty)
{
	return 0;
}

SEC("tp_btf/net_dev_queue")
int BPF_PROG(net_dev_queue_empty)
{
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec_empty)
{
	return 0;
}

SEC("cgroup_skb/ingress")
int dgram_ingress_empty(struct __sk_buff *skb)
{
	return 1;
}
