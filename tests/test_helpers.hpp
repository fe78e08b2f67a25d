#pragma once
// Small helpers shared by the tests: seeded data, conversions, error norms.
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "bnlab/core/tensor.hpp"

namespace testing {

// Seeded standard normals (Box-Muller over mt19937_64: reproducible everywhere).
inline std::vector<double> normals(std::size_t count, std::uint64_t seed, double mean = 0.0, double std = 1.0) {
  std::mt19937_64 gen(seed);
  auto uniform = [&] { return (double(gen() >> 11) + 0.5) * 0x1.0p-53; };
  std::vector<double> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    double r = std::sqrt(-2.0 * std::log(uniform()));
    out[i] = mean + std * r * std::cos(6.283185307179586 * uniform());
  }
  return out;
}

// Values in [lo, hi): for gammas and running variances.
inline std::vector<double> uniforms(std::size_t count, std::uint64_t seed, double lo, double hi) {
  std::mt19937_64 gen(seed);
  std::vector<double> out(count);
  for (auto& v : out) v = lo + (hi - lo) * double(gen() >> 11) * 0x1.0p-53;
  return out;
}

template <class T>
bnlab::Array<T> to_array(const std::vector<double>& values, const std::vector<std::size_t>& shape) {
  auto a = bnlab::Array<T>::from_shape(shape);
  for (std::size_t i = 0; i < values.size(); ++i) a.data()[i] = T(values[i]);
  return a;
}

// The double values a float array holds (so the reference sees exactly the engine's input).
template <class T>
std::vector<double> to_doubles(const bnlab::Array<T>& a) {
  return std::vector<double>(a.data(), a.data() + a.size());
}

inline std::vector<double> rounded_to_float(std::vector<double> v) {
  for (auto& x : v) x = double(float(x));
  return v;
}

// ||a - b|| / max(||b||, tiny): the relative L2 error of a against reference b.
template <class A>
double rel_l2(const A& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (std::size_t i = 0; i < b.size(); ++i) {
    double d = double(a[i]) - b[i];
    num += d * d;
    den += b[i] * b[i];
  }
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-300);
}

template <class A>
double max_abs_diff(const A& a, const std::vector<double>& b) {
  double m = 0;
  for (std::size_t i = 0; i < b.size(); ++i) m = std::max(m, std::abs(double(a[i]) - b[i]));
  return m;
}

}  // namespace testing
