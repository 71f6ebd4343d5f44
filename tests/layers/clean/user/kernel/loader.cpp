#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "detail/attach.hpp"
#include "kernel/abi.hpp"
#include "kernel/loader.hpp"
#include "model/types.hpp"
#include "netacct.skel.h"
