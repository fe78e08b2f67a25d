#include "bnlab/core/memory_policy.hpp"

#include <malloc.h>

#include <climits>

namespace bnlab {

void keep_freed_memory() {
  mallopt(M_MMAP_MAX, 0);              // serve large blocks from the heap ...
  mallopt(M_TRIM_THRESHOLD, INT_MAX);  // ... and never give freed heap back
}

}  // namespace bnlab
