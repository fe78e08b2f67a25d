#include "bnlab/core/huge_page_allocator.hpp"

#include <cstdint>
#include <cstdlib>

#include <sys/mman.h>

namespace bnlab {

void* allocate_array_bytes(std::size_t bytes) {
  constexpr std::size_t kAlignment = 64;
  if (bytes == 0) bytes = 1;
  if (bytes > std::size_t(-1) - kAlignment) throw std::bad_alloc();
  const std::size_t rounded = (bytes + kAlignment - 1) / kAlignment * kAlignment;  // aligned_alloc wants a multiple
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (!p) throw std::bad_alloc();
  // The whole 2 MiB pages inside the block, marked before their first touch
  // (the block itself stays where malloc put it: the heap's layout, and so
  // the peak memory, are malloc's; a hint, refused where THP is off).
  const std::uintptr_t begin = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t first = (begin + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  const std::uintptr_t last = (begin + bytes) / kHugePageBytes * kHugePageBytes;
  if (last > first) (void)::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  return p;
}

void free_array_bytes(void* p) noexcept { std::free(p); }

}  // namespace bnlab
