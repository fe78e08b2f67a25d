#pragma once
// The one checked place for element counts and byte sizes. Every shape that
// comes from a user (an option, a config key, an .npy header) goes through
// checked_element_count before anything multiplies its extents, so no later
// product (count * sizeof(T), n * c * h * w, a stride) can overflow size_t.
//
// Limits (stated in every error message that enforces them):
//   kMaxElements  2^40 elements (4 TiB as float32): far beyond any machine's
//                 memory, small enough that count * 16 and the kernels' index
//                 products stay far below 2^64.
//   kMaxRank      32 axes (numpy allows 64; a feature map has 4).
// Memory: require_memory refuses, before allocating, a request larger than the
// machine's physical memory, naming the bytes and the option or file that
// asked for them (instead of an OOM kill or a bare std::bad_alloc).
#include <cstddef>
#include <string>
#include <vector>

namespace bnlab {

inline constexpr std::size_t kMaxElements = std::size_t{1} << 40;
inline constexpr std::size_t kMaxRank = 32;

// The product of `shape`'s extents. Throws Error
//   "<what>: shape (a, b, ...) has more than 2^40 elements (the limit of bnlab)"
// when the product exceeds kMaxElements (an overflow included) - also when an
// extent is 0 and the others multiply past the limit, so that xtensor can
// compute strides safely - or when the rank exceeds kMaxRank.
std::size_t checked_element_count(const std::vector<std::size_t>& shape, const std::string& what);

// count * item_size, for a count checked above (throws Error on overflow).
std::size_t checked_byte_size(std::size_t count, std::size_t item_size, const std::string& what);

// "1.5 GiB", "384 MiB", "912 bytes": for messages.
std::string human_bytes(double bytes);

// The machine's physical memory in bytes (sysconf), 0 when unknown.
std::size_t physical_memory_bytes();

// Throws Error "<what>: needs <bytes> bytes (<human>) for <purpose>, more than
// this machine's memory (<human>)" when bytes exceeds physical memory.
void require_memory(std::size_t bytes, const std::string& what, const std::string& purpose);

}  // namespace bnlab
