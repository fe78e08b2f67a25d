// simd::Vec8d as the AVX2 build sees it: this file is compiled without
// AVX-512 (tests/CMakeLists.txt), so Vec8d is the two-halves struct there,
// whatever the host. Every operation must be the scalar IEEE operation lane
// by lane, so that the engine's bits do not depend on the ISA it was built for.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <tuple>
#include <vector>

#include "bnlab/core/simd.hpp"
#include "bnlab/engine/detail/reduce.hpp"

#if defined(__AVX512F__)
#error "test_simd.cpp must be compiled without AVX-512 (see tests/CMakeLists.txt)"
#endif

using bnlab::simd::Vec8d;

namespace {

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Eight awkward doubles: signs, a subnormal, values whose sums round.
const double kA[8] = {1.0 / 3.0, -2.5, 1e-310, 7.0e15, -0.0, 3.0, 0.1, -1e-5};
const double kB[8] = {0.7, 1e300, -3.0, 1.0 / 7.0, 2.0, -0.1, 0.2, 4.0};

}  // namespace

TEST_CASE("Vec8d without AVX-512: +, -, *, / and the scalar forms are lane by lane") {
  const Vec8d a = bnlab::simd::load(Vec8d{}, kA), b = bnlab::simd::load(Vec8d{}, kB);
  const double s = 1.0 / 9.0;
  const Vec8d sum = a + b, diff = a - b, prod = a * b, quot = a / b;
  const Vec8d right = a - s, left = s * b, neg = -a;
  Vec8d acc = a;
  acc += b;
  acc *= b;
  acc -= a;
  for (int i = 0; i < 8; ++i) {
    INFO("lane " << i);
    CHECK(same_bits(sum[i], kA[i] + kB[i]));
    CHECK(same_bits(diff[i], kA[i] - kB[i]));
    CHECK(same_bits(prod[i], kA[i] * kB[i]));
    CHECK(same_bits(quot[i], kA[i] / kB[i]));
    CHECK(same_bits(right[i], kA[i] - s));
    CHECK(same_bits(left[i], s * kB[i]));
    CHECK(same_bits(neg[i], -kA[i]));
    CHECK(same_bits(acc[i], (kA[i] + kB[i]) * kB[i] - kA[i]));
  }
}

TEST_CASE("Vec8d without AVX-512: float loads widen exactly, stores round once, lanes assign") {
  const float f[8] = {1.5f, -0.1f, 3e-40f, 16777217.0f, -2.0f, 1e30f, 0.0f, 7.25f};
  const Vec8d v = bnlab::simd::load(Vec8d{}, f);
  float back[8];
  double wide[8];
  bnlab::simd::store(back, v * (1.0 / 3.0));
  bnlab::simd::store(wide, v);
  for (int i = 0; i < 8; ++i) {
    INFO("lane " << i);
    CHECK(same_bits(v[i], double(f[i])));
    CHECK(same_bits(wide[i], double(f[i])));
    CHECK(back[i] == float(double(f[i]) * (1.0 / 3.0)));
  }
  Vec8d lanes{};
  for (std::size_t i = 0; i < 8; ++i) lanes[i] = double(i);
  lanes[5] += 0.5;
  lanes[std::size_t(2)] += 10.0;
  const double expected[8] = {0, 1, 12, 3, 4, 5.5, 6, 7};
  for (int i = 0; i < 8; ++i) CHECK(lanes[i] == expected[i]);
}

TEST_CASE("Vec8d without AVX-512: lesser and greater keep w where v is NaN") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double v[8] = {1, nan, -3, 4, nan, 6, -7, 8};
  const double w[8] = {2, 2, -4, 4, -1, 5, 0, nan};
  const Vec8d lo = bnlab::simd::lesser(bnlab::simd::load(Vec8d{}, v), bnlab::simd::load(Vec8d{}, w));
  const Vec8d hi = bnlab::simd::greater(bnlab::simd::load(Vec8d{}, v), bnlab::simd::load(Vec8d{}, w));
  for (int i = 0; i < 8; ++i) {
    INFO("lane " << i);
    CHECK(same_bits(lo[i], v[i] < w[i] ? v[i] : w[i]));
    CHECK(same_bits(hi[i], v[i] > w[i] ? v[i] : w[i]));
  }
}

TEST_CASE("lane_sums without AVX-512: the 16 lanes and their fixed tree, as scalar code adds them") {
  std::vector<float> x(16 * 37 + 5);  // 37 full steps and a scalar tail
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(std::sin(double(i) * 0.37) * 1e3 + 1e-3 * double(i));
  const float* p = x.data();
  const auto [sum, sq, fused] = bnlab::detail::lane_sums(x.size(), [=](auto tag, std::size_t i) {
    auto v = bnlab::simd::load(tag, p + i);
    return std::tuple{v, v * v, bnlab::detail::Product{v, v * (1.0 / 3.0)}};
  });
  // Lane j (of 16) takes elements j, j + 16, ...; then lo + hi, the tree, the tail.
  // add(sum, v): how one term enters its lane's sum.
  auto scalar = [&](auto add) {
    double lanes[16] = {};
    std::size_t i = 0;
    for (; i + 16 <= x.size(); i += 16)
      for (std::size_t j = 0; j < 16; ++j) lanes[j] = add(lanes[j], double(x[i + j]));
    double v[8];
    for (int j = 0; j < 8; ++j) v[j] = lanes[j] + lanes[j + 8];
    double out = ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
    for (; i < x.size(); ++i) out = add(out, double(x[i]));
    return out;
  };
  CHECK(same_bits(sum, scalar([](double s, double v) { return s + v; })));
  CHECK(same_bits(sq, scalar([](double s, double v) { return s + v * v; })));
  // A Product is fused: one rounding per term, not two.
  CHECK(same_bits(fused, scalar([](double s, double v) { return std::fma(v, v * (1.0 / 3.0), s); })));
  // Where it shows: each lane holds -(1 + 2^-29), then adds (1 + 2^-30)^2 =
  // 1 + 2^-29 + 2^-60. Fused, 2^-60 is left per lane (2^-56 in all); a
  // separate multiply rounds the square to 1 + 2^-29 and leaves 0.
  std::vector<double> u(33, 0.0), w(33, 0.0);  // and a scalar tail of 0 * 0
  for (std::size_t i = 0; i < 16; ++i) {
    u[i] = 1.0;
    w[i] = -(1.0 + std::ldexp(1.0, -29));
    u[i + 16] = w[i + 16] = 1.0 + std::ldexp(1.0, -30);
  }
  const auto [cancelled] = bnlab::detail::lane_sums(u.size(), [&](auto tag, std::size_t i) {
    return std::tuple{bnlab::detail::Product{bnlab::simd::load(tag, &u[i]), bnlab::simd::load(tag, &w[i])}};
  });
  CHECK(cancelled == std::ldexp(1.0, -56));
}

TEST_CASE("Vec8d without AVX-512: fma is std::fma lane by lane, one rounding") {
  const Vec8d a = bnlab::simd::load(Vec8d{}, kA), b = bnlab::simd::load(Vec8d{}, kB);
  const Vec8d c = a * 3.0 - b;
  const Vec8d f = bnlab::simd::fma(a, b, c);
  for (int i = 0; i < 8; ++i) {
    INFO("lane " << i);
    CHECK(same_bits(f[i], std::fma(kA[i], kB[i], c[i])));
  }
  // (1 + 2^-30)^2 - (1 + 2^-29) = 2^-60 exactly; unfused, the square rounds it away.
  const double e = 1.0 + std::ldexp(1.0, -30), g = -(1.0 + std::ldexp(1.0, -29));
  const Vec8d one = bnlab::simd::fma(Vec8d{} + e, Vec8d{} + e, Vec8d{} + g);
  CHECK(one[3] == std::ldexp(1.0, -60));
}
