#include "bnlab/core/rng.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>

#include "bnlab/core/error.hpp"

#if defined(__AVX512F__) || defined(__AVX__)
#include <immintrin.h>
#endif

// Bit-identical results need every a*b+c below rounded twice, as written:
// forbid contraction into FMA (GCC contracts by default in C++ even with
// -std=c++20, and -march=native offers FMA). Keep this in sync with synth.cpp.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

static_assert(std::numeric_limits<double>::is_iec559, "bnlab::Rng needs IEEE 754 binary64 doubles");
static_assert(FLT_EVAL_METHOD == 0, "bnlab::Rng needs FLT_EVAL_METHOD == 0 (no x87 excess precision)");

namespace bnlab {

// ---- mt19937_64 ([rand.eng.mers], [rand.predef]) ----------------------------
// w = 64, n = 312, m = 156, r = 31, a = 0xb5026f5aa96619e9, (u, d) = (29,
// 0x5555555555555555), (s, b) = (17, 0x71d67fffeda60000), (t, c) = (37,
// 0xfff7eee000000000), l = 43, f = 6364136223846793005.
namespace {
constexpr std::size_t kShift = 156;  // m
constexpr std::uint64_t kMatrixA = 0xb5026f5aa96619e9ULL;
constexpr std::uint64_t kUpperMask = ~std::uint64_t{0} << 31;  // the top w - r bits
constexpr std::uint64_t kLowerMask = ~kUpperMask;

// x_{i+n} = x_{i+m} xor ((upper(x_i) | lower(x_{i+1})) A), where y A = y >> 1,
// xor a when y is odd.
inline std::uint64_t twist(std::uint64_t x_i, std::uint64_t x_i1, std::uint64_t x_im) {
  const std::uint64_t y = (x_i & kUpperMask) | (x_i1 & kLowerMask);
  return x_im ^ (y >> 1) ^ ((y & 1) * kMatrixA);
}

inline std::uint64_t temper(std::uint64_t z) {
  z ^= (z >> 29) & 0x5555555555555555ULL;
  z ^= (z << 17) & 0x71d67fffeda60000ULL;
  z ^= (z << 37) & 0xfff7eee000000000ULL;
  return z ^ (z >> 43);
}
}  // namespace

Mt19937_64::Mt19937_64(std::uint64_t seed) {
  state_[0] = seed;
  for (std::size_t i = 1; i < kStateSize; ++i)
    state_[i] = 6364136223846793005ULL * (state_[i - 1] ^ (state_[i - 1] >> 62)) + i;
}

// The state is the last n outputs before tempering, x_0 .. x_{n-1} in place;
// word i becomes x_{i+n}, which reads x_{i+m} (still old for i < n - m, new
// after), so the three loops below have no dependence inside each other.
void Mt19937_64::refill() {
  constexpr std::size_t n = kStateSize, m = kShift;
  std::uint64_t* x = state_;
  for (std::size_t i = 0; i < n - m; ++i) x[i] = twist(x[i], x[i + 1], x[i + m]);
  for (std::size_t i = n - m; i < n - 1; ++i) x[i] = twist(x[i], x[i + 1], x[i + m - n]);
  x[n - 1] = twist(x[n - 1], x[0], x[m - 1]);
  for (std::size_t i = 0; i < n; ++i) block_[i] = temper(x[i]);
  next_ = 0;
}

namespace {

// ln 2 split so that n * kLn2Hi is exact for |n| < 2^11 (fdlibm's constants).
constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 0x3FE62E42FEE00000
constexpr double kLn2Lo = 1.90821492927058770002e-10;  // 0x3DEA39EF35793C76
constexpr double kInvLn2 = 1.44269504088896338700e+00;
constexpr double kSqrtHalf = 0.70710678118654752440;
constexpr double kTwoPi = 6.28318530717958647692;

// cos(a) and sin(a) for |a| <= pi/4: Taylor series to a^18 / a^19, whose
// remainder (< 0.79^20/20! ~ 3e-21) is far below an ulp. Horner in a^2.
double cos_small(double a) {
  double a2 = a * a;
  double c = 1.0;
  for (int k = 9; k >= 1; --k) c = 1.0 - c * a2 / static_cast<double>((2 * k - 1) * (2 * k));
  return c;
}

double sin_small(double a) {
  double a2 = a * a;
  double s = 1.0;
  for (int k = 9; k >= 1; --k) s = 1.0 - s * a2 / static_cast<double>((2 * k) * (2 * k + 1));
  return a * s;
}

// One accepted pair of Marsaglia's polar method:
//   (u, v) uniform in the unit disc minus the origin, s = u^2 + v^2,
//   f = sqrt(-2 ln s / s); then u*f and v*f are independent N(0, 1).
// Acceptance probability pi/4: on average 2.55 draws per pair.
inline void polar_pair(Rng& rng, double& first, double& second) {
  double u = 0.0, v = 0.0, s = 0.0;
  do {
    u = 2.0 * rng.uniform() - 1.0;
    v = 2.0 * rng.uniform() - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  double f = std::sqrt(-2.0 * det_log(s) / s);
  first = u * f;
  second = v * f;
}

}  // namespace

std::uint64_t Rng::below(std::uint64_t bound) {
  if (bound == 0) throw Error("Rng::below: bound must be >= 1 (got 0)");
  auto k = static_cast<std::uint64_t>(uniform() * static_cast<double>(bound));
  return k < bound ? k : bound - 1;  // uniform() * bound can round up to bound
}

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double first = 0.0;
  polar_pair(*this, first, spare_);
  has_spare_ = true;
  return first;
}

// ln x = e ln 2 + ln m, x = m 2^e, m in [sqrt(1/2), sqrt(2)).
// ln m = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), s = (m-1)/(m+1), |s| <= 0.1716,
// so s^2 <= 0.0295 and 12 terms of the series reach 1e-19 relative.
double det_log(double x) {
  if (!(x > 0.0)) return x == 0.0 ? -std::numeric_limits<double>::infinity()
                                  : std::numeric_limits<double>::quiet_NaN();
  if (x == std::numeric_limits<double>::infinity()) return x;
  int e = 0;
  double m = std::frexp(x, &e);  // exact: m in [0.5, 1)
  if (m < kSqrtHalf) {
    m *= 2.0;
    --e;
  }
  double f = m - 1.0;  // exact (Sterbenz)
  double s = f / (2.0 + f);
  double s2 = s * s;
  double t = 1.0 / 25.0;
  for (int k = 23; k >= 3; k -= 2) t = 1.0 / static_cast<double>(k) + s2 * t;
  double ln_m = 2.0 * s + 2.0 * s * (s2 * t);
  double de = static_cast<double>(e);
  return de * kLn2Hi + (de * kLn2Lo + ln_m);
}

// ---- eight lanes at a time ---------------------------------------------------
// det_log and the end of polar_pair on eight values: in every lane the same
// IEEE operations in the same order as the scalar code (no contraction, see
// the top of the file; +, -, *, / and sqrt are correctly rounded whatever the
// instruction width), so every lane has the scalar result's bits.
namespace {

// Its Vec8d values are passed only between the inline functions of this
// file, so GCC's note that their calling convention differs without AVX-512
// (-Wpsabi) does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

// A 64-byte generic vector of its own, not simd::Vec8d: its lanes are
// reinterpreted as integers, compared and shuffled, which only the generic
// vector offers (simd::Vec8d is two halves without AVX-512).
typedef double Vec8d __attribute__((vector_size(64)));
typedef std::int64_t Vec8i __attribute__((vector_size(64)));

constexpr std::int64_t kMantissaBits = 0x000fffffffffffffLL;
constexpr std::int64_t kHalfExponent = 0x3fe0000000000000LL;  // the exponent field of [0.5, 1)
constexpr std::int64_t kHalfBiased = 1022;                    // and its value
constexpr std::size_t kBatch = 256;  // pairs per pass of fill_normal (a multiple of 8)

Vec8d splat(double v) { return Vec8d{v, v, v, v, v, v, v, v}; }
Vec8d load8(const double* p) {
  Vec8d v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
void store8(double* p, Vec8d v) { std::memcpy(p, &v, sizeof v); }
// The bits of each lane, and back (a vector cast reinterprets, it does not convert).
Vec8i bits_of(Vec8d x) { return (Vec8i)x; }
Vec8d double_of(Vec8i bits) { return (Vec8d)bits; }

// Whether every lane is a positive, finite, normal double: biased exponent in
// [1, 2046] with the sign bit clear (an arithmetic shift makes x < 0 negative).
bool all_positive_normal(Vec8d x) {
  const Vec8i biased = bits_of(x) >> 52;
  const Vec8i bad = (biased < 1) | (biased > 2046);
  std::int64_t any = 0;
  for (int lane = 0; lane < 8; ++lane) any |= bad[lane];
  return any == 0;
}

// det_log, lane by lane. Positive normal lanes take the vector path, where
// frexp is bit surgery and exact alike: x = m 2^e with m = x's mantissa under
// the exponent field of [0.5, 1), e = x's biased exponent - 1022. Any other
// lane (0, subnormal, negative, inf, NaN) sends all eight to the scalar code.
Vec8d det_log8(Vec8d x) {
  if (!all_positive_normal(x)) {
    Vec8d y;
    for (int lane = 0; lane < 8; ++lane) y[lane] = det_log(x[lane]);
    return y;
  }
  const Vec8i bits = bits_of(x);
  Vec8i e = (bits >> 52) - kHalfBiased;
  Vec8d m = double_of((bits & kMantissaBits) | kHalfExponent);
  // if (m < sqrt(1/2)) { m *= 2; --e; }  low: all ones where true (-1), else 0
  const Vec8i low = (Vec8i)(m < splat(kSqrtHalf));
  m = double_of((bits_of(m * 2.0) & low) | (bits_of(m) & ~low));
  e = e + low;
  const Vec8d f = m - 1.0;
  const Vec8d s = f / (2.0 + f);
  const Vec8d s2 = s * s;
  Vec8d t = splat(1.0 / 25.0);
  for (int k = 23; k >= 3; k -= 2) t = 1.0 / static_cast<double>(k) + s2 * t;
  const Vec8d ln_m = 2.0 * s + 2.0 * s * (s2 * t);
  const Vec8d de = __builtin_convertvector(e, Vec8d);  // exact: |e| < 1100
  return de * kLn2Hi + (de * kLn2Lo + ln_m);
}

// std::sqrt lane by lane (correctly rounded: the same bits in every width).
Vec8d sqrt8(Vec8d x) {
#if defined(__AVX512F__)
  // maskz with every lane kept: _mm512_sqrt_pd itself, minus GCC 12's false
  // -Wmaybe-uninitialized on the undefined source operand of the plain form.
  return Vec8d(_mm512_maskz_sqrt_pd(__mmask8(0xFF), __m512d(x)));
#elif defined(__AVX__)
  __m256d half[2];
  std::memcpy(half, &x, sizeof x);
  half[0] = _mm256_sqrt_pd(half[0]);
  half[1] = _mm256_sqrt_pd(half[1]);
  std::memcpy(&x, half, sizeof x);
  return x;
#else
  for (int lane = 0; lane < 8; ++lane) x[lane] = std::sqrt(x[lane]);
  return x;
#endif
}

}  // namespace

void det_log_n(const double* x, double* y, std::size_t count) {
  std::size_t i = 0;
  for (; i + 8 <= count; i += 8) store8(y + i, det_log8(load8(x + i)));
  for (; i < count; ++i) y[i] = det_log(x[i]);
}

// polar_pair's pairs, kBatch at a time, in two passes:
//   1. the accept/reject loop in stream order. An attempt is two successive
//      draws (u, then v), so the attempts in the engine's current block are
//      converted to (u, v, s) all at once (a vectorized loop), then kept in
//      order: attempt a is written at slot k, acceptance advances k, a
//      rejected attempt is overwritten by the next (branch-free; with AVX-512
//      eight attempts at a time, the accepted ones packed by compress). Only
//      the attempts up to the batch's last accepted one are consumed (skip);
//      an attempt split by a refill (one draw left) is made draw by draw;
//   2. f = sqrt(-2 ln s / s), first = u f, second = v f, eight pairs at a
//      time, interleaved into out as polar_pair(out[i], out[i + 1]) writes them.
// So the engine gives the same draws in the same order and every value has the
// scalar bits; an odd count ends with polar_pair itself, its second value the
// spare, as normal() would leave it.
void Rng::fill_normal(double* out, std::size_t count) {
  if (count == 0) return;
  std::size_t i = 0;
  if (has_spare_) {
    out[i++] = spare_;
    has_spare_ = false;
  }
  constexpr std::size_t kBlockAttempts = Mt19937_64::kStateSize / 2;
  alignas(64) double u[kBatch], v[kBatch], s[kBatch];  // (kBatch) accepted attempts
  alignas(64) double ua[kBlockAttempts], va[kBlockAttempts], sa[kBlockAttempts];  // (attempts) of a block
  for (std::size_t pairs = (count - i) / 2; pairs > 0;) {
    const std::size_t batch = std::min(pairs, kBatch);
    std::size_t k = 0;
    while (k < batch) {
      const std::uint64_t* draw = engine_.peek();
      // About 1.27 attempts per pair (acceptance pi/4): convert a margin more,
      // not the whole block, when the batch is nearly full.
      const std::size_t wanted = batch - k;
      const std::size_t attempts = std::min(engine_.available() / 2, wanted + wanted / 2 + 8);
      if (attempts == 0) {  // one draw left in this block: the attempt straddles the refill
        u[k] = 2.0 * uniform() - 1.0;
        v[k] = 2.0 * uniform() - 1.0;
        s[k] = u[k] * u[k] + v[k] * v[k];
        k += (s[k] >= 1.0 || s[k] == 0.0) ? 0 : 1;
        continue;
      }
      // uniform(): (draw >> 11) 2^-53; the int64 conversion is exact (< 2^53) and vectorizes
      for (std::size_t a = 0; a < attempts; ++a) {
        ua[a] = 2.0 * (static_cast<double>(static_cast<std::int64_t>(draw[2 * a] >> 11)) * 0x1.0p-53) - 1.0;
        va[a] = 2.0 * (static_cast<double>(static_cast<std::int64_t>(draw[2 * a + 1] >> 11)) * 0x1.0p-53) - 1.0;
        sa[a] = ua[a] * ua[a] + va[a] * va[a];
      }
      std::size_t a = 0;
#if defined(__AVX512F__)
      // Eight attempts at a time while all eight could be kept: the accepted
      // ones, in order, packed to the front (compress) and stored at slot k.
      for (; a + 8 <= attempts && k + 8 <= batch; a += 8) {
        const __m512d sv = _mm512_load_pd(sa + a);
        const __mmask8 keep = __mmask8(_mm512_cmp_pd_mask(sv, _mm512_set1_pd(1.0), _CMP_NGE_UQ) &
                                       _mm512_cmp_pd_mask(sv, _mm512_setzero_pd(), _CMP_NEQ_UQ));  // !(s >= 1 || s == 0)
        _mm512_storeu_pd(u + k, _mm512_maskz_compress_pd(keep, _mm512_load_pd(ua + a)));
        _mm512_storeu_pd(v + k, _mm512_maskz_compress_pd(keep, _mm512_load_pd(va + a)));
        _mm512_storeu_pd(s + k, _mm512_maskz_compress_pd(keep, sv));
        k += static_cast<std::size_t>(__builtin_popcount(keep));
      }
#endif
      for (; a < attempts && k < batch; ++a) {
        u[k] = ua[a];
        v[k] = va[a];
        s[k] = sa[a];
        k += (sa[a] >= 1.0 || sa[a] == 0.0) ? 0 : 1;
      }
      engine_.skip(2 * a);
    }
    for (std::size_t j = batch; j % 8 != 0; ++j) {  // pad the last eight: discarded
      u[j] = 0.0;
      v[j] = 0.0;
      s[j] = 0.5;
    }
    for (std::size_t j = 0; j < batch; j += 8) {
      const Vec8d sj = load8(s + j);
      const Vec8d f = sqrt8(-2.0 * det_log8(sj) / sj);
      const Vec8d first = load8(u + j) * f;
      const Vec8d second = load8(v + j) * f;
      // (first_0, second_0, first_1, second_1, ...): pair p at out[2p], out[2p + 1]
      const Vec8d lo = __builtin_shufflevector(first, second, 0, 8, 1, 9, 2, 10, 3, 11);
      const Vec8d hi = __builtin_shufflevector(first, second, 4, 12, 5, 13, 6, 14, 7, 15);
      const std::size_t here = std::min<std::size_t>(8, batch - j);  // pairs of these eight kept
      if (here == 8) {
        store8(out + i, lo);
        store8(out + i + 8, hi);
      } else {
        alignas(64) double both[16];
        store8(both, lo);
        store8(both + 8, hi);
        std::memcpy(out + i, both, 2 * here * sizeof(double));
      }
      i += 2 * here;
    }
    pairs -= batch;
  }
  if (i < count) {  // odd: the last pair's second value is the spare
    polar_pair(*this, out[i], spare_);
    has_spare_ = true;
  }
}

// e^x = 2^n e^r, n = round(x / ln 2), r = x - n ln 2 in [-0.347, 0.347] (two-part
// ln 2), e^r by its Taylor series to r^13 (remainder < 4e-18 relative).
double det_exp(double x) {
  if (x != x) return x;
  if (x > 709.782712893384) return std::numeric_limits<double>::infinity();
  if (x < -745.1332191019412) return 0.0;
  double n = std::floor(x * kInvLn2 + 0.5);
  double r = (x - n * kLn2Hi) - n * kLn2Lo;
  double p = 1.0;
  for (int k = 13; k >= 1; --k) p = 1.0 + p * r / static_cast<double>(k);
  return std::ldexp(p, static_cast<int>(n));
}

// cos(2 pi t): reduce t to a fraction of a turn (floor is exact), fold by the
// symmetries cos(2pi(1-u)) = cos(2pi u) and cos(pi - a) = -cos(a) to u in
// [0, 1/4] (each subtraction exact by Sterbenz), then cos or sin of an angle
// <= pi/4.
double det_cos_turns(double t) {
  double u = t - std::floor(t);  // [0, 1]
  if (u > 0.5) u = 1.0 - u;      // [0, 1/2]
  double sign = 1.0;
  if (u > 0.25) {
    u = 0.5 - u;  // [0, 1/4]
    sign = -1.0;
  }
  if (u <= 0.125) return sign * cos_small(kTwoPi * u);
  return sign * sin_small(kTwoPi * (0.25 - u));
}

}  // namespace bnlab
