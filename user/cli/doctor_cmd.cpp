// netacct doctor: what this kernel supports, which hooks would be used and
// why, and whether netacct can run. Works without root.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "kernel/features.hpp"

namespace netacct {
namespace {

struct Verdict {
  std::optional<Backend> pick;
  std::string problem;  // empty when netacct can run
};

Verdict judge(const Features& f, Backend requested) {
  Verdict v;
  std::string why;
  v.pick = choose_backend(f, requested, &why);
  if (!f.btf)
    v.problem = "no kernel BTF (/sys/kernel/btf/vmlinux)";
  else if (f.caps.known && !f.caps.enough())
    v.problem = "missing " + f.caps.missing() + ": run as root";
  else if (f.lockdown == "confidentiality")
    v.problem = "kernel lockdown=confidentiality forbids reading kernel memory";
  else if (!v.pick)
    v.problem = why;
  return v;
}

nlohmann::json to_json(const Features& f, const Verdict& v) {
  nlohmann::json backends = nlohmann::json::object();
  for (const auto& s : f.backends)
    backends[backend_name(s.backend)] = {{"available", s.available}, {"detail", s.why}};
  return {{"kernel", f.kernel_release},
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
          {"selected", v.pick ? nlohmann::json(backend_name(*v.pick)) : nlohmann::json(nullptr)},
          {"can_run", v.problem.empty()},
          {"problem", v.problem.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.problem)}};
}

const char* yes(bool b) { return b ? "yes" : "no"; }

void print_text(const Features& f, const Verdict& v) {
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
        << (s.available ? "available: " : "unavailable: ") << s.why << "\n";
  row("selected") << (v.pick ? backend_name(*v.pick) : "none") << "\n";
  row("verdict") << (v.problem.empty() ? "netacct can run" : "netacct cannot run: " + v.problem)
                 << "\n";
}

}  // namespace

int run_doctor(const Command& cmd) {
  Features f = probe_features();
  Verdict v = judge(f, cmd.backend);
  if (cmd.doctor.json)
    std::cout << to_json(f, v).dump() << "\n";
  else
    print_text(f, v);
  return v.problem.empty() ? 0 : 1;
}

}  // namespace netacct
