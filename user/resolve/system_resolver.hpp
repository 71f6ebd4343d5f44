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

// One refresh's view of another resolver: each process's liveness is read
// from /proc once, however many steps ask (the poller and the model both do).
class RefreshResolver : public Resolver {
 public:
  explicit RefreshResolver(Resolver& inner) : inner_(inner) {}
  bool alive(const ProcId& id) override {
    auto it = alive_.find(id);
    if (it == alive_.end()) it = alive_.emplace(id, inner_.alive(id)).first;
    return it->second;
  }
  std::optional<std::string> exe(uint32_t pid) override { return inner_.exe(pid); }
  std::optional<std::string> cgroup(uint64_t id) override { return inner_.cgroup(id); }
  std::optional<std::string> user(uint32_t uid) override { return inner_.user(uid); }

 private:
  Resolver& inner_;
  std::map<ProcId, bool> alive_;
};

}  // namespace netacct
