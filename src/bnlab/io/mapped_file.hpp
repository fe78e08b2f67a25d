#pragma once
// A file's bytes mapped read-only (mmap(2)), for as long as the object lives:
// an input read in place, without a copy into fresh memory (normalize's x and
// dy: io/npy.hpp map_feature_map).
//
// A mapping has one hazard a read(2) does not: when another process shrinks
// the file meanwhile, touching a page past its new end raises SIGBUS. While a
// ReadOnlyMapping lives, bnlab handles that SIGBUS itself: one line on stderr,
// "bnlab: <path>: cannot read: the file became shorter while bnlab read it"
// (the read path's words), the leftovers of outputs in progress removed
// (io/atomic_file.hpp: staged outputs are anonymous files, which vanish with
// the process; named temporaries and an output directory bnlab created are
// removed), and exit status 1. A SIGBUS at any other address goes to the
// handler that was there before.
#include <cstddef>
#include <string>
#include <string_view>

namespace bnlab {

// What follows "<path>: " when a file became shorter while bnlab read it,
// whether read(2) met the early end or a mapping's SIGBUS did.
inline constexpr std::string_view kFileShrank = "cannot read: the file became shorter while bnlab read it";

class ReadOnlyMapping {
 public:
  // Maps `size` bytes of the open file `fd` (not closed here; the mapping
  // outlives it). Returns an empty mapping (mapped() false) when the kernel
  // refuses (a file system without mmap): the caller reads the file instead.
  // `path` names the file in the SIGBUS line.
  ReadOnlyMapping(int fd, std::size_t size, const std::string& path);
  ReadOnlyMapping() = default;
  ~ReadOnlyMapping();
  ReadOnlyMapping(ReadOnlyMapping&& other) noexcept;
  ReadOnlyMapping& operator=(ReadOnlyMapping&& other) noexcept;
  ReadOnlyMapping(const ReadOnlyMapping&) = delete;
  ReadOnlyMapping& operator=(const ReadOnlyMapping&) = delete;

  bool mapped() const { return data_ != nullptr; }
  std::string_view bytes() const { return {data_, size_}; }

 private:
  void release();
  const char* data_ = nullptr;
  std::size_t size_ = 0;
  int slot_ = -1;  // its SIGBUS slot, or -1
};

}  // namespace bnlab
