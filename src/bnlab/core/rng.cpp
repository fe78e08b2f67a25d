#include "bnlab/core/rng.hpp"

#include <cfloat>
#include <cmath>
#include <limits>

#include "bnlab/core/error.hpp"

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

void Rng::fill_normal(double* out, std::size_t count) {
  std::size_t i = 0;
  if (count == 0) return;
  if (has_spare_) {
    out[i++] = spare_;
    has_spare_ = false;
  }
  for (; i + 1 < count; i += 2) polar_pair(*this, out[i], out[i + 1]);
  if (i < count) {
    polar_pair(*this, out[i], spare_);
    has_spare_ = true;
  }
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
