#include "bpf_objects.hpp"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>

namespace kt {
namespace {

long sysBpf(int cmd, bpf_attr& attr) { return syscall(SYS_bpf, cmd, &attr, sizeof attr); }

enum class Kind { prog, map, link, btf };

int getFdById(Kind k, uint32_t id) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  int cmd = 0;
  switch (k) {
    case Kind::prog:
      attr.prog_id = id;
      cmd = BPF_PROG_GET_FD_BY_ID;
      break;
    case Kind::map:
      attr.map_id = id;
      cmd = BPF_MAP_GET_FD_BY_ID;
      break;
    case Kind::link:
      attr.link_id = id;
      cmd = BPF_LINK_GET_FD_BY_ID;
      break;
    case Kind::btf:
      attr.btf_id = id;
      cmd = BPF_BTF_GET_FD_BY_ID;
      break;
  }
  return static_cast<int>(sysBpf(cmd, attr));
}

// True unless the kernel says there is no such object (ENOENT); any other
// error (EPERM...) counts as present, so a leak is never hidden by it.
bool exists(Kind k, uint32_t id) {
  int fd = getFdById(k, id);
  if (fd >= 0) {
    close(fd);
    return true;
  }
  return errno != ENOENT;
}

std::set<uint32_t> allOf(Kind k) {
  int cmd = 0;
  switch (k) {
    case Kind::prog:
      cmd = BPF_PROG_GET_NEXT_ID;
      break;
    case Kind::map:
      cmd = BPF_MAP_GET_NEXT_ID;
      break;
    case Kind::link:
      cmd = BPF_LINK_GET_NEXT_ID;
      break;
    case Kind::btf:
      cmd = BPF_BTF_GET_NEXT_ID;
      break;
  }
  std::set<uint32_t> ids;
  uint32_t id = 0;
  for (;;) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.start_id = id;
    if (sysBpf(cmd, attr) != 0) break;  // ENOENT: no more
    id = attr.next_id;
    ids.insert(id);
  }
  return ids;
}

std::string nameOf(Kind k, uint32_t id) {
  int fd = getFdById(k, id);
  if (fd < 0) return "";
  std::string name;
  bpf_attr attr;
  std::memset(&attr, 0, sizeof attr);
  if (k == Kind::prog) {
    bpf_prog_info info;
    std::memset(&info, 0, sizeof info);
    attr.info.bpf_fd = static_cast<uint32_t>(fd);
    attr.info.info_len = sizeof info;
    attr.info.info = reinterpret_cast<uint64_t>(&info);
    if (sysBpf(BPF_OBJ_GET_INFO_BY_FD, attr) == 0) name = info.name;
  } else if (k == Kind::map) {
    bpf_map_info info;
    std::memset(&info, 0, sizeof info);
    attr.info.bpf_fd = static_cast<uint32_t>(fd);
    attr.info.info_len = sizeof info;
    attr.info.info = reinterpret_cast<uint64_t>(&info);
    if (sysBpf(BPF_OBJ_GET_INFO_BY_FD, attr) == 0) name = info.name;
  }
  close(fd);
  return name;
}

std::set<uint32_t> setMinus(const std::set<uint32_t>& a, const std::set<uint32_t>& b) {
  std::set<uint32_t> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

void addFdinfo(const std::filesystem::path& fdinfo_dir, BpfIds& ids) {
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator(fdinfo_dir, ec)) {
    std::ifstream in(fd.path());
    for (std::string line; std::getline(in, line);) {
      auto value = [&](const char* key) -> long {
        const size_t n = std::strlen(key);
        return line.compare(0, n, key) == 0 ? std::atol(line.c_str() + n) : -1;
      };
      if (long v = value("prog_id:"); v > 0) ids.progs.insert(uint32_t(v));
      if (long v = value("map_id:"); v > 0) ids.maps.insert(uint32_t(v));
      if (long v = value("link_id:"); v > 0) ids.links.insert(uint32_t(v));
      if (long v = value("btf_id:"); v > 0) ids.btfs.insert(uint32_t(v));
    }
  }
}

}  // namespace

BpfIds BpfIds::minus(const BpfIds& o) const {
  return {setMinus(progs, o.progs), setMinus(maps, o.maps), setMinus(links, o.links),
          setMinus(btfs, o.btfs)};
}

BpfIds BpfIds::plus(const BpfIds& o) const {
  BpfIds r = *this;
  r.progs.insert(o.progs.begin(), o.progs.end());
  r.maps.insert(o.maps.begin(), o.maps.end());
  r.links.insert(o.links.begin(), o.links.end());
  r.btfs.insert(o.btfs.begin(), o.btfs.end());
  return r;
}

BpfIds heldBy(pid_t pid) {
  BpfIds ids;
  addFdinfo("/proc/" + std::to_string(pid) + "/fdinfo", ids);
  return ids;
}

BpfIds heldByAnyone() {
  BpfIds ids;
  std::error_code ec;
  for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = proc.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    addFdinfo(proc.path() / "fdinfo", ids);  // processes come and go: errors ignored
  }
  return ids;
}

BpfIds allLoaded() {
  return {allOf(Kind::prog), allOf(Kind::map), allOf(Kind::link), allOf(Kind::btf)};
}

BpfIds stillLoaded(const BpfIds& ids) {
  BpfIds left;
  for (uint32_t id : ids.progs)
    if (exists(Kind::prog, id)) left.progs.insert(id);
  for (uint32_t id : ids.maps)
    if (exists(Kind::map, id)) left.maps.insert(id);
  for (uint32_t id : ids.links)
    if (exists(Kind::link, id)) left.links.insert(id);
  for (uint32_t id : ids.btfs)
    if (exists(Kind::btf, id)) left.btfs.insert(id);
  return left;
}

BpfIds waitGone(const BpfIds& ids, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  BpfIds left = stillLoaded(ids);
  while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    left = stillLoaded(left);
  }
  return left;
}

std::set<uint32_t> cgroupProgs(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "open " + dir);
  std::set<uint32_t> ids;
  for (auto type : {BPF_CGROUP_INET_INGRESS, BPF_CGROUP_INET_EGRESS}) {
    uint32_t progs[64] = {};
    bpf_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.query.target_fd = static_cast<uint32_t>(fd);
    attr.query.attach_type = type;
    attr.query.prog_ids = reinterpret_cast<uint64_t>(progs);
    attr.query.prog_cnt = 64;
    if (sysBpf(BPF_PROG_QUERY, attr) != 0) {
      const int err = errno;
      close(fd);
      throw std::system_error(err, std::generic_category(), "BPF_PROG_QUERY on " + dir);
    }
    ids.insert(progs, progs + std::min(attr.query.prog_cnt, 64u));
  }
  close(fd);
  return ids;
}

std::set<std::string> namesOf(const BpfIds& ids) {
  std::set<std::string> names;
  for (uint32_t id : ids.progs)
    if (auto n = nameOf(Kind::prog, id); !n.empty()) names.insert(n);
  for (uint32_t id : ids.maps)
    if (auto n = nameOf(Kind::map, id); !n.empty()) names.insert(n);
  return names;
}

BpfIds named(const BpfIds& ids, const std::set<std::string>& names) {
  BpfIds out;
  out.links = ids.links;
  out.btfs = ids.btfs;
  for (uint32_t id : ids.progs)
    if (names.count(nameOf(Kind::prog, id))) out.progs.insert(id);
  for (uint32_t id : ids.maps)
    if (names.count(nameOf(Kind::map, id))) out.maps.insert(id);
  return out;
}

std::string describe(const BpfIds& ids) {
  std::string s;
  auto add = [&](const char* what, Kind k, const std::set<uint32_t>& set) {
    for (uint32_t id : set) {
      if (!s.empty()) s += ", ";
      s += std::string(what) + " " + std::to_string(id);
      if (auto n = nameOf(k, id); !n.empty()) s += " " + n;
    }
  };
  add("prog", Kind::prog, ids.progs);
  add("map", Kind::map, ids.maps);
  add("link", Kind::link, ids.links);
  add("btf", Kind::btf, ids.btfs);
  return s.empty() ? "(none)" : s;
}

}  // namespace kt
