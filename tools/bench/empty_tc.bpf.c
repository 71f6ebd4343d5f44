// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The floor of the wire layer's per-packet cost: a TC program that does
 * nothing, for the ingress and the egress of an interface. netacct_hook_cost
 * attaches it where netacct's wire_ingress_tc and wire_egress_tc go (a TCX
 * link, or a direct-action filter under clsact) and runs it in the same run,
 * so each of netacct's TC programs reads as a ratio to it (the target: at
 * most 2x). It returns what netacct's do, TC_ACT_UNSPEC (TCX_NEXT, the same
 * -1): the packet goes on as if nothing were attached.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TC_ACT_UNSPEC (-1)

SEC("tc")
int ingress_empty(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

SEC("tc")
int egress_empty(struct __sk_buff *skb)
{
	return TC_ACT_UNSPEC;
}

/*
 * The floor under any design that counts per flow: what each packet must
 * cost at least to find its flow's counter. The flow key (interface,
 * protocol, addresses, ports) read in place after an Ethernet header, one
 * lookup in an LRU hash (the entry made on first use), the length added
 * with one atomic. No interface counters, no packet counts, no non-IP, VLAN
 * or tunnel handling, no helper fallback: netacct's TC programs do all that
 * besides. netacct_hook_cost runs it in the same run as the empty program and
 * netacct's: its ratio to the empty program is the least any per-flow
 * classifier can reach.
 */
struct floor_key {
	__u32 ifindex;
	__u8 proto;
	__u8 pad;
	__u16 lport;
	__u16 rport;
	__u16 pad2;
	__u8 laddr[16];
	__u8 raddr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct floor_key);
	__type(value, __u64);
} floor_flows SEC(".maps");

static __always_inline void floor_count(struct __sk_buff *skb, bool egress)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct floor_key k = { .ifindex = skb->ifindex };
	__u8 *src = egress ? k.laddr : k.raddr, *dst = egress ? k.raddr : k.laddr;
	__u16 *ports = 0;
	if (skb->protocol == bpf_htons(0x0800)) {
		struct iphdr *ip = data + 14;
		if ((void *)(ip + 1) > end)
			return;
		k.proto = ip->protocol;
		__builtin_memcpy(src, &ip->saddr, 4);
		__builtin_memcpy(dst, &ip->daddr, 4);
		ports = (void *)ip + ((ip->ihl * 4) & 0x3c);
	} else if (skb->protocol == bpf_htons(0x86DD)) {
		struct ipv6hdr *ip6 = data + 14;
		if ((void *)(ip6 + 1) > end)
			return;
		k.proto = ip6->nexthdr;
		__builtin_memcpy(src, &ip6->saddr, 16);
		__builtin_memcpy(dst, &ip6->daddr, 16);
		ports = (void *)(ip6 + 1);
	}
	if (ports && (void *)(ports + 2) <= end) {
		k.lport = egress ? ports[0] : ports[1];
		k.rport = egress ? ports[1] : ports[0];
	}
	__u64 *v = bpf_map_lookup_elem(&floor_flows, &k);
	if (!v) {
		__u64 zero = 0;
		bpf_map_update_elem(&floor_flows, &k, &zero, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&floor_flows, &k);
		if (!v)
			return;
	}
	__sync_fetch_and_add(v, skb->len);
}

SEC("tc")
int ingress_floor(struct __sk_buff *skb)
{
	floor_count(skb, false);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int egress_floor(struct __sk_buff *skb)
{
	floor_count(skb, true);
	return TC_ACT_UNSPEC;
}

/* The floor of the per-cgroup IP counters (netacct's cgroup_ip_egress_wire
 * and cgroup_ip_ingress_wire): cgroup_skb programs that pass every packet
 * and do nothing else. tools/bench/cgroup_ip_cost attaches them to a cgroup
 * of its own holding its sender and receiver. */
SEC("cgroup_skb/egress")
int cgroup_egress_empty(struct __sk_buff *skb)
{
	return 1;
}

SEC("cgroup_skb/ingress")
int cgroup_ingress_empty(struct __sk_buff *skb)
{
	return 1;
}
