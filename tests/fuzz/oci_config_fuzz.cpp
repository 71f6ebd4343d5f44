// An OCI bundle's config.json (containerd, CRI-O): Kubernetes annotations.
#include "state_files_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  netacct::fuzz::check_identity(netacct::oci_config_identity(netacct::fuzz::text(data, size)));
  return 0;
}
