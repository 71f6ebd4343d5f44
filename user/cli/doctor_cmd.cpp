// netacct doctor: what this kernel supports, which hooks would be used and
// why, and whether netacct can run. Works without root.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/preflight.hpp"
#include "kernel/assess.hpp"
#include "kernel/features.hpp"

namespace netacct {
namespace {

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

void print_text(const Features& f, const Assessment& a) {
  auto row = [](const std::string& k) -> std::ostream& {
    return std::cout << std::left << std::setw(20) << k;
  };
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
  if (cmd.doctor.json)
    std::cout << to_json(f, a).dump() << "\n";
  else
    print_text(f, a);
  return a.can_run() ? 0 : 1;
}

}  // namespace netacct
