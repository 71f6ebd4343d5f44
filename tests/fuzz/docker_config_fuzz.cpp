// Docker's <root>/containers/<id>/config.v2.json: "Name", or the kubelet's
// labels under "Config"."Labels" (cri-dockerd).
#include "state_files_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netacct::fuzz::check_identity(netacct::docker_config_identity(netacct::fuzz::text(data, size)));
  return 0;
}
