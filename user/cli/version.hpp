// netacct's version, as `netacct --version` and `netacct version` print it.
// The build may pass NETACCT_VERSION (CMake's project VERSION); the fallback
// must then be kept equal to it.
#pragma once
#include <string_view>

namespace netacct {

#ifdef NETACCT_VERSION
inline constexpr std::string_view kVersion = NETACCT_VERSION;
#else
inline constexpr std::string_view kVersion = "0.1.0";
#endif

}  // namespace netacct
