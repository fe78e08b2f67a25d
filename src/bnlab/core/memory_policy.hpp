#pragma once
// How bnlab asks the C allocator (glibc) to treat tensor-sized blocks.
//
// By default glibc serves each tensor-sized block with a fresh mmap, so every
// new output pays one page fault per 4 KiB (zeroing the pages) before a
// kernel writes a byte. Keeping freed blocks with the allocator instead lets
// the next tensor of the same size reuse pages already mapped, as a training
// loop's allocator does: compare and bench allocate many input-sized tensors
// one after another. And where the kernel offers transparent huge pages,
// the heap is marked for them (madvise MADV_HUGEPAGE on a reserve of address
// space made at once): a tensor touched for the first time then faults in
// 2 MiB pages, not 4 KiB ones (memory_policy.cpp says what it measured).

namespace bnlab {

// For a whole process (the `compare` subcommand): keep freed memory, in huge
// pages where the kernel allows, from now on. Call once, before the first tensor.
void keep_freed_memory();

// For one scope of library code (bench): keeps freed memory while it lives;
// its destructor restores glibc's default limits (M_MMAP_MAX 65536,
// M_TRIM_THRESHOLD 128 KiB) and hands the retained memory back to the
// kernel (malloc_trim), so callers after it see the usual behaviour.
class KeepFreedMemory {
 public:
  KeepFreedMemory();
  ~KeepFreedMemory();
  KeepFreedMemory(const KeepFreedMemory&) = delete;
  KeepFreedMemory& operator=(const KeepFreedMemory&) = delete;
};

}  // namespace bnlab
