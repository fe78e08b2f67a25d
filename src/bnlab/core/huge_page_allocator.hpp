#pragma once
// The allocator of bnlab's arrays (core/tensor.hpp). A block of at least
// kHugePageBytes (2 MiB) is aligned to 2 MiB and marked MADV_HUGEPAGE before
// its first touch, so that where the kernel allows transparent huge pages
// ("madvise" or "always" in /sys/kernel/mm/transparent_hugepage/enabled, the
// default of Debian's kernels is "madvise") it is backed by 2 MiB pages: one
// page fault per 2 MiB instead of one per 4 KiB, and fewer TLB misses. A
// tensor of a feature map is hundreds of MB, so a command that allocates a
// few of them spent much of its time in page faults: compare on a
// 64x256x56x56 .npy, 4.4-4.7 s -> 3.5-3.6 s with the same bits
// (docs/performance.md). Smaller blocks are 64-byte aligned, as before from
// malloc. Where huge pages are off, the hint is refused and nothing changes.
// Values are never touched here: the memory is as uninitialized as malloc's.
#include <cstddef>
#include <new>

namespace bnlab {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

// `bytes` of memory as described above (at least 1); throws std::bad_alloc.
void* allocate_array_bytes(std::size_t bytes);
void free_array_bytes(void* p) noexcept;

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() noexcept = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_alloc();
    return static_cast<T*>(allocate_array_bytes(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t) noexcept { free_array_bytes(p); }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace bnlab
