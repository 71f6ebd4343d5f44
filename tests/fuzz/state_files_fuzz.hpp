// The checks the three runtime state file targets share.
#pragma once
#include <optional>

#include "check.hpp"
#include "resolve/containers.hpp"

namespace netacct::fuzz {

// A name is at most Kubernetes' "namespace/pod/container", each part at
// most 256 bytes; pod and namespace come together.
inline void check_identity(const std::optional<StateIdentity>& id) {
  if (!id) return;
  check(id->name.size() <= 3 * 256 + 2, "a name longer than three names");
  check(id->pod.has_value() == id->namespace_.has_value(), "a pod without a namespace");
  check(!id->pod || id->name.starts_with(*id->namespace_ + "/" + *id->pod),
        "a Kubernetes name that is not namespace/pod");
}

}  // namespace netacct::fuzz
