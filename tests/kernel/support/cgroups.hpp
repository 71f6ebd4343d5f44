// Real cgroup v2 groups for the container tests, and the container
// runtimes' state files that name them.
//
// Every group a test makes lives under one parent of this test process's
// own, <cgroup2 mount>/netacct-test-<pid>, found from /proc/self/mountinfo
// (hybrid hosts mount cgroup2 at /sys/fs/cgroup/unified; the qemu guest at
// /sys/fs/cgroup). The tree is removed when the CgroupTree goes, at exit,
// on fatal signals (what is still in it is killed with cgroup.kill first),
// and, like the fixture's namespaces, a tree left by a run that died by
// SIGKILL (its pid gone) is removed by the next run. Only forked children
// are ever moved into a group: the test process itself stays where it is.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tempdir.hpp"

namespace kt {

// The cgroup2 mount point, or nullopt when cgroup v2 is not mounted.
std::optional<std::string> cgroup2Mount();

struct Cgroup {
  std::string abs;  // absolute directory
  std::string rel;  // path from the cgroup2 root, as netacct reports it ("/netacct-test-7/x")
  uint64_t id = 0;  // cgroup v2 id: the inode of the directory
};

// Moves `pid` (its whole thread group) into the group: writes cgroup.procs.
// Throws on failure. enterCgroup(g) moves the calling process (for a child
// body, before it moves any byte).
void moveToCgroup(const Cgroup& g, pid_t pid);
inline void enterCgroup(const Cgroup& g) { moveToCgroup(g, 0); }

class CgroupTree {
 public:
  // Creates <mount>/netacct-test-<pid> (throws if cgroup v2 is not mounted
  // or not writable); removes stale trees of dead test processes first.
  CgroupTree();
  ~CgroupTree();  // removes every group, killing what is still in them
  CgroupTree(const CgroupTree&) = delete;
  CgroupTree& operator=(const CgroupTree&) = delete;

  const Cgroup& root() const { return root_; }
  // mkdir -p of `rel` ("system.slice/docker-<id>.scope") under the root.
  Cgroup make(const std::string& rel);
  // rmdir of a group whose processes exited (bounded wait for the kernel to
  // let go of them); throws if it cannot be removed.
  void remove(const Cgroup& g);

 private:
  Cgroup root_;
};

// 64 lowercase hex digits, as Docker, containerd and Podman ids are.
std::string randomContainerId();

// The runtimes' state files that name containers, in a temp directory, in
// the layouts user/resolve/containers.hpp reads; env() points netacct at them.
class RuntimeFixtures {
 public:
  // <docker>/containers/<id>/config.v2.json with "Name": "/<name>".
  void docker(const std::string& id, const std::string& name);
  // <containerd>/io.containerd.runtime.v2.task/k8s.io/<id>/config.json with
  // the annotations containerd's CRI plugin writes.
  void containerd(const std::string& id, const std::string& ns, const std::string& pod,
                  const std::string& container);
  // <podman>/overlay-containers/containers.json: one record per call.
  void podman(const std::string& id, const std::string& name);
  // NETACCT_DOCKER_ROOT=..., NETACCT_CONTAINERD_ROOT=..., NETACCT_CRIO_ROOT=...,
  // NETACCT_PODMAN_ROOT=... (for Spawn::env): the machine's own runtimes'
  // state is never read.
  std::vector<std::string> env() const;
  const std::string& path() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::vector<std::pair<std::string, std::string>> podman_;
  void writeFile(const std::string& rel, const std::string& content) const;
};

}  // namespace kt
