#include "kernel/libbpf_log.hpp"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>

namespace netacct {
namespace {

bool g_verbose = false;

int print(enum libbpf_print_level, const char* fmt, va_list args) {
  return g_verbose ? vfprintf(stderr, fmt, args) : 0;
}

}  // namespace

void set_libbpf_verbose(bool verbose) {
  g_verbose = verbose;
  libbpf_set_print(print);  // libbpf's default prints warnings: replace it before any use
}

LibbpfQuiet::LibbpfQuiet() : saved_(g_verbose) { set_libbpf_verbose(false); }

LibbpfQuiet::~LibbpfQuiet() { set_libbpf_verbose(saved_); }

}  // namespace netacct
