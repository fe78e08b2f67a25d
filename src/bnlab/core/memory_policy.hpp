#pragma once
// How bnlab asks the C allocator to treat tensor-sized blocks.

namespace bnlab {

// Keep freed blocks with the allocator instead of returning them to the
// kernel: by default glibc serves each tensor-sized block with a fresh mmap,
// so every new output pays one page fault per 4 KiB (zeroing the pages)
// before a kernel writes a byte. compare and bench allocate many tensors of
// the input's size one after another; with this they reuse the same pages,
// as a training loop's allocator does. Call once, before the first tensor.
void keep_freed_memory();

}  // namespace bnlab
