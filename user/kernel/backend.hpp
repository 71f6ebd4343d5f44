// The kernel hook families netacct can count with, and their names as the
// command line, doctor and reports spell them. The kernel layer owns them:
// the loader and the feature probes decide in these terms, the CLI only
// parses the names.
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace netacct {

enum class Backend { automatic, tracepoint, fentry, kprobe };

// Every name, "auto" first, then the backends in the order auto tries them.
inline const std::vector<std::pair<std::string, Backend>>& backend_names() {
  static const std::vector<std::pair<std::string, Backend>> names = {
      {"auto", Backend::automatic},
      {"tracepoint", Backend::tracepoint},
      {"fentry", Backend::fentry},
      {"kprobe", Backend::kprobe}};
  return names;
}

inline std::string backend_name(Backend b) {
  for (const auto& [name, value] : backend_names())
    if (value == b) return name;
  return "?";
}

}  // namespace netacct
