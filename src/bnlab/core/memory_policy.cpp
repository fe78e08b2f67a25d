// The allocator settings of memory_policy.hpp (glibc mallopt).
#include "bnlab/core/memory_policy.hpp"

#include <malloc.h>

#include <climits>

namespace bnlab {
namespace {

constexpr int kDefaultMmapMax = 65536;             // glibc's DEFAULT_MMAP_MAX
constexpr int kDefaultTrimThreshold = 128 * 1024;  // glibc's DEFAULT_TRIM_THRESHOLD

}  // namespace

void keep_freed_memory() {
  mallopt(M_MMAP_MAX, 0);              // serve large blocks from the heap ...
  mallopt(M_TRIM_THRESHOLD, INT_MAX);  // ... and never give freed heap back
}

KeepFreedMemory::KeepFreedMemory() { keep_freed_memory(); }

KeepFreedMemory::~KeepFreedMemory() {
  mallopt(M_MMAP_MAX, kDefaultMmapMax);
  mallopt(M_TRIM_THRESHOLD, kDefaultTrimThreshold);
  malloc_trim(0);
}

}  // namespace bnlab
