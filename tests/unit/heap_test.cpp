// The heap setting main() makes: glibc accepts it, and a block as large as
// a refresh's at full connection slots stays in the heap (no mmap'd block
// to be unmapped on free and faulted in again at the next refresh).
#include "cli/heap.hpp"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>

TEST(Heap, RefreshSizedBlocksStayInTheHeap) {
  ASSERT_TRUE(netacct::keep_freed_memory());
  size_t mapped = mallinfo2().hblks;
  void* block = std::malloc(14 << 20);
  ASSERT_NE(block, nullptr);
  EXPECT_EQ(mallinfo2().hblks, mapped);
  std::free(block);
}
