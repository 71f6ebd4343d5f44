// The one owner of netacct's kernel objects: open -> configure -> load ->
// attach, all or nothing. Destroying the Session detaches and unloads
// everything; links are file descriptors, so even SIGKILL leaves nothing.
#pragma once
#include <memory>
#include <string>

#include "cli/options.hpp"
#include "kernel/features.hpp"

struct netacct_bpf;

namespace netacct {

struct LoadConfig {
  Backend backend = Backend::tracepoint;  // already resolved, never automatic
  bool verbose = false;                   // libbpf and verifier output
  bool has_inet_sendpage = false;
  bool attach = true;  // false: load (run the verifier) only, for tests
};

class Session {
 public:
  // nullptr and a one-line *error when any step fails; nothing stays attached.
  static std::unique_ptr<Session> open(const LoadConfig& cfg, std::string* error);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Backend backend() const { return backend_; }
  int procs_fd() const;
  int conns_fd() const;
  int stats_fd() const;
  int attached_programs() const { return attached_; }

 private:
  Session(netacct_bpf* skel, Backend b) : skel_(skel), backend_(b) {}
  netacct_bpf* skel_;
  Backend backend_;
  int attached_ = 0;
};

}  // namespace netacct
