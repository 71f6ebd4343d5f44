// netacct doctor: what this kernel supports, which hooks would be used and
// why, and whether netacct can run. Works without root.
#include <unistd.h>

#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/preflight.hpp"
#include "cli/privilege.hpp"
#include "kernel/assess.hpp"
#include "kernel/features.hpp"
#include "output/format.hpp"
#include "resolve/procfs.hpp"

namespace netacct {
namespace {

// Another netacct running on this machine, and what it holds.
struct Running {
  uint32_t pid = 0;
  std::string user;     // the effective uid's name, or the number
  std::string command;  // untrusted: escaped by each sink
  StatusPrivileges privileges;
};

// Every other process named netacct (not this doctor), by PID; those that
// exit meanwhile are left out.
std::vector<Running> running_netaccts() {
  ProcFs procfs;
  std::vector<Running> out;
  for (uint32_t pid : procfs.named("netacct")) {
    if (pid == uint32_t(getpid())) continue;
    auto status = procfs.status(pid);
    auto privileges = status ? status_privileges(*status) : std::nullopt;
    auto command = procfs.command_line(pid);
    if (!privileges || !command) continue;
    out.push_back({.pid = pid,
                   .user = user_name(privileges->uid).value_or(std::to_string(privileges->uid)),
                   .command = *command,
                   .privileges = *privileges});
  }
  return out;
}

nlohmann::json to_json(const std::vector<Running>& running) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : running)
    out.push_back({{"pid", r.pid},
                   {"uid", r.privileges.uid},
                   {"user", r.user},
                   {"command", escape_json(r.command)},
                   {"capabilities",
                    {{"effective", capability_names(r.privileges.effective)},
                     {"permitted", capability_names(r.privileges.permitted)},
                     {"bounding", capability_names(r.privileges.bounding)}}},
                   {"no_new_privs", r.privileges.no_new_privs}});
  return out;
}

nlohmann::json to_json(const Features& f, const Assessment& a) {
  nlohmann::json backends = nlohmann::json::object();
  for (const auto& s : f.backends)
    backends[backend_name(s.backend)] = {
        {"available", s.checked ? nlohmann::json(s.available) : nlohmann::json(nullptr)},
        {"status", s.state()},
        {"detail", s.detail()}};
  return {
      {"kernel", f.kernel_release},
      {"btf", f.btf},
      {"lockdown", f.lockdown},
      {"root", f.root},
      {"capabilities",
       {{"known", f.caps.known},
        {"CAP_BPF", f.caps.bpf},
        {"CAP_PERFMON", f.caps.perfmon},
        {"CAP_SYS_ADMIN", f.caps.sys_admin}}},
      {"backends", backends},
      {"sendpage_hook", f.has_inet_sendpage},
      {"tc_attach", f.tcx ? nlohmann::json(*f.tcx ? "tcx" : "legacy") : nlohmann::json(nullptr)},
      {"dns_names",
       {{"available", f.dns.available ? nlohmann::json(*f.dns.available) : nlohmann::json(nullptr)},
        {"detail", f.dns.detail}}},
      {"selected", a.backend ? nlohmann::json(backend_name(*a.backend)) : nlohmann::json(nullptr)},
      {"can_run", a.can_run()},
      {"problem", a.can_run() ? nlohmann::json(nullptr) : nlohmann::json(a.message)}};
}

const char* yes(bool b) { return b ? "yes" : "no"; }

std::ostream& row(const std::string& k) { return std::cout << std::left << std::setw(20) << k; }

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

void print_text(const std::vector<Running>& running) {
  if (running.empty()) row("running netacct") << "none\n";
  for (const auto& r : running) {
    row("running netacct") << "PID " << r.pid << ", user " << escape_visible(r.user) << ": "
                           << escape_visible(r.command) << "\n";
    row("  effective") << joined(capability_names(r.privileges.effective)) << "\n";
    row("  permitted") << joined(capability_names(r.privileges.permitted)) << "\n";
    row("  bounding") << joined(capability_names(r.privileges.bounding)) << "\n";
    row("  no_new_privs") << yes(r.privileges.no_new_privs) << "\n";
  }
}

void print_text(const Features& f, const Assessment& a) {
  row("kernel") << f.kernel_release << "\n";
  row("btf") << yes(f.btf) << "\n";
  row("lockdown") << f.lockdown << "\n";
  if (f.caps.known)
    row("capabilities") << "CAP_BPF " << yes(f.caps.bpf) << ", CAP_PERFMON " << yes(f.caps.perfmon)
                        << ", CAP_SYS_ADMIN " << yes(f.caps.sys_admin) << "\n";
  for (const auto& s : f.backends)
    row("backend " + backend_name(s.backend))
        << (s.checked ? s.state() : "unknown (" + s.reason + ")") << ": " << s.detail() << "\n";
  row("tc attach") << (!f.tcx   ? "unknown (needs CAP_NET_ADMIN to check)"
                       : *f.tcx ? "tcx (links)"
                                : "legacy (clsact filters)")
                   << "\n";
  row("dns names") << (!f.dns.available   ? "unknown"
                       : *f.dns.available ? "available"
                                          : "unavailable")
                   << ": " << f.dns.detail << "\n";
  row("selected") << (a.backend ? backend_name(*a.backend) : "none") << "\n";
  row("verdict") << doctor_verdict(a) << "\n";
}

}  // namespace

int run_doctor(const Command& cmd) {
  Features f = probe_features();
  Assessment a = assess(f, cmd.backend);
  std::vector<Running> running = running_netaccts();
  if (cmd.doctor.json) {
    nlohmann::json j = to_json(f, a);
    j["running"] = to_json(running);
    std::cout << j.dump() << "\n";
  } else {
    print_text(f, a);
    print_text(running);
  }
  return a.can_run() ? 0 : 1;
}

}  // namespace netacct
