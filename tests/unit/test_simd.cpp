// simd::Vec8d as the AVX2 build sees it: this file is compiled without
// AVX-512 (tests/CMakeLists.txt), so Vec8d is the two-halves struct there,
// whatever the host. Every operation must be the scalar IEEE operation lane
// by lane, so that the engine's bits do not depend on the ISA it was built for.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <limits>
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
  const auto [sum, sq] = bnlab::detail::lane_sums<2>(x.size(), [=](auto tag, std::size_t i) {
    auto v = bnlab::simd::load(tag, p + i);
    return std::array{v, v * v};
  });
  // Lane j (of 16) takes elements j, j + 16, ...; then lo + hi, the tree, the tail.
  auto scalar = [&](auto term) {
    double lanes[16] = {};
    std::size_t i = 0;
    for (; i + 16 <= x.size(); i += 16)
      for (std::size_t j = 0; j < 16; ++j) lanes[j] += term(double(x[i + j]));
    double v[8];
    for (int j = 0; j < 8; ++j) v[j] = lanes[j] + lanes[j + 8];
    double out = ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
    for (; i < x.size(); ++i) out += term(double(x[i]));
    return out;
  };
  CHECK(same_bits(sum, scalar([](double v) { return v; })));
  CHECK(same_bits(sq, scalar([](double v) { return v * v; })));
}
