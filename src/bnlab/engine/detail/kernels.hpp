#pragma once
// The engine's per-pass kernels: one functor per pass and traversal shape,
// not one per method.
//   Moments        (count, mean, M2) per statistic: the forward's statistics
//   SumTerms       sum g and sum g * xhat per statistic or parameter: backward
//   NormalizeRows  y = (x - mean) * scale * gamma + beta
//   DxRows         dx = rstd * (g - mean_g - xhat * mean_gx)
// and the passes that stream them over the tensor in one of the two
// traversal shapes of reduce.hpp (inner: a statistic per run; leading: a
// statistic per s). A method only changes the index maps and which data
// follows s (the kStat/kGamma/kBeta flags, see sources.hpp). Inner loops are
// written on eight lanes at a time (Vec8d, core/simd.hpp), in double: x is
// widened exactly, so (x - mean) loses nothing even for data with a large
// common offset. fusion.hpp runs a reduction and its elementwise pass as one.
//
// Internal header: included by the engine's .cpp files only.
// Shapes: x, y, dy, dx: (N, C, H, W); per-statistic arrays: (num_stats).
#include <cmath>
#include <cstddef>
#include <memory>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/engine/detail/reduce.hpp"
#include "bnlab/engine/detail/sources.hpp"
#include "bnlab/engine/engine.hpp"

namespace bnlab::detail {

// Per-statistic work (O(num_stats), elementwise, so any split is
// deterministic): f(o) for o in [0, count), in parallel when it is large
// enough to matter (Method 2 has C*H*W statistics).
template <class F>
void for_each_stat(std::size_t count, F f) {
  const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(count);
#pragma omp parallel for schedule(dynamic, std::max<std::ptrdiff_t>(1, n / 64)) if (count >= 16384)
  for (std::ptrdiff_t o = 0; o < n; ++o) f(static_cast<std::size_t>(o));
}

// Scratch per statistic, left uninitialized (every entry is written before it is read).
using Buffer = std::unique_ptr<double[]>;
inline Buffer buffer(std::size_t count) { return Buffer(new double[count]); }

// rstd = 1 / sqrt(var + eps), per statistic.
inline Buffer rstd_of(const std::vector<double>& var, double eps) {
  Buffer rstd = buffer(var.size());  // (num_stats)
  for_each_stat(var.size(), [&](std::size_t o) { rstd[o] = 1.0 / std::sqrt(var[o] + eps); });
  return rstd;
}

// ---- merges ------------------------------------------------------------------------

// Chan et al.'s pairwise update of (count, mean, M2):
//   n = na + nb, delta = mean_b - mean_a,
//   mean = mean_a + delta * nb / n,  M2 = M2a + M2b + delta^2 * na * nb / n.
// Exact in exact arithmetic and backward stable: no E[x^2] - E[x]^2.
inline void merge_moments(Partial& into, const Partial& next) {
  if (into.count == 0) { into = next; return; }
  double n = into.count + next.count;
  double delta = next.a - into.a;
  into.a += delta * (next.count / n);
  into.b += next.b + delta * delta * (into.count * next.count / n);
  into.count = n;
}

// The same update for a row of outputs (the leading shape's row ranges).
inline void merge_moment_rows(double* mean, double* m2, double na, const double* mean_b, const double* m2_b, double nb,
                       std::size_t len) {
  const double n = na + nb, wb = nb / n, wab = na * nb / n;
  for_lanes(len, [&](auto tag, std::size_t i) {
    auto delta = load(tag, mean_b + i) - load(tag, mean + i);
    store(m2 + i, load(tag, m2 + i) + (load(tag, m2_b + i) + delta * delta * wab));
    store(mean + i, load(tag, mean + i) + delta * wb);
  });
}

inline void merge_sums(Partial& into, const Partial& next) {
  into.count += next.count;
  into.a += next.a;
  into.b += next.b;
}

inline void merge_sum_rows(double* a, double* b, double, const double* next_a, const double* next_b, double,
                    std::size_t len) {
  for_lanes(len, [&](auto tag, std::size_t i) {
    store(a + i, load(tag, a + i) + load(tag, next_a + i));
    store(b + i, load(tag, b + i) + load(tag, next_b + i));
  });
}

// ---- passes -------------------------------------------------------------------------

// The backward sums' terms, {g, g * xhat} with g = gamma * dy and
// xhat = (x - mean) * rstd, summed per output: over a chunk of one run (the
// inner shape: returns a Partial), or over a bundle of rows into a block of
// outputs (the leading shape: a, b stay in registers across the bundle).
// kStat, kWeight: whether the statistics, gamma follow s.
// x, dy: (N, C, H, W);  means, rstds: (num_stats);  weight: gamma, or unit<T>() for plain sums of dy
template <class T, bool kStat, bool kWeight>
struct SumTerms {
  const Dims& dims;
  const T* x;
  const T* dy;
  Source<double> means, rstds;
  Source<T> weight;

  Partial operator()(std::size_t run, std::size_t s0, std::size_t s1, std::ptrdiff_t ahead) const {
    const std::size_t n = run / dims.c, c = run % dims.c, S = dims.s();
    const T* xs = x + run * S + s0;
    const T* dys = dy + run * S + s0;
    auto mu = side<kStat>(means, n, c, s0), rs = side<kStat>(rstds, n, c, s0);
    auto ga = side<kWeight>(weight, n, c, s0);
    auto [su, sv] = lane_sums<2>(
        s1 - s0,
        [=](auto tag, std::size_t i) {
          auto g = ga(tag, i) * load(tag, dys + i);
          auto xhat = (load(tag, xs + i) - mu(tag, i)) * rs(tag, i);
          return std::array{g, g * xhat};
        },
        [=](std::size_t i) {
          prefetch_read(xs + ahead + i);
          prefetch_read(dys + ahead + i);
        });
    return Partial{double(s1 - s0), su, sv};
  }

  void operator()(const Rows& rows, std::size_t s0, std::size_t s1, double* a, double* b) const {
    const std::size_t S = dims.s();
    with_count(rows, [&](auto count) {
      constexpr std::size_t R = decltype(count)::value;
      auto mu = bundle<kStat>(means, dims, rows, s0), rs = bundle<kStat>(rstds, dims, rows, s0);
      auto ga = bundle<kWeight>(weight, dims, rows, s0);
      const T* xs[R];
      const T* dys[R];
      for (std::size_t r = 0; r < R; ++r) {
        xs[r] = x + rows.run[r] * S + s0;
        dys[r] = dy + rows.run[r] * S + s0;
      }
      for_lanes(
          s1 - s0,
          [&](auto tag, std::size_t i) {
            const auto m = mu.at(tag, i), q = rs.at(tag, i), w = ga.at(tag, i);
            auto u = load(tag, a + i), v = load(tag, b + i);
            for (std::size_t r = 0; r < R; ++r) {
              auto g = ga.row(w, r) * load(tag, dys[r] + i);
              u += g;
              v += g * ((load(tag, xs[r] + i) - mu.row(m, r)) * rs.row(q, r));
            }
            store(a + i, u);
            store(b + i, v);
          },
          [&](std::size_t i) {
            for (std::size_t r = 0; r < R; ++r) {
              prefetch_read(xs[r] + rows.ahead[r] + i);
              prefetch_read(dys[r] + rows.ahead[r] + i);
            }
          });
    });
  }
};

// Calls f(SumTerms<T, ...>{...}) with the flags of this plan and weight.
template <class T, class F>
void with_sum_terms(const MethodPlan& plan, const T* x, const T* dy, const double* mean, const double* rstd,
                    const Source<T>& weight, F f) {
  dispatch(
      [&](auto stat_varies, auto weight_varies) {
        f(SumTerms<T, decltype(stat_varies)::value, decltype(weight_varies)::value>{
            plan.dims, x, dy, {mean, plan.stat}, {rstd, plan.stat}, weight});
      },
      plan.stat.s_stride != 0, weight.varies());
}

// Per output of `out_map` (a statistic or a parameter), one read of x and dy:
//   out_u = sum g,  out_v = sum g * xhat   (see SumTerms).
// out_u, out_v: (num_outputs)
template <class T>
void sum_pass(const MethodPlan& plan, const IndexMap& out_map, std::size_t num_outputs, const T* x, const T* dy,
              const double* mean, const double* rstd, const Source<T>& weight, double* out_u, double* out_v) {
  const Dims& dims = plan.dims;
  if (out_map.s_stride != 0 && ((plan.stat.s_stride != 0 && !same_bases(dims, plan.stat, out_map)) ||
                                (weight.varies() && !same_bases(dims, weight.map, out_map)))) {
    throw Error("internal: a leading reduction reads per-s data grouped unlike its outputs");
  }
  with_sum_terms(plan, x, dy, mean, rstd, weight, [&](const auto& terms) {
    if (out_map.s_stride == 0) reduce_inner(dims, out_map, out_u, out_v, terms, merge_sums);
    else reduce_leading(dims, out_map, num_outputs, out_u, out_v, terms, merge_sum_rows);
  });
}

// y = (x - mean) * (scale * gamma) + beta for a bundle of rows over one
// piece; kStat, kGamma, kBeta: whether that data follows s. The subtraction in
// double keeps data with a large common offset exact.
// x, y: (N, C, H, W);  means, scales: (num_stats)
template <class T, bool kStat, bool kGamma, bool kBeta>
struct NormalizeRows {
  const Dims& dims;
  const T* x;
  T* y;
  Source<double> means, scales;
  Source<T> gamma, beta;

  void operator()(const Rows& rows, std::size_t s0, std::size_t s1) const {
    const std::size_t S = dims.s();
    with_count(rows, [&](auto count) {
      constexpr std::size_t R = decltype(count)::value;
      auto mu = bundle<kStat>(means, dims, rows, s0), sc = bundle<kStat>(scales, dims, rows, s0);
      auto ga = bundle<kGamma>(gamma, dims, rows, s0);
      auto be = bundle<kBeta>(beta, dims, rows, s0);
      const T* xs[R];
      T* ys[R];
      for (std::size_t r = 0; r < R; ++r) {
        xs[r] = x + rows.run[r] * S + s0;
        ys[r] = y + rows.run[r] * S + s0;
      }
      for_lanes(
          s1 - s0,
          [&](auto tag, std::size_t i) {
            const auto m = mu.at(tag, i), k = sc.at(tag, i), g = ga.at(tag, i), b = be.at(tag, i);
            for (std::size_t r = 0; r < R; ++r) {
              store(ys[r] + i, (load(tag, xs[r] + i) - mu.row(m, r)) * (sc.row(k, r) * ga.row(g, r)) + be.row(b, r));
            }
          },
          [&](std::size_t i) {
            for (std::size_t r = 0; r < R; ++r) {
              prefetch_read(xs[r] + rows.ahead[r] + i);
              prefetch_write(ys[r] + rows.ahead[r] + i);
            }
          });
    });
  }
};

// Calls f(NormalizeRows<T, ...>{...}) with the flags of this plan and data.
template <class T, class F>
void with_normalize_rows(const MethodPlan& plan, const T* x, T* y, const double* mean, const double* scale,
                         const Source<T>& gamma, const Source<T>& beta, F f) {
  dispatch(
      [&](auto stat_varies, auto gamma_varies, auto beta_varies) {
        f(NormalizeRows<T, decltype(stat_varies)::value, decltype(gamma_varies)::value,
                        decltype(beta_varies)::value>{
            plan.dims, x, y, {mean, plan.stat}, {scale, plan.stat}, gamma, beta});
      },
      plan.stat.s_stride != 0, gamma.varies(), beta.varies());
}

// The normalize pass: one read of x, one write of y.
template <class T>
void normalize_pass(const MethodPlan& plan, const T* x, T* y, const double* mean, const double* scale,
                    const Source<T>& gamma, const Source<T>& beta) {
  with_normalize_rows(plan, x, y, mean, scale, gamma, beta, [&](const auto& rows_fn) {
    for_each_piece(plan.dims, followed_maps(plan, gamma, beta), rows_fn);
  });
}

// dx = rstd * ((g - mean_g) - xhat * mean_gx),  g = gamma * dy,  xhat = (x - mean) * rstd,
// for a bundle of rows over one piece (see backward); kStat, kGamma: whether
// that data follows s.
// x, dy, dx: (N, C, H, W);  means, rstds, mean_gs, mean_gxs: (num_stats)
template <class T, bool kStat, bool kGamma>
struct DxRows {
  const Dims& dims;
  const T* x;
  const T* dy;
  T* dx;
  Source<double> means, rstds, mean_gs, mean_gxs;
  Source<T> gamma;

  void operator()(const Rows& rows, std::size_t s0, std::size_t s1) const {
    const std::size_t S = dims.s();
    with_count(rows, [&](auto count) {
      constexpr std::size_t R = decltype(count)::value;
      auto mu = bundle<kStat>(means, dims, rows, s0), rs = bundle<kStat>(rstds, dims, rows, s0);
      auto mg = bundle<kStat>(mean_gs, dims, rows, s0), mgx = bundle<kStat>(mean_gxs, dims, rows, s0);
      auto ga = bundle<kGamma>(gamma, dims, rows, s0);
      const T* xs[R];
      const T* dys[R];
      T* dxs[R];
      for (std::size_t r = 0; r < R; ++r) {
        xs[r] = x + rows.run[r] * S + s0;
        dys[r] = dy + rows.run[r] * S + s0;
        dxs[r] = dx + rows.run[r] * S + s0;
      }
      for_lanes(
          s1 - s0,
          [&](auto tag, std::size_t i) {
            const auto m = mu.at(tag, i), q = rs.at(tag, i), a = mg.at(tag, i), b = mgx.at(tag, i), g0 = ga.at(tag, i);
            for (std::size_t r = 0; r < R; ++r) {
              auto g = ga.row(g0, r) * load(tag, dys[r] + i);
              auto xhat = (load(tag, xs[r] + i) - mu.row(m, r)) * rs.row(q, r);
              store(dxs[r] + i, rs.row(q, r) * ((g - mg.row(a, r)) - xhat * mgx.row(b, r)));
            }
          },
          [&](std::size_t i) {
            for (std::size_t r = 0; r < R; ++r) {
              prefetch_read(xs[r] + rows.ahead[r] + i);
              prefetch_read(dys[r] + rows.ahead[r] + i);
              prefetch_write(dxs[r] + rows.ahead[r] + i);
            }
          });
    });
  }
};

// Calls f(DxRows<T, ...>{...}) with the flags of this plan and gamma.
template <class T, class F>
void with_dx_rows(const MethodPlan& plan, const T* x, const T* dy, T* dx, const double* mean, const double* rstd,
                  const double* mean_g, const double* mean_gx, const Source<T>& gamma, F f) {
  dispatch(
      [&](auto stat_varies, auto gamma_varies) {
        f(DxRows<T, decltype(stat_varies)::value, decltype(gamma_varies)::value>{
            plan.dims, x, dy, dx, {mean, plan.stat}, {rstd, plan.stat}, {mean_g, plan.stat},
            {mean_gx, plan.stat}, gamma});
      },
      plan.stat.s_stride != 0, gamma.varies());
}

// The dx pass: one read of x and dy, one write of dx.
template <class T>
void dx_pass(const MethodPlan& plan, const T* x, const T* dy, T* dx, const double* mean, const double* rstd,
             const double* mean_g, const double* mean_gx, const Source<T>& gamma) {
  with_dx_rows(plan, x, dy, dx, mean, rstd, mean_g, mean_gx, gamma, [&](const auto& rows_fn) {
    for_each_piece(plan.dims, followed_maps(plan, gamma), rows_fn);
  });
}

// ---- statistics ------------------------------------------------------------------------

// The moments (count, mean, M2) per statistic: of a chunk of one run (the
// inner shape), a chunk that stays in cache, so two passes over it (the mean,
// then the sum of squared deviations from that mean) read memory once; or of
// a bundle of rows into a block of statistics (the leading shape), by
// Welford's update, one row at a time, k = rows before + 1:
//   mean_k = mean_{k-1} + (x - mean_{k-1}) / k
//   M2_k   = M2_{k-1} + (x - mean_{k-1}) * (x - mean_k)
// with the block's mean and M2 in registers across the bundle.
// x: (N, C, H, W)
template <class T>
struct Moments {
  const T* x;
  std::size_t S;

  Partial operator()(std::size_t run, std::size_t s0, std::size_t s1, std::ptrdiff_t ahead) const {
    const T* p = x + run * S + s0;
    const std::size_t len = s1 - s0;
    double widened[kChunk];  // the chunk in double: the second pass reads it without converting again
    double* w = widened;
    auto [sum] = lane_sums<1>(
        len,
        [=](auto tag, std::size_t i) {
          auto v = load(tag, p + i);
          store(w + i, v);
          return std::array{v};
        },
        [=](std::size_t i) { prefetch_read(p + ahead + i); });
    const double mean = sum / double(len);
    auto [sq] = lane_sums<1>(len, [=](auto tag, std::size_t i) {
      auto d = load(tag, w + i) - mean;
      return std::array{d * d};
    });
    return Partial{double(len), mean, sq};
  }

  void operator()(const Rows& rows, std::size_t s0, std::size_t s1, double* mean, double* m2) const {
    with_count(rows, [&](auto count) {
      constexpr std::size_t R = decltype(count)::value;
      const T* ps[R];
      double inv_k[R];
      for (std::size_t r = 0; r < R; ++r) {
        ps[r] = x + rows.run[r] * S + s0;
        inv_k[r] = 1.0 / double(rows.before + r + 1);
      }
      for_lanes(
          s1 - s0,
          [&](auto tag, std::size_t i) {
            auto mean_k = load(tag, mean + i), m2_k = load(tag, m2 + i);
            for (std::size_t r = 0; r < R; ++r) {
              auto v = load(tag, ps[r] + i);
              auto d = v - mean_k;
              mean_k = mean_k + d * inv_k[r];
              m2_k = m2_k + d * (v - mean_k);
            }
            store(mean + i, mean_k);
            store(m2 + i, m2_k);
          },
          [&](std::size_t i) {
            for (std::size_t r = 0; r < R; ++r) prefetch_read(ps[r] + rows.ahead[r] + i);
          });
    });
  }
};

// Batch mean and biased variance per statistic: Moments over the inner or
// leading shape, then var = M2 / m.  x: (N, C, H, W)
template <class T>
Statistics batch_statistics_of(const MethodPlan& plan, const T* x) {
  const Dims& dims = plan.dims;
  Statistics stats;
  stats.mean.resize(plan.num_stats);  // (num_stats)
  stats.var.resize(plan.num_stats);   // (num_stats) the sum of squared deviations M2 first, then M2 / m
  if (plan.stat.s_stride == 0) {
    reduce_inner(dims, plan.stat, stats.mean.data(), stats.var.data(), Moments<T>{x, dims.s()},
                         merge_moments);
  } else {
    // Welford within a row range, then Chan's merge across row ranges.
    reduce_leading(dims, plan.stat, plan.num_stats, stats.mean.data(), stats.var.data(),
                           Moments<T>{x, dims.s()}, merge_moment_rows);
  }
  const double m = double(plan.elements_per_stat);
  for_each_stat(plan.num_stats, [&](std::size_t o) { stats.var[o] /= m; });
  return stats;
}

// When gamma is constant on every statistic group (MethodPlan::params_constant_per_stat),
// each statistic o has one parameter entry p(o). Returns p as a table
// (num_stats), or an empty table when p(o) = o (methods 1, 2, 3 with natural
// parameters: the parameter axes are the statistic axes).
inline std::vector<std::size_t> param_of_stat(const MethodPlan& plan, const IndexMap& param_map) {
  const Dims& dims = plan.dims;
  bool same = plan.num_params == plan.num_stats && param_map.s_stride == plan.stat.s_stride;
  for (std::size_t n = 0; same && n < dims.n; ++n)
    for (std::size_t c = 0; same && c < dims.c; ++c) same = param_map.base(n, c) == plan.stat.base(n, c);
  if (same) return {};
  std::vector<std::size_t> out(plan.num_stats);
  RunGroups groups = group_runs(dims, plan.stat);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    std::size_t run = groups.run[groups.offset[g]];
    std::size_t p = param_map.base(run / dims.c, run % dims.c);
    if (plan.stat.s_stride == 0) {
      out[groups.base[g]] = p;
    } else {
      for (std::size_t s = 0; s < dims.s(); ++s) out[groups.base[g] + s] = p + s * param_map.s_stride;
    }
  }
  return out;
}

// How the normalization applies gamma: folded into scale = rstd * gamma per
// statistic when gamma is constant on each statistic group (one array and
// one multiplication fewer per element), else per element, with scale = rstd.
template <class T>
struct GammaFold {
  GammaFold(const MethodPlan& plan, const Source<T>& gamma)
      : fold(plan.has_affine() && plan.params_constant_per_stat()), gamma(gamma) {
    if (fold) index = param_of_stat(plan, gamma.map);
  }
  double gamma_at(std::size_t o) const { return fold ? double(gamma.data[index.empty() ? o : index[o]]) : 1.0; }
  double scale(std::size_t o, double rstd) const { return fold ? rstd * gamma_at(o) : rstd; }
  Source<T> per_element() const { return fold ? unit<T>() : gamma; }

  bool fold;
  Source<T> gamma;
  std::vector<std::size_t> index;  // (num_stats) statistic -> parameter, or empty: the same index
};

}  // namespace bnlab::detail
