#pragma once
// Eight values at a time, portably: Vec8d is eight doubles handled as one
// value (GCC/Clang vector extensions: one 64-byte vector on AVX-512, two
// 32-byte halves otherwise), load and store widen float to double
// and round back exactly, and the prefetch hints name the next stretch of a
// stream. The engine's kernels (engine/detail/) and bench's copy measurement
// share them, so the yardstick streams memory the way the kernels do.
// Every lane is plain IEEE arithmetic: the bits do not depend on whether the
// compiler emits AVX-512, AVX2 or SSE2 instructions (fma included: one
// rounding everywhere).
#include <cmath>
#include <cstddef>

#if defined(__AVX512F__) || defined(__AVX__)
#include <immintrin.h>
#endif

namespace bnlab::simd {

inline constexpr std::ptrdiff_t kAhead = 2048;  // elements a contiguous stream is prefetched ahead

// Vec8d values are passed only between inline functions of bnlab's headers, so
// GCC's note that their calling convention differs without AVX-512 (-Wpsabi)
// does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float Vec8f __attribute__((vector_size(32)));
typedef double Vec4d __attribute__((vector_size(32)));
typedef float Vec4f __attribute__((vector_size(16)));
// The same with the alignment of their elements, for unaligned loads and
// stores that are typed: a store through them cannot alias the kernel's
// pointers (a memcpy could, which makes GCC reload them every iteration).
typedef double Vec8dU __attribute__((vector_size(64), aligned(8)));
typedef float Vec8fU __attribute__((vector_size(32), aligned(4)));
typedef double Vec4dU __attribute__((vector_size(32), aligned(8)));
typedef float Vec4fU __attribute__((vector_size(16), aligned(4)));

#if defined(__AVX512F__)

// One 64-byte vector: a zmm register.
typedef double Vec8d __attribute__((vector_size(64)));

inline Vec8d load(Vec8d, const float* p) {
  // One vcvtps2pd (the same exact conversion): GCC 12 lowers the generic
  // __builtin_convertvector to four instructions, which cost a read-only pass about 10%.
  return Vec8d(_mm512_maskz_cvtps_pd(__mmask8(0xFF), _mm256_loadu_ps(p)));
}
inline Vec8d load(Vec8d, const double* p) { return *reinterpret_cast<const Vec8dU*>(p); }
inline void store(double* p, Vec8d v) { *reinterpret_cast<Vec8dU*>(p) = v; }
inline void store(float* p, Vec8d v) { *reinterpret_cast<Vec8fU*>(p) = __builtin_convertvector(v, Vec8f); }

// Lane by lane: v where v < w, else w (a NaN in v is never below: w), and
// v where v > w, else w.
inline Vec8d lesser(Vec8d v, Vec8d w) { return v < w ? v : w; }
inline Vec8d greater(Vec8d v, Vec8d w) { return v > w ? v : w; }

#else

// Without AVX-512 the eight lanes are two 32-byte halves (a ymm register
// each on AVX2). A 64-byte generic vector would do, but GCC 12 keeps one
// that lives across loop iterations in memory on AVX2, reloading and
// spilling it element by element: the reductions ran at a third of their
// AVX-512 speed. Lane j is lo[j] for j < 4, hi[j - 4] otherwise; every
// operation is the same IEEE operation lane by lane, so the bits are those of
// the 64-byte vector.
struct Vec8d {
  Vec4d lo, hi;

  // Lane i, to read or to assign (+= and =) with a runtime index.
  class Lane {
   public:
    Lane(Vec8d& v, int i) : v_(v), i_(i) {}
    operator double() const { return i_ < 4 ? v_.lo[i_] : v_.hi[i_ - 4]; }
    Lane& operator=(double x) {
      if (i_ < 4) v_.lo[i_] = x;
      else v_.hi[i_ - 4] = x;
      return *this;
    }
    Lane& operator+=(double x) { return *this = double(*this) + x; }

   private:
    Vec8d& v_;
    int i_;
  };
  double operator[](int i) const { return i < 4 ? lo[i] : hi[i - 4]; }
  Lane operator[](int i) { return Lane(*this, i); }
  double operator[](std::size_t i) const { return (*this)[int(i)]; }
  Lane operator[](std::size_t i) { return Lane(*this, int(i)); }

  Vec8d& operator+=(const Vec8d& o) { lo += o.lo; hi += o.hi; return *this; }
  Vec8d& operator-=(const Vec8d& o) { lo -= o.lo; hi -= o.hi; return *this; }
  Vec8d& operator*=(const Vec8d& o) { lo *= o.lo; hi *= o.hi; return *this; }
};

// The four operations, lane by lane, with a double on either side as a
// vector of eight copies of it (as the generic vectors do).
#define BNLAB_VEC8D_OPERATOR(op)                                                                     \
  inline Vec8d operator op(const Vec8d& a, const Vec8d& b) { return {a.lo op b.lo, a.hi op b.hi}; } \
  inline Vec8d operator op(const Vec8d& a, double b) { return {a.lo op b, a.hi op b}; }             \
  inline Vec8d operator op(double a, const Vec8d& b) { return {a op b.lo, a op b.hi}; }
BNLAB_VEC8D_OPERATOR(+)
BNLAB_VEC8D_OPERATOR(-)
BNLAB_VEC8D_OPERATOR(*)
BNLAB_VEC8D_OPERATOR(/)
#undef BNLAB_VEC8D_OPERATOR
inline Vec8d operator-(const Vec8d& a) { return {-a.lo, -a.hi}; }

inline Vec4d widen4(const float* p) {
#if defined(__AVX__)
  return Vec4d(_mm256_cvtps_pd(_mm_loadu_ps(p)));  // one vcvtps2pd from memory
#else
  return __builtin_convertvector(Vec4f(*reinterpret_cast<const Vec4fU*>(p)), Vec4d);
#endif
}
inline Vec8d load(Vec8d, const float* p) { return {widen4(p), widen4(p + 4)}; }
inline Vec8d load(Vec8d, const double* p) {
  return {*reinterpret_cast<const Vec4dU*>(p), *reinterpret_cast<const Vec4dU*>(p + 4)};
}
inline void store(double* p, Vec8d v) {
  *reinterpret_cast<Vec4dU*>(p) = v.lo;
  *reinterpret_cast<Vec4dU*>(p + 4) = v.hi;
}
inline void store(float* p, Vec8d v) {
  *reinterpret_cast<Vec4fU*>(p) = __builtin_convertvector(v.lo, Vec4f);
  *reinterpret_cast<Vec4fU*>(p + 4) = __builtin_convertvector(v.hi, Vec4f);
}

inline Vec8d lesser(Vec8d v, Vec8d w) { return {v.lo < w.lo ? v.lo : w.lo, v.hi < w.hi ? v.hi : w.hi}; }
inline Vec8d greater(Vec8d v, Vec8d w) { return {v.lo > w.lo ? v.lo : w.lo, v.hi > w.hi ? v.hi : w.hi}; }

#endif

// load(lane_tag, p): the value(s) at p as double; the tag's type picks one
// element (double) or eight (Vec8d, above), so one lambda serves the vector
// body and the scalar tail of a loop.
inline double load(double, const float* p) { return double(*p); }
inline double load(double, const double* p) { return *p; }

// store(p, v): the value(s) v rounded to the destination's type.
inline void store(double* p, double v) { *p = v; }
inline void store(float* p, double v) { *p = float(v); }

// fma(a, b, c) = a * b + c rounded once, lane by lane: one vfmadd where the
// build targets FMA (AVX2 + FMA, AVX-512), std::fma per lane otherwise (the
// library's exact fused operation: the same bits, only slower). Explicit,
// because the build has -ffp-contract=off (the compiler fuses nothing by itself).
inline double fma(double a, double b, double c) { return std::fma(a, b, c); }
#if defined(__AVX512F__)
inline Vec8d fma(Vec8d a, Vec8d b, Vec8d c) { return Vec8d(_mm512_fmadd_pd(a, b, c)); }
#else
inline Vec4d fma(Vec4d a, Vec4d b, Vec4d c) {
#if defined(__FMA__)
  return Vec4d(_mm256_fmadd_pd(a, b, c));
#else
  return Vec4d{std::fma(a[0], b[0], c[0]), std::fma(a[1], b[1], c[1]), std::fma(a[2], b[2], c[2]),
               std::fma(a[3], b[3], c[3])};
#endif
}
inline Vec8d fma(const Vec8d& a, const Vec8d& b, const Vec8d& c) {
  return {fma(a.lo, b.lo, c.lo), fma(a.hi, b.hi, c.hi)};
}
#endif

// Prefetch hints (never fault, whatever the address).
template <class T>
void prefetch_read(const T* p) { __builtin_prefetch(p, 0, 3); }
template <class T>
void prefetch_write(T* p) { __builtin_prefetch(p, 1, 3); }

}  // namespace bnlab::simd
