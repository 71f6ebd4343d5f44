// How netacct writes an error or a warning: one line, "netacct: MESSAGE\n".
// A message may quote what the user typed or what the system named (a
// command, an option's value, an interface, a path): written through the
// sinks' one escaping, so a newline cannot make it two lines and an escape
// sequence cannot reach the terminal.
#pragma once
#include <string>
#include <string_view>

#include "output/format.hpp"

namespace netacct {

inline std::string error_line(std::string_view message) {
  return "netacct: " + escape_visible(message) + "\n";
}

}  // namespace netacct
