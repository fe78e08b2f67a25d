#include "bnlab/bench/reference_loop.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace bnlab {
namespace {

// Per statistic o: sa[o] = sum term_a, sb[o] = sum term_b over its elements,
// term(e, o, ta, tb) setting the two terms of element e (flat index).
// sa, sb: (num_stats); run_a, run_b: (N*C) scratch.
template <class Term>
void sums_per_stat(const MethodPlan& plan, double* sa, double* sb, double* run_a, double* run_b, Term term) {
  const Dims& d = plan.dims;
  const std::ptrdiff_t S = std::ptrdiff_t(d.s()), runs = std::ptrdiff_t(d.n * d.c);
  std::fill(sa, sa + plan.num_stats, 0.0);
  std::fill(sb, sb + plan.num_stats, 0.0);
  if (plan.stat.s_stride == 0) {
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t r = 0; r < runs; ++r) {
      const std::size_t o = plan.stat.base(std::size_t(r) / d.c, std::size_t(r) % d.c);
      double a = 0, b = 0;
#pragma omp simd reduction(+ : a, b)
      for (std::ptrdiff_t s = 0; s < S; ++s) {
        double ta, tb;
        term(r * S + s, o, ta, tb);
        a += ta;
        b += tb;
      }
      run_a[r] = a;
      run_b[r] = b;
    }
    for (std::ptrdiff_t r = 0; r < runs; ++r) {
      const std::size_t o = plan.stat.base(std::size_t(r) / d.c, std::size_t(r) % d.c);
      sa[o] += run_a[r];
      sb[o] += run_b[r];
    }
    return;
  }
  // Leading shape: a thread owns a block of s for every run, so no two
  // threads add into the same statistic.
  const std::ptrdiff_t block = 1024, blocks = (S + block - 1) / block;
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t k = 0; k < blocks; ++k) {
    const std::ptrdiff_t s0 = k * block, s1 = std::min(S, s0 + block);
    for (std::ptrdiff_t r = 0; r < runs; ++r) {
      const std::size_t base = plan.stat.base(std::size_t(r) / d.c, std::size_t(r) % d.c);
      double* a = sa + base;
      double* b = sb + base;
#pragma omp simd
      for (std::ptrdiff_t s = s0; s < s1; ++s) {
        double ta, tb;
        term(r * S + s, base + std::size_t(s), ta, tb);
        a[s] += ta;
        b[s] += tb;
      }
    }
  }
}

// f(e, o) for every element e (flat index) and its statistic o, in parallel.
template <class F>
void for_each_element(const MethodPlan& plan, F f) {
  const Dims& d = plan.dims;
  const std::ptrdiff_t S = std::ptrdiff_t(d.s()), runs = std::ptrdiff_t(d.n * d.c);
  const std::size_t step = plan.stat.s_stride;
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t r = 0; r < runs; ++r) {
    const std::size_t base = plan.stat.base(std::size_t(r) / d.c, std::size_t(r) % d.c);
#pragma omp simd
    for (std::ptrdiff_t s = 0; s < S; ++s) f(r * S + s, base + std::size_t(s) * step);
  }
}

}  // namespace

ReferenceLoop::ReferenceLoop(const MethodPlan& plan, double eps)
    : plan_(plan),
      eps_(eps),
      mean_(plan.num_stats),
      var_(plan.num_stats),
      a_(plan.num_stats),
      b_(plan.num_stats),
      sum_a_(plan.num_stats),
      sum_b_(plan.num_stats),
      run_a_(plan.dims.n * plan.dims.c),
      run_b_(plan.dims.n * plan.dims.c) {}

void ReferenceLoop::forward(const float* x, float* y) {
  sums_per_stat(plan_, sum_a_.data(), sum_b_.data(), run_a_.data(), run_b_.data(),
                [x](std::ptrdiff_t e, std::size_t, double& ta, double& tb) {
                  const double v = x[e];
                  ta = v;
                  tb = v * v;
                });
  const double m = double(plan_.elements_per_stat);
  for (std::size_t o = 0; o < plan_.num_stats; ++o) {
    mean_[o] = sum_a_[o] / m;
    var_[o] = std::max(0.0, sum_b_[o] / m - mean_[o] * mean_[o]);
    const double rstd = 1.0 / std::sqrt(var_[o] + eps_);
    a_[o] = float(rstd);
    b_[o] = float(-mean_[o] * rstd);
  }
  eval_forward(x, y);
}

void ReferenceLoop::eval_forward(const float* x, float* y) const {
  const float* a = a_.data();
  const float* b = b_.data();
  for_each_element(plan_, [=](std::ptrdiff_t e, std::size_t o) { y[e] = std::fma(x[e], a[o], b[o]); });
}

void ReferenceLoop::backward(const float* x, const float* dy, float* dx) {
  std::vector<float> mu(plan_.num_stats), k1(plan_.num_stats), k2(plan_.num_stats), k3(plan_.num_stats);
  for (std::size_t o = 0; o < plan_.num_stats; ++o) mu[o] = float(mean_[o]);
  const float* mup = mu.data();
  sums_per_stat(plan_, sum_a_.data(), sum_b_.data(), run_a_.data(), run_b_.data(),
                [=](std::ptrdiff_t e, std::size_t o, double& ta, double& tb) {
                  ta = dy[e];
                  tb = double(dy[e]) * double(x[e] - mup[o]);
                });
  const double m = double(plan_.elements_per_stat);
  for (std::size_t o = 0; o < plan_.num_stats; ++o) {
    const double rstd = 1.0 / std::sqrt(var_[o] + eps_);
    k1[o] = float(rstd);
    k2[o] = float(sum_a_[o] / m);
    k3[o] = float(sum_b_[o] * rstd * rstd / m);
  }
  const float *p1 = k1.data(), *p2 = k2.data(), *p3 = k3.data();
  for_each_element(plan_, [=](std::ptrdiff_t e, std::size_t o) {
    dx[e] = p1[o] * (dy[e] - p2[o] - (x[e] - mup[o]) * p3[o]);
  });
}

}  // namespace bnlab
