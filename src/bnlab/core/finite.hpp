#pragma once
// Finding the first NaN or Inf in a float32 buffer, fast enough to run over
// every tensor bnlab reads or writes (a 205 MB tensor in a few milliseconds).
#include <cstddef>

namespace bnlab {

// The index of the first value of values[0, count) that is NaN, +Inf or -Inf;
// `count` when every value is finite.
std::size_t first_non_finite(const float* values, std::size_t count);

}  // namespace bnlab
