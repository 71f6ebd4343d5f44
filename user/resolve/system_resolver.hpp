// The product's Resolver: procfs for executables, the cgroup2 tree for
// cgroups and container names, the password database for users (cached).
#pragma once
#include <map>

#include "model/attribution.hpp"
#include "resolve/cgroup.hpp"
#include "resolve/containers.hpp"
#include "resolve/procfs.hpp"

namespace netacct {

class SystemResolver : public Resolver {
 public:
  std::optional<std::string> exe(uint32_t pid) override { return procfs_.exe(pid); }
  std::optional<uint32_t> ns_pid(uint32_t pid) override { return procfs_.ns_pid(pid); }
  CgroupName cgroup(uint64_t id) override {
    std::optional<std::string> path = cgroups_.path(id);
    return path ? name_path(*path) : CgroupName{};
  }
  CgroupName name_path(const std::string& path) override {
    CgroupName out{.path = path};
    out.container = container_name(*out.path);
    ContainerInfo c = containers_.name(*out.path);
    out.runtime = std::move(c.runtime);
    out.id = std::move(c.id);
    out.name = std::move(c.name);
    out.pod = std::move(c.pod);
    out.namespace_ = std::move(c.namespace_);
    return out;
  }
  std::optional<std::string> user(uint32_t uid) override {
    auto it = users_.find(uid);
    if (it == users_.end()) it = users_.emplace(uid, user_name(uid)).first;
    return it->second;
  }

 private:
  ProcFs procfs_;
  CgroupResolver cgroups_;
  ContainerNamer containers_{runtime_roots()};
  std::map<uint32_t, std::optional<std::string>> users_;
};

}  // namespace netacct
