// What a netacct run put into the kernel, by id: the programs, maps, links
// and BTF objects one process holds (its /proc/PID/fdinfo), whether an id
// still exists (BPF_*_GET_FD_BY_ID), and every id loaded machine-wide
// (BPF_*_GET_NEXT_ID). Raw bpf(2) calls: no bpftool, no libbpf.
//
// "Nothing stays loaded" is checked against what THIS run loaded: the ids
// the netacct process held while it ran, and the objects that appeared
// machine-wide during the run under the names it used. Other BPF users on
// the machine (another netacct, systemd) are never mistaken for a leak.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>

namespace kt {

struct BpfIds {
  std::set<uint32_t> progs, maps, links, btfs;
  bool empty() const { return progs.empty() && maps.empty() && links.empty() && btfs.empty(); }
  size_t size() const { return progs.size() + maps.size() + links.size() + btfs.size(); }
  BpfIds minus(const BpfIds& other) const;
  BpfIds plus(const BpfIds& other) const;
};

// Ids of the objects `pid`'s file descriptors refer to (a link also names
// its program). Empty if the process is gone.
BpfIds heldBy(pid_t pid);
// Ids held by any live process.
BpfIds heldByAnyone();
// Every program, map, link and BTF object loaded on the machine now.
BpfIds allLoaded();
// Those of `ids` that still exist.
BpfIds stillLoaded(const BpfIds& ids);
// Polls until none of `ids` exists (the kernel frees objects after an RCU
// grace period once the last reference goes) or `timeout`; returns those left.
BpfIds waitGone(const BpfIds& ids, std::chrono::milliseconds timeout);

// Ids of the programs attached to the cgroup v2 directory `dir` itself (its
// inet ingress and egress hooks, BPF_PROG_QUERY; not those inherited from
// a parent). Throws when the directory cannot be opened or queried.
std::set<uint32_t> cgroupProgs(const std::string& dir);

// Names of programs and maps among `ids` (the kernel keeps 15 characters).
std::set<std::string> namesOf(const BpfIds& ids);
// The subset of `ids` whose program or map name is in `names` (links and
// BTF objects have no name and are kept).
BpfIds named(const BpfIds& ids, const std::set<std::string>& names);

// "prog 12 inet_sendmsg_fe, map 7 conns, link 3" for messages.
std::string describe(const BpfIds& ids);

}  // namespace kt
