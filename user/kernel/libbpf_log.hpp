// The one owner of libbpf's print callback. libbpf's failures reach the user
// as netacct's own one-line errors, so its messages (and the verifier log)
// are shown only with -v, and never while optional probes are expected to
// fail.
#pragma once

namespace netacct {

// Routes libbpf's messages to stderr when verbose, drops them otherwise.
void set_libbpf_verbose(bool verbose);

// Silences libbpf for its lifetime, then restores the previous setting.
class LibbpfQuiet {
 public:
  LibbpfQuiet();
  ~LibbpfQuiet();
  LibbpfQuiet(const LibbpfQuiet&) = delete;
  LibbpfQuiet& operator=(const LibbpfQuiet&) = delete;

 private:
  bool saved_;
};

}  // namespace netacct
