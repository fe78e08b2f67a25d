#pragma once
// Eight values at a time, portably: Vec8d is eight doubles handled as one
// value (GCC/Clang vector extension), load and store widen float to double
// and round back exactly, and the prefetch hints name the next stretch of a
// stream. The engine's kernels (engine/detail/) and bench's copy measurement
// share them, so the yardstick streams memory the way the kernels do.
// Every lane is plain IEEE arithmetic: the bits do not depend on whether the
// compiler emits AVX-512, AVX2 or SSE2 instructions.
#include <cstddef>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace bnlab::simd {

inline constexpr std::ptrdiff_t kAhead = 2048;  // elements a contiguous stream is prefetched ahead

// Vec8d values are passed only between inline functions of bnlab's headers, so
// GCC's note that their calling convention differs without AVX-512 (-Wpsabi)
// does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

typedef double Vec8d __attribute__((vector_size(64)));
typedef float Vec8f __attribute__((vector_size(32)));
// The same with the alignment of their elements, for unaligned loads and
// stores that are typed: a store through them cannot alias the kernel's
// pointers (a memcpy could, which makes GCC reload them every iteration).
typedef double Vec8dU __attribute__((vector_size(64), aligned(8)));
typedef float Vec8fU __attribute__((vector_size(32), aligned(4)));

// load(lane_tag, p): the value(s) at p as double; the tag's type picks one
// element (double) or eight (Vec8d), so one lambda serves the vector body and
// the scalar tail of a loop.
inline double load(double, const float* p) { return double(*p); }
inline double load(double, const double* p) { return *p; }
inline Vec8d load(Vec8d, const float* p) {
#if defined(__AVX512F__)
  // One vcvtps2pd (the same exact conversion): GCC 12 lowers the generic
  // one below to four instructions, which cost a read-only pass about 10%.
  return Vec8d(_mm512_maskz_cvtps_pd(__mmask8(0xFF), _mm256_loadu_ps(p)));
#else
  return __builtin_convertvector(Vec8f(*reinterpret_cast<const Vec8fU*>(p)), Vec8d);
#endif
}
inline Vec8d load(Vec8d, const double* p) { return *reinterpret_cast<const Vec8dU*>(p); }

// store(p, v): the value(s) v rounded to the destination's type.
inline void store(double* p, double v) { *p = v; }
inline void store(float* p, double v) { *p = float(v); }
inline void store(double* p, Vec8d v) { *reinterpret_cast<Vec8dU*>(p) = v; }
inline void store(float* p, Vec8d v) { *reinterpret_cast<Vec8fU*>(p) = __builtin_convertvector(v, Vec8f); }

// Prefetch hints (never fault, whatever the address).
template <class T>
void prefetch_read(const T* p) { __builtin_prefetch(p, 0, 3); }
template <class T>
void prefetch_write(T* p) { __builtin_prefetch(p, 1, 3); }

}  // namespace bnlab::simd
