#include "kernel/assess.hpp"

#include <utility>

namespace netacct {
namespace {

// The backend netacct would load: the requested one if available, for auto
// the first available in probe order (tracepoint, fentry, kprobe).
std::optional<Backend> pick(const Features& f, Backend requested) {
  if (requested != Backend::automatic)
    return f.status(requested).available ? std::optional(requested) : std::nullopt;
  for (const auto& s : f.backends)
    if (s.available) return s.backend;
  return std::nullopt;
}

std::string no_backend_message(const Features& f, Backend requested) {
  if (requested == Backend::automatic)
    return "no usable backend: needs the sock tracepoints (Linux >= 6.3), fentry or kprobes";
  return "the " + backend_name(requested) +
         " backend is not available: " + f.status(requested).reason;
}

// The first problem in Problem's order, and its message.
std::pair<Problem, std::string> first_problem(const Features& f, Backend requested,
                                              bool have_backend) {
  if (!f.btf)
    return {Problem::no_btf,
            "this kernel has no BTF (/sys/kernel/btf/vmlinux); netacct needs a kernel built "
            "with CONFIG_DEBUG_INFO_BTF=y"};
  if (f.lockdown == "confidentiality")
    return {Problem::lockdown,
            "kernel lockdown is 'confidentiality', which forbids BPF programs from reading "
            "kernel memory; boot with lockdown=integrity or none"};
  // capget failing (caps unknown) is not a verdict: loading will tell.
  if (f.caps.known && !f.caps.enough())
    return {Problem::no_capabilities,
            "missing " + f.caps.missing() +
                " (or CAP_SYS_ADMIN) to load BPF programs; run as root, e.g. 'sudo netacct ...'"};
  if (!have_backend) return {Problem::no_backend, no_backend_message(f, requested)};
  return {Problem::none, ""};
}

}  // namespace

Assessment assess(const Features& f, Backend requested) {
  std::optional<Backend> backend = pick(f, requested);
  auto [problem, message] = first_problem(f, requested, backend.has_value());
  return {.backend = backend, .problem = problem, .message = std::move(message)};
}

}  // namespace netacct
