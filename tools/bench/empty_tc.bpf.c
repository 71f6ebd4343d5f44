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
