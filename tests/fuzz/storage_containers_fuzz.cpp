// containers/storage's containers.json (Podman): the record of one id.
// The id is the seeds' (and tests/unit's), so that mutations keep finding it.
#include <string>

#include "state_files_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string id("8f3b2c1d9e0a47b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2");
  auto found = netacct::storage_containers_identity(netacct::fuzz::text(data, size), id);
  netacct::fuzz::check_identity(found);
  netacct::fuzz::check(!found || !found->pod, "a pod from containers.json");
  return 0;
}
