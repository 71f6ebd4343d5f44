// The heap setting main() makes: glibc accepts it, and a block as large as
// a refresh's at full connection slots stays in the heap (no mmap'd block
// to be unmapped on free and faulted in again at the next refresh).
#include "cli/heap.hpp"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>

// Under AddressSanitizer (tests/fuzz's sanitizer build) malloc is ASan's,
// not glibc's: mallopt is refused and there is nothing of glibc's to test.
#if defined(__SANITIZE_ADDRESS__)
#define NETACCT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NETACCT_ASAN 1
#endif
#endif

TEST(Heap, RefreshSizedBlocksStayInTheHeap) {
#ifdef NETACCT_ASAN
  GTEST_SKIP() << "AddressSanitizer replaces glibc's malloc: mallopt does not apply";
#endif
  ASSERT_TRUE(netacct::keep_freed_memory());
  size_t mapped = mallinfo2().hblks;
  void* block = std::malloc(14 << 20);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(mallinfo2().hblks, mapped);
  std::free(block);
}
