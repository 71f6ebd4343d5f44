// The capability drop after loading and attaching (the policy, what is
// kept and why, is kernel/privilege.hpp) and serve's --user switch. Plain
// calls, no RAII: a drop is never undone.
#pragma once
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "kernel/loader.hpp"
#include "kernel/privilege.hpp"

namespace netacct {

struct UserIds {
  uid_t uid = 0;
  gid_t gid = 0;  // the user's primary group; supplementary groups are dropped
};

// The user named (a name or a numeric uid), or nullopt and *error (one
// line). Checked while parsing the command line too (options.cpp), so an
// unknown user is a usage error before anything is loaded.
std::optional<UserIds> find_user(const std::string& name, std::string* error);

// What this session's running phase needs: serve still to bind `port`,
// then to run as `user` (not root).
RunNeeds run_needs(const Session& session, std::optional<uint16_t> port = std::nullopt,
                   const std::optional<UserIds>& user = std::nullopt);

// Keeps only what `needs` needs (of what the process holds) in the
// effective, permitted and bounding sets (kernel/privilege.hpp), empties the inheritable and
// ambient sets, switches to `user` first when given (keeping them across the switch), and sets
// no_new_privs. Only the calling thread's capabilities change (the kernel
// keeps them per thread): call it before starting threads. "" or why not.
std::string drop_privileges(const RunNeeds& needs, const std::optional<UserIds>& user);

// The legacy TC path's guard process keeps CAP_NET_ADMIN alone
// (WireConfig::in_guard): called first thing in it.
void drop_to_guard();

// drop_privileges, its failure one line on stderr: false when netacct must
// not go on (it would run with more than it needs).
bool drop_for_run(const RunNeeds& needs, const std::optional<UserIds>& user = std::nullopt);

// The calling thread's effective and permitted sets narrowed to `keep`
// (threads started before a drop); false when the kernel refused.
bool narrow_thread(const std::vector<int>& keep);

// "CAP_NET_ADMIN" for 12; "CAP_40" for a number this build does not know.
std::string capability_name(int cap);
std::vector<std::string> capability_names(uint64_t mask);

}  // namespace netacct
