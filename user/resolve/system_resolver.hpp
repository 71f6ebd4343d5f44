// The product's Resolver: procfs for processes, the cgroup2 tree for
// cgroups, the password database for users (cached).
#pragma once
#include <map>

#include "model/report.hpp"
#include "resolve/cgroup.hpp"
#include "resolve/procfs.hpp"

namespace netacct {

class SystemResolver : public Resolver {
 public:
  bool alive(const ProcId& id) override { return procfs_.alive(id); }
  std::optional<std::string> exe(uint32_t pid) override { return procfs_.exe(pid); }
  std::optional<std::string> cgroup(uint64_t id) override { return cgroups_.path(id); }
  std::optional<std::string> user(uint32_t uid) override {
    auto it = users_.find(uid);
    if (it == users_.end()) it = users_.emplace(uid, user_name(uid)).first;
    return it->second;
  }

 private:
  ProcFs procfs_;
  CgroupResolver cgroups_;
  std::map<uint32_t, std::optional<std::string>> users_;
};

}  // namespace netacct
