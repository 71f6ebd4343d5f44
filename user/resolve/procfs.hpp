// Process facts from /proc, behind a root path so tests can use a fake tree,
// and behind ProcIo so a test can make any read fail the way /proc does
// when a process ends mid-read (ENOENT, ESRCH) or hides its fields (EACCES).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/types.hpp"

namespace netacct {

// The two ways ProcFs touches /proc. Each gives the text (the link's
// target) or sets *err to the errno; the default is the real files.
struct ProcIo {
  // Up to `max` bytes of the file.
  std::function<std::optional<std::string>(const std::string& path, size_t max, int* err)> read;
  std::function<std::optional<std::string>(const std::string& path, int* err)> readlink;
  static ProcIo system();
};

class ProcFs {
 public:
  explicit ProcFs(std::string root = "/proc", ProcIo io = ProcIo::system());
  // False once this exact process (PID and start time) is known to have
  // ended: its /proc entry is gone (ENOENT, ESRCH), it is a zombie, or its
  // PID belongs to a newer process. True while it runs, and when /proc
  // cannot say (stat unreadable or not a stat line): a running process is
  // never reported ended for a read that failed.
  bool alive(const ProcId& id) const;
  bool pid_exists(uint32_t pid) const;
  std::optional<std::string> exe(uint32_t tgid) const;
  // The process's PID in its own (innermost) PID namespace, from the NSpid
  // line of /proc/PID/status (Linux >= 4.1): nullopt when it is in this
  // PID namespace, has exited, or the line is missing.
  std::optional<uint32_t> ns_pid(uint32_t tgid) const;
  // The processes whose name (comm) is `comm`, ascending.
  std::vector<uint32_t> named(const std::string& comm) const;
  // /proc/PID/status and /proc/PID/cmdline (arguments joined by spaces, as
  // the process wrote them: untrusted), nullopt when gone.
  std::optional<std::string> status(uint32_t pid) const;
  std::optional<std::string> command_line(uint32_t pid) const;

 private:
  std::string root_;
  ProcIo io_;
  uint64_t ns_per_tick_;
};

// The parsers behind ProcFs, on a file's text (tests/fuzz feeds them).
// /proc/PID/stat's state (zombie or dead) and start time (field 22, clock
// ticks since boot); nullopt for a line that is not one.
struct StatFacts {
  bool dead = false;
  uint64_t start_ticks = 0;
};
std::optional<StatFacts> parse_stat(std::string_view stat);
// The start time (field 22, clock ticks since boot) from /proc/PID/stat;
// nullopt for a zombie or dead process or a line that is not one.
std::optional<uint64_t> stat_start_ticks(std::string_view stat);
// The innermost PID of /proc/PID/status's NSpid line; nullopt when the
// process is in this PID namespace or the line is missing or malformed.
std::optional<uint32_t> status_ns_pid(std::string_view status);

// What /proc/PID/status says of a process's identity and capabilities.
struct StatusPrivileges {
  uint32_t uid = 0;                                     // effective
  uint64_t effective = 0, permitted = 0, bounding = 0;  // capability masks
  bool no_new_privs = false;
};
// nullopt when a line (Uid, CapEff, CapPrm, CapBnd) is missing or malformed;
// NoNewPrivs (Linux >= 4.10) counts as 0 when missing.
std::optional<StatusPrivileges> status_privileges(std::string_view status);

// getpwuid_r, or nullopt when the uid has no name.
std::optional<std::string> user_name(uint32_t uid);

}  // namespace netacct
