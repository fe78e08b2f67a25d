#include "bnlab/io/float16.hpp"

#include <bit>
#include <cstring>

namespace bnlab {

// binary16: sign s (1 bit) | exponent e (5 bits, bias 15) | fraction f (10 bits)
//   e = 0:      value = (-1)^s * f * 2^-24              (zero and subnormals)
//   0 < e < 31: value = (-1)^s * (1024 + f) * 2^(e-25)  (normal)
//   e = 31:     Inf (f = 0) or NaN (f != 0)
// binary32: sign (1) | exponent (8 bits, bias 127) | fraction (23 bits).
// A normal half maps to the float with exponent e - 15 + 127 = e + 112 and
// fraction f << 13. A subnormal half f * 2^-24 (f < 1024) is a normal float:
// with p = bit_width(f) - 1 (so 2^p <= f < 2^(p+1)) it is
// (1 + (f - 2^p) / 2^p) * 2^(p - 24), exponent field p - 24 + 127 = p + 103,
// fraction (f - 2^p) << (23 - p).
float float16_to_float32(std::uint16_t bits) {
  const std::uint32_t sign = std::uint32_t{bits & 0x8000u} << 16;
  const std::uint32_t exponent = (bits >> 10) & 0x1fu;
  const std::uint32_t fraction = bits & 0x3ffu;
  std::uint32_t out = sign;
  if (exponent == 31) {
    out |= 0x7f800000u | (fraction << 13);  // Inf, or NaN keeping its payload
  } else if (exponent != 0) {
    out |= ((exponent + 112) << 23) | (fraction << 13);
  } else if (fraction != 0) {
    const std::uint32_t p = static_cast<std::uint32_t>(std::bit_width(fraction)) - 1;
    out |= ((p + 103) << 23) | ((fraction - (1u << p)) << (23 - p));
  }  // else a signed zero: the sign alone
  return std::bit_cast<float>(out);
}

void float16_to_float32(const char* data, std::size_t count, float* out) {
  for (std::size_t i = 0; i < count; ++i) {
    // Little-endian bytes, assembled explicitly: no alignment assumption.
    const auto lo = static_cast<unsigned char>(data[2 * i]), hi = static_cast<unsigned char>(data[2 * i + 1]);
    out[i] = float16_to_float32(static_cast<std::uint16_t>(lo | (hi << 8)));
  }
}

}  // namespace bnlab
