#include "cli/privilege.hpp"

#include <cap-ng.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/error_line.hpp"

namespace netacct {
namespace {

std::optional<long> read_sysctl(const char* path) {
  std::ifstream in(path);
  long v = 0;
  if (!(in >> v)) return std::nullopt;
  return v;
}

// Whether this kernel refuses every bpf() command, even on a held fd, to a
// task without CAP_BPF and CAP_SYS_ADMIN (kernel.unprivileged_bpf_disabled
// on Linux < 5.19). Asked of the kernel, not its version: a child drops both
// from its effective set and asks for the next key of fd -1, which says
// EPERM when gated, EBADF when not. A child process, not a thread: a joined
// thread can still be listed in /proc/PID/task for a while after, holding
// capabilities netacct no longer has (seen in the 6.1 guest); a child is
// reaped before this returns. Raw syscalls only in the child (fork of a
// process that may have threads).
bool bpf_gated() {
  if (read_sysctl("/proc/sys/kernel/unprivileged_bpf_disabled").value_or(1) == 0) return false;
  const pid_t child = fork();
  if (child < 0) return false;
  if (child == 0) {
    __user_cap_header_struct head{.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    __user_cap_data_struct data[2]{};
    if (syscall(SYS_capget, &head, data) != 0) _exit(2);
    data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
    data[kCapBpf / 32].effective &= ~(1u << (kCapBpf % 32));
    if (syscall(SYS_capset, &head, data) != 0) _exit(2);
    bpf_attr attr{};
    attr.map_fd = ~0u;
    const bool gated =
        syscall(SYS_bpf, BPF_MAP_GET_NEXT_KEY, &attr, sizeof attr) != 0 && errno == EPERM;
    _exit(gated ? 1 : 0);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 1;
}

// The capability state of `keep`, limited to what this thread holds (adding
// one it lacks would fail): effective and permitted, and the bounding set.
void select(const std::vector<int>& keep) {
  capng_get_caps_process();
  std::vector<int> held;
  for (int c : keep)
    if (capng_have_capability(CAPNG_PERMITTED, unsigned(c))) held.push_back(c);
  capng_clear(CAPNG_SELECT_CAPS);
  for (int c : held) capng_update(CAPNG_ADD, capng_type_t(CAPNG_EFFECTIVE | CAPNG_PERMITTED), c);
}

// The drop itself: `keep` in the effective and permitted sets, `bounding`
// as the bounding set, then `user` if given, then no_new_privs.
std::string keep_only(const std::vector<int>& keep, const std::vector<int>& bounding,
                      const std::optional<UserIds>& user) {
  // The bounding set first: dropping from it takes CAP_SETPCAP, dropped
  // next. Without it (netacct given only some capabilities) it stays.
  capng_get_caps_process();
  if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP)) {
    capng_clear(CAPNG_SELECT_BOUNDS);
    for (int c : bounding) capng_update(CAPNG_ADD, CAPNG_BOUNDING_SET, c);
    if (capng_apply(CAPNG_SELECT_BOUNDS) != 0)
      return "cannot drop capabilities from the bounding set: " + std::string(std::strerror(errno));
  }
  select(keep);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (user) {
    // Supplementary groups dropped; `keep` kept across the switch and
    // applied (capng_change_id holds CAP_SETUID/SETGID only while switching).
    if (capng_change_id(int(user->uid), int(user->gid), CAPNG_DROP_SUPP_GRP) != 0)
      return "cannot switch to the --user: " + std::string(std::strerror(errno));
  } else if (capng_apply(CAPNG_SELECT_CAPS) != 0) {
    return "cannot drop capabilities: " + std::string(std::strerror(errno));
  }
  // No execve may ever gain privileges again (setuid binaries, file caps).
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return "cannot set no_new_privs: " + std::string(std::strerror(errno));
  return "";
}

// A user by name, or by number given as a name. A static glibc cannot load
// NSS modules of another build (getpwnam crashed in a static netacct on a
// host whose nsswitch.conf names systemd), so the static build (the qemu
// guests') reads /etc/passwd alone, through glibc's fgetpwent.
const passwd* lookup_user(const std::string& name, std::optional<uid_t> uid) {
#ifdef NETACCT_STATIC_BUILD
  FILE* f = std::fopen("/etc/passwd", "re");
  if (f == nullptr) return nullptr;
  const passwd* found = nullptr;
  while (const passwd* pw = fgetpwent(f))
    if (name == pw->pw_name || (uid && pw->pw_uid == *uid)) {
      found = pw;
      break;
    }
  std::fclose(f);  // fgetpwent's entry is static storage: still valid
  return found;
#else
  const passwd* pw = getpwnam(name.c_str());
  return pw != nullptr || !uid ? pw : getpwuid(*uid);
#endif
}

}  // namespace

std::optional<UserIds> find_user(const std::string& name, std::string* error) {
  errno = 0;
  uid_t number = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
  const bool numeric = !name.empty() && ec == std::errc() && end == name.data() + name.size();
  const passwd* pw =
      name.empty() ? nullptr : lookup_user(name, numeric ? std::optional(number) : std::nullopt);
  if (!pw) {
    *error = "--user: no user '" + name + "' on this system (see 'getent passwd')";
    return std::nullopt;
  }
  return UserIds{.uid = pw->pw_uid, .gid = pw->pw_gid};
}

RunNeeds run_needs(const Session& session, std::optional<uint16_t> port,
                   const std::optional<UserIds>& user) {
  long unprivileged_from =
      read_sysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start").value_or(1024);
  return {.wire = session.wire() != nullptr,
          .other_user = user && user->uid != 0,
          .bpf_gated = bpf_gated(),
          .cap_bpf = read_sysctl("/proc/sys/kernel/cap_last_cap").value_or(0) >= kCapBpf,
          .bind_port = port && long(*port) < unprivileged_from};
}

std::string drop_privileges(const RunNeeds& needs, const std::optional<UserIds>& user) {
  return keep_only(capabilities_needed(needs), bounding_set(needs), user);
}

void drop_to_guard() {
  // A failure leaves the guard as it was: it still removes the filters.
  keep_only(guard_capabilities(), guard_capabilities(), std::nullopt);
}

bool drop_for_run(const RunNeeds& needs, const std::optional<UserIds>& user) {
  std::string error = drop_privileges(needs, user);
  if (!error.empty()) std::cerr << error_line(error);
  return error.empty();
}

bool narrow_thread(const std::vector<int>& keep) {
  select(keep);
  return capng_apply(CAPNG_SELECT_CAPS) == 0;
}

std::string capability_name(int cap) {
  const char* name = capng_capability_to_name(unsigned(cap));
  if (!name) return "CAP_" + std::to_string(cap);
  std::string out = "CAP_";
  for (const char* p = name; *p; ++p) out += char(std::toupper(static_cast<unsigned char>(*p)));
  return out;
}

std::vector<std::string> capability_names(uint64_t mask) {
  std::vector<std::string> out;
  for (int c = 0; c < 64; ++c)
    if (mask >> c & 1) out.push_back(capability_name(c));
  return out;
}

}  // namespace netacct
