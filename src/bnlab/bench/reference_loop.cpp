#include "bnlab/bench/reference_loop.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "bnlab/core/error.hpp"

namespace bnlab {
namespace {

// The loops below are written out per shape, with plain pointers and
// scalars, so that the compiler vectorizes them as it would a hand-written
// kernel (a generic lambda per element did not vectorize: 3-4x slower).

// Inner shape: runs of statistic o, as a CSR list (groups[o] .. groups[o+1]
// into runs), in run order.
struct StatRuns {
  std::vector<std::size_t> offset, run;
};
StatRuns stat_runs(const MethodPlan& plan) {
  const Dims& d = plan.dims;
  StatRuns g;
  g.offset.assign(plan.num_stats + 1, 0);
  for (std::size_t r = 0; r < d.n * d.c; ++r) ++g.offset[plan.stat.base(r / d.c, r % d.c) + 1];
  for (std::size_t o = 0; o < plan.num_stats; ++o) g.offset[o + 1] += g.offset[o];
  g.run.resize(d.n * d.c);
  std::vector<std::size_t> next(g.offset.begin(), g.offset.end() - 1);
  for (std::size_t r = 0; r < d.n * d.c; ++r) g.run[next[plan.stat.base(r / d.c, r % d.c)]++] = r;
  return g;
}

double rstd_of(double var, double eps) { return 1.0 / std::sqrt(var + eps); }

// Whether gamma has the statistic's axes: one parameter per statistic, at
// the statistic's index (methods 1, 2, 3 with their natural parameters).
bool params_are_stats(const MethodPlan& plan) {
  const Dims& d = plan.dims;
  if (plan.num_params != plan.num_stats || plan.param.s_stride != plan.stat.s_stride) return false;
  for (std::size_t r = 0; r < d.n * d.c; ++r)
    if (plan.param.base(r / d.c, r % d.c) != plan.stat.base(r / d.c, r % d.c)) return false;
  return true;
}

// Sums that follow s (a map with s_stride 1): zeroes sum_a, sum_b, then has
// the threads take blocks of s (1024 positions), each block walking every
// run r: add_run(r, base, s0, s1, a, b) adds run r's terms at positions
// s0 .. s1 - 1 into a = sum_a + base and b = sum_b + base (base: the run's
// first output in `map`). add_run holds the caller's written-out simd loop,
// so that it vectorizes.
template <class AddRun>
void sum_leading_by(const Dims& d, const IndexMap& map, std::vector<double>& sum_a, std::vector<double>& sum_b,
                    AddRun add_run) {
  const std::ptrdiff_t S = std::ptrdiff_t(d.s()), runs = std::ptrdiff_t(d.n * d.c);
  double* sa = sum_a.data();
  double* sb = sum_b.data();
  std::fill(sum_a.begin(), sum_a.end(), 0.0);
  std::fill(sum_b.begin(), sum_b.end(), 0.0);
  const std::ptrdiff_t block = 1024, blocks = (S + block - 1) / block;
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t k = 0; k < blocks; ++k) {
    const std::ptrdiff_t s0 = k * block, s1 = std::min(S, s0 + block);
    for (std::ptrdiff_t r = 0; r < runs; ++r) {
      const std::size_t base = map.base(std::size_t(r) / d.c, std::size_t(r) % d.c);
      add_run(r, base, s0, s1, sa + base, sb + base);
    }
  }
}
// The statistics' sums (the leading shape: methods 1, 2).
template <class AddRun>
void sum_leading(const MethodPlan& plan, std::vector<double>& sum_a, std::vector<double>& sum_b, AddRun add_run) {
  sum_leading_by(plan.dims, plan.stat, sum_a, sum_b, add_run);
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
      run_dy_(plan.dims.n * plan.dims.c),
      run_dyx_(plan.dims.n * plan.dims.c) {
  // Parameters that vary along a run inside a statistic (ln's (C, H, W))
  // cannot be folded into a, b: the forward reads them per element, as the
  // engine's does. (Elsewhere they fold, at no cost per element.)
  if (plan.stat.s_stride == 0 && plan.param.s_stride != 0) {
    gamma_.assign(plan.num_params, 1.0f);
    beta_.assign(plan.num_params, 0.0f);
  }
}

// Inner shape, as the probe does it: each thread takes whole statistics,
// sums their runs, then normalizes them while they are still in cache.
// Leading shape: sums by blocks of s (a thread owns a block for every run),
// then y run by run.
void ReferenceLoop::forward(const float* x, float* y) {
  const Dims& d = plan_.dims;
  const std::ptrdiff_t S = std::ptrdiff_t(d.s());
  const double m = double(plan_.elements_per_stat);
  float* A = a_.data();
  float* B = b_.data();
  if (plan_.stat.s_stride == 0) {
    const StatRuns g = stat_runs(plan_);
    const std::ptrdiff_t stats = std::ptrdiff_t(plan_.num_stats);
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t o = 0; o < stats; ++o) {
      double s = 0, ss = 0;
      for (std::size_t k = g.offset[o]; k < g.offset[o + 1]; ++k) {
        const float* p = x + std::ptrdiff_t(g.run[k]) * S;
        double rs = 0, rss = 0;
#pragma omp simd reduction(+ : rs, rss)
        for (std::ptrdiff_t i = 0; i < S; ++i) {
          const double v = p[i];
          rs += v;
          rss += v * v;
        }
        s += rs;
        ss += rss;
      }
      mean_[o] = s / m;
      var_[o] = std::max(0.0, ss / m - mean_[o] * mean_[o]);
      const double r = rstd_of(var_[o], eps_);
      const float a = float(r), b = float(-mean_[o] * r);
      A[o] = a;
      B[o] = b;
      for (std::size_t k = g.offset[o]; k < g.offset[o + 1]; ++k) {
        const float* p = x + std::ptrdiff_t(g.run[k]) * S;
        float* q = y + std::ptrdiff_t(g.run[k]) * S;
        if (gamma_.empty()) {
#pragma omp simd
          for (std::ptrdiff_t i = 0; i < S; ++i) q[i] = std::fma(p[i], a, b);
        } else {  // gamma, beta follow s: gamma * xhat + beta per element
          const std::size_t run = g.run[k], at = plan_.param.base(run / d.c, run % d.c);
          const float* gm = gamma_.data() + at;
          const float* bt = beta_.data() + at;
#pragma omp simd
          for (std::ptrdiff_t i = 0; i < S; ++i) q[i] = std::fma(std::fma(p[i], a, b), gm[i], bt[i]);
        }
      }
    }
    return;
  }
  // sum x and sum x^2 per statistic
  sum_leading(plan_, sum_a_, sum_b_,
              [&](std::ptrdiff_t r, std::size_t, std::ptrdiff_t s0, std::ptrdiff_t s1, double* a, double* b) {
                const float* p = x + r * S;
#pragma omp simd
                for (std::ptrdiff_t i = s0; i < s1; ++i) {
                  const double v = p[i];
                  a[i] += v;
                  b[i] += v * v;
                }
              });
  const double* sa = sum_a_.data();
  const double* sb = sum_b_.data();
  for (std::size_t o = 0; o < plan_.num_stats; ++o) {
    mean_[o] = sa[o] / m;
    var_[o] = std::max(0.0, sb[o] / m - mean_[o] * mean_[o]);
  }
  eval_forward(x, y);  // a, b from these statistics, then y
}

// Eval mode is given its statistics (the running ones): the coefficients
// a = rstd, b = -mean * rstd are computed from them on every call, as the
// engine's eval forward does, then applied.
void ReferenceLoop::eval_forward(const float* x, float* y) {
  const std::ptrdiff_t stats = std::ptrdiff_t(plan_.num_stats);
  float* A = a_.data();
  float* B = b_.data();
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t o = 0; o < stats; ++o) {
    const double r = rstd_of(var_[o], eps_);
    A[o] = float(r);
    B[o] = float(-mean_[o] * r);
  }
  apply(x, y);
}

void ReferenceLoop::apply(const float* x, float* y) const {
  const Dims& d = plan_.dims;
  const std::ptrdiff_t S = std::ptrdiff_t(d.s()), runs = std::ptrdiff_t(d.n * d.c);
  const float* A = a_.data();
  const float* B = b_.data();
  const bool follows = plan_.stat.s_stride != 0;
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t r = 0; r < runs; ++r) {
    const std::size_t base = plan_.stat.base(std::size_t(r) / d.c, std::size_t(r) % d.c);
    const float* p = x + r * S;
    float* q = y + r * S;
    if (follows) {
      const float* a = A + base;
      const float* b = B + base;
#pragma omp simd
      for (std::ptrdiff_t i = 0; i < S; ++i) q[i] = std::fma(p[i], a[i], b[i]);
    } else {
      const float a = A[base], b = B[base];
#pragma omp simd
      for (std::ptrdiff_t i = 0; i < S; ++i) q[i] = std::fma(p[i], a, b);
    }
  }
}

// The probe's backward: per statistic sum dy and sum dy * (x - mean) in
// double, then dx = k1 * (dy - k2 - (x - mean) * k3) in float, with
// k1 = rstd, k2 = mean(dy), k3 = mean(dy * (x - mean)) * rstd^2.
void ReferenceLoop::backward(const float* x, const float* dy, float* dx, float* dgamma, float* dbeta) {
  const Dims& d = plan_.dims;
  const std::ptrdiff_t S = std::ptrdiff_t(d.s()), runs = std::ptrdiff_t(d.n * d.c);
  const double m = double(plan_.elements_per_stat);
  if (plan_.stat.s_stride == 0) {
    const StatRuns g = stat_runs(plan_);
    const std::ptrdiff_t stats = std::ptrdiff_t(plan_.num_stats);
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t o = 0; o < stats; ++o) {
      const float mu = float(mean_[o]);
      double sd = 0, sdx = 0;
      for (std::size_t k = g.offset[o]; k < g.offset[o + 1]; ++k) {
        const float* p = x + std::ptrdiff_t(g.run[k]) * S;
        const float* dp = dy + std::ptrdiff_t(g.run[k]) * S;
        double rd = 0, rdx = 0;
#pragma omp simd reduction(+ : rd, rdx)
        for (std::ptrdiff_t i = 0; i < S; ++i) {
          rd += dp[i];
          rdx += double(dp[i]) * double(p[i] - mu);
        }
        sd += rd;
        sdx += rdx;
        run_dy_[g.run[k]] = rd;
        run_dyx_[g.run[k]] = rdx;
      }
      sum_a_[o] = sd;
      sum_b_[o] = sdx;
      const double r = rstd_of(var_[o], eps_);
      const float k1 = float(r), k2 = float(sd / m), k3 = float(sdx * r * r / m);
      for (std::size_t k = g.offset[o]; k < g.offset[o + 1]; ++k) {
        const float* p = x + std::ptrdiff_t(g.run[k]) * S;
        const float* dp = dy + std::ptrdiff_t(g.run[k]) * S;
        float* q = dx + std::ptrdiff_t(g.run[k]) * S;
#pragma omp simd
        for (std::ptrdiff_t i = 0; i < S; ++i) q[i] = k1 * (dp[i] - k2 - (p[i] - mu) * k3);
      }
    }
    parameter_gradients(x, dy, dgamma, dbeta);
    return;
  }
  std::vector<float> mu(plan_.num_stats), k1(plan_.num_stats), k2(plan_.num_stats), k3(plan_.num_stats);
  for (std::size_t o = 0; o < plan_.num_stats; ++o) mu[o] = float(mean_[o]);
  // sum dy and sum dy * (x - mean) per statistic
  sum_leading(plan_, sum_a_, sum_b_,
              [&](std::ptrdiff_t r, std::size_t base, std::ptrdiff_t s0, std::ptrdiff_t s1, double* a, double* b) {
                const float* p = x + r * S;
                const float* dp = dy + r * S;
                const float* u = mu.data() + base;
#pragma omp simd
                for (std::ptrdiff_t i = s0; i < s1; ++i) {
                  a[i] += dp[i];
                  b[i] += double(dp[i]) * double(p[i] - u[i]);
                }
              });
  const double* sa = sum_a_.data();
  const double* sb = sum_b_.data();
  for (std::size_t o = 0; o < plan_.num_stats; ++o) {
    const double r = rstd_of(var_[o], eps_);
    k1[o] = float(r);
    k2[o] = float(sa[o] / m);
    k3[o] = float(sb[o] * r * r / m);
  }
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t r = 0; r < runs; ++r) {
    const std::size_t base = plan_.stat.base(std::size_t(r) / d.c, std::size_t(r) % d.c);
    const float* p = x + r * S;
    const float* dp = dy + r * S;
    float* q = dx + r * S;
    const float *u = mu.data() + base, *c1 = k1.data() + base, *c2 = k2.data() + base, *c3 = k3.data() + base;
#pragma omp simd
    for (std::ptrdiff_t i = 0; i < S; ++i) q[i] = c1[i] * (dp[i] - c2[i] - (p[i] - u[i]) * c3[i]);
  }
  parameter_gradients(x, dy, dgamma, dbeta);
}

// dgamma = sum dy * xhat = sum rstd * dy * (x - mean), dbeta = sum dy, over
// the axes gamma lacks, in double, rounded once. Where gamma has the
// statistic's axes they are the statistic's sums (sum_b_ * rstd, sum_a_);
// where it is one value per run, the runs' sums (kept by the inner shape's
// loop), added in run order; else (ln's (C, H, W)) a pass of their own, by
// blocks of s as the leading shape's sums, each block walking every run.
void ReferenceLoop::parameter_gradients(const float* x, const float* dy, float* dgamma, float* dbeta) {
  const Dims& d = plan_.dims;
  const std::size_t P = plan_.num_params, runs = d.n * d.c;
  if (P == 0) return;
  const bool inner = plan_.stat.s_stride == 0;
  std::vector<double> dg(P, 0.0), db(P, 0.0);  // (num_params)
  auto stat_of = [&](std::size_t r) { return plan_.stat.base(r / d.c, r % d.c); };
  auto param_of = [&](std::size_t r) { return plan_.param.base(r / d.c, r % d.c); };
  if (params_are_stats(plan_)) {
    for (std::size_t o = 0; o < P; ++o) {
      dg[o] = sum_b_[o] * rstd_of(var_[o], eps_);
      db[o] = sum_a_[o];
    }
  } else if (inner && plan_.param.s_stride == 0) {
    for (std::size_t r = 0; r < runs; ++r) {
      dg[param_of(r)] += run_dyx_[r] * rstd_of(var_[stat_of(r)], eps_);
      db[param_of(r)] += run_dy_[r];
    }
  } else if (inner) {
    sum_leading_by(d, plan_.param, dg, db,
                   [&](std::ptrdiff_t r, std::size_t, std::ptrdiff_t s0, std::ptrdiff_t s1, double* a, double* b) {
                     const std::ptrdiff_t S = std::ptrdiff_t(d.s());
                     const float* p = x + r * S;
                     const float* dp = dy + r * S;
                     const std::size_t o = stat_of(std::size_t(r));
                     const float u = float(mean_[o]);
                     const double rs = rstd_of(var_[o], eps_);
#pragma omp simd
                     for (std::ptrdiff_t i = s0; i < s1; ++i) {
                       a[i] += double(dp[i]) * double(p[i] - u) * rs;
                       b[i] += dp[i];
                     }
                   });
  } else {
    throw Error("internal: the reference loop has no parameter gradients for method " + plan_.method.id +
                " with " + to_string(plan_.affine) + " parameters");
  }
  for (std::size_t i = 0; i < P; ++i) {
    dgamma[i] = float(dg[i]);
    dbeta[i] = float(db[i]);
  }
}

}  // namespace bnlab
