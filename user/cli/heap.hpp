// How netacct's heap behaves: set once at start, by the product and by the
// benchmarks that measure it.
#pragma once
#include <malloc.h>

namespace netacct {

// Each refresh builds its window's tables afresh, megabytes at 100,000
// active sockets. glibc would hand such blocks back to the kernel when
// they are freed (mmap'd blocks, and a trimmed heap top) and fault the
// pages in again, zeroed, at the next refresh: a fifth of a refresh's CPU
// time at that scale. Kept in the heap, they are reused instead, for about
// 6 MiB more peak resident memory at 100,000 active sockets (blocks of
// different sizes fragment the heap; tools/bench rss/...). 32 MiB is the
// highest mmap threshold every glibc accepts; a refresh's largest block at
// 131,072 connections is about 14 MiB. False if glibc refused a setting.
inline bool keep_freed_memory() {
  return mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1;
}

}  // namespace netacct
