#pragma once
// IEEE 754 binary16 ("half", NumPy's float16 '<f2'), as mixed-precision runs
// dump their activations. Every float16 value is exactly representable in
// float32 (11 significand bits <= 24, exponents -24..15 within -149..127), so
// the conversion below is exact: no rounding, no lost information.
#include <cstddef>
#include <cstdint>

namespace bnlab {

// The float32 with the same value as the float16 bit pattern `bits`
// (signed zeros, subnormals, Inf and NaN included; a NaN stays a NaN).
float float16_to_float32(std::uint16_t bits);

// Widens `count` little-endian float16 values at `data` (any alignment) into `out`.
void float16_to_float32(const char* data, std::size_t count, float* out);

}  // namespace bnlab
