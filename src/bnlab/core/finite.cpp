#include "bnlab/core/finite.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace bnlab {

// A float32 is NaN or Inf exactly when its 8 exponent bits are all ones
// (0x7f800000). Blocks are tested without branches (the compiler vectorizes
// the OR of the tests); only a block holding such a value is searched value
// by value.
std::size_t first_non_finite(const float* values, std::size_t count) {
  constexpr std::size_t kBlock = 4096;
  constexpr std::uint32_t kExponent = 0x7f800000u;
  for (std::size_t begin = 0; begin < count; begin += kBlock) {
    const std::size_t end = std::min(count, begin + kBlock);
    std::uint32_t any = 0;
    for (std::size_t i = begin; i < end; ++i) {
      std::uint32_t bits;
      std::memcpy(&bits, values + i, sizeof bits);
      any |= static_cast<std::uint32_t>((bits & kExponent) == kExponent);
    }
    if (any == 0) continue;
    for (std::size_t i = begin; i < end; ++i) {
      if (!std::isfinite(values[i])) return i;
    }
  }
  return count;
}

}  // namespace bnlab
