#pragma once
// The engine's per-pass kernels: one functor per pass and traversal shape,
// not one per method.
//   Moments        (count, mean, M2) per statistic: the forward's statistics
//   SumTerms       sum g and sum g * xhat per statistic or parameter: backward
//   NormalizeRows  y = (x - shift) * a + b   (mean, rstd, gamma, beta folded; in T)
//   DxRows         dx = rstd * (g - mean_g - xhat * mean_gx) = (rstd * gamma) * dy + q * (x - mean) + c
// and the passes that stream them over the tensor in one of the two
// traversal shapes of reduce.hpp (inner: a statistic per run; leading: a
// statistic per s). A method only changes the index maps and which data
// follows s (the kStat/kGamma/kBeta flags, see sources.hpp). The reductions'
// inner loops are written on eight lanes at a time (Vec8d, core/simd.hpp), in
// double: x is widened exactly, so (x - mean) loses nothing even for data with
// a large common offset. The normalization runs in the data's precision
// (normalize_fold, engine.hpp, says why that loses nothing that matters).
// fusion.hpp runs a reduction and its elementwise pass as one.
//
// Internal header: included by the engine's .cpp files only.
// Shapes: x, y, dy, dx: (N, C, H, W); per-statistic arrays: (num_stats).
#include <algorithm>
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
// (A function object rather than a function: passed to the reductions'
// templates, it is inlined into their loops; a function's pointer was an
// indirect call per chunk: InstanceNorm on 256x64x14x14, one thread, took
// 3-5% longer with it.)
inline constexpr struct MergeMoments {
  void operator()(Partial& into, const Partial& next) const {
    if (into.count == 0) { into = next; return; }
    double n = into.count + next.count;
    double delta = next.a - into.a;
    into.a += delta * (next.count / n);
    into.b += next.b + delta * delta * (into.count * next.count / n);
    into.count = n;
  }
} merge_moments{};

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

inline constexpr struct MergeSums {  // a function object, as merge_moments
  void operator()(Partial& into, const Partial& next) const {
    into.count += next.count;
    into.a += next.a;
    into.b += next.b;
  }
} merge_sums{};

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
    auto prefetch = [=](std::size_t i) {
      prefetch_read(xs + ahead + i);
      prefetch_read(dys + ahead + i);
    };
    if constexpr (!kStat && !kWeight) {
      // Everything but x and dy is constant along the chunk (w = gamma or 1):
      //   sum g = w * sum dy,  sum g * xhat = (w * rstd) * sum dy * (x - mean),
      // two multiplications per chunk instead of two per element.
      const double w = ga.value, mean = mu.value;
      auto [sd, sdx] = lane_sums(
          s1 - s0,
          [=](auto tag, std::size_t i) {
            auto d = load(tag, dys + i);
            return std::tuple{d, Product{d, load(tag, xs + i) - mean}};
          },
          prefetch);
      return Partial{double(s1 - s0), w * sd, (w * rs.value) * sdx};
    }
    auto [su, sv] = lane_sums(
        s1 - s0,
        [=](auto tag, std::size_t i) {
          auto g = ga(tag, i) * load(tag, dys + i);
          auto xhat = (load(tag, xs + i) - mu(tag, i)) * rs(tag, i);
          return std::tuple{g, Product{g, xhat}};
        },
        prefetch);
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

// ---- normalization in the data's precision ----------------------------------------------
//
// y = (x - mean) * rstd * gamma + beta, folded per statistic into
// (shift, a, b) (normalize_fold, engine.hpp, where the derivation is): the
// elementwise pass is then one subtraction and one or three explicit FMAs in
// T (normalized), no widening to double, so it keeps up with memory (a float
// pass converting every element to double ran at a third of the copy
// bandwidth on AVX2). The FMAs are explicit (std::fma, which GCC vectorizes
// to vfmadd): the build has -ffp-contract=off so that the same source gives
// the same bits on every x86-64 machine, and a fused multiply-add is one
// correctly rounded operation everywhere. Against the float64 result the
// error is a's rounding (half an ulp of T, relative, on the xhat term) plus
// the final rounding: about an ulp of y, which is what a float32 output allows.

// The coefficients (shift, a, b) per statistic, in T. (num_stats) each.
template <class T>
struct NormalizeCoefficients {
  explicit NormalizeCoefficients(std::size_t count) : shift(new T[count]), a(new T[count]), b(new T[count]) {}
  // Statistic o with mean `mean`, scale = rstd (times gamma where it folds), and
  // beta where it folds (else 0).
  void set(std::size_t o, double mean, double scale, double beta) {
    const NormalizeFold<T> k = normalize_fold<T>(mean, scale, beta);
    shift[o] = k.shift;
    a[o] = k.a;
    b[o] = k.b;
  }
  std::unique_ptr<T[]> shift, a, b;
};

// Per-row data as the T-precision kernels see it: the entries along a piece
// (Varies: follows s) or the run's single entry.
template <bool Varies, class U>
struct RowData;
template <class U>
struct RowData<true, U> {
  const U* p;
  U operator[](std::size_t i) const { return p[i]; }
};
template <class U>
struct RowData<false, U> {
  U value;
  U operator[](std::size_t) const { return value; }
};
// A run's sample and channel, found once per run (one division) for every
// source the run reads.
struct RunAt {
  std::size_t n, c;
};
inline RunAt run_at(const Dims& dims, std::size_t run) { return {run / dims.c, run % dims.c}; }
template <bool Varies, class U>
RowData<Varies, U> row_data(const Source<U>& source, RunAt at, std::size_t s_begin) {
  const std::size_t base = source.map.base(at.n, at.c);
  if constexpr (Varies) return {source.data + base + s_begin};
  else return {source.data[base]};
}

// f(i0, count) over [0, len) in blocks of 16 elements (a 64-byte line of
// floats), calling prefetch(i) before each full block, then the tail.
template <class F, class P>
void for_blocks(std::size_t len, F f, P prefetch) {
  std::size_t i = 0;
  for (; i + 16 <= len; i += 16) {
    prefetch(i);
    f(i, std::integral_constant<std::size_t, 16>{});
  }
  if (i < len) f(i, len - i);
}

// y = normalized(x, shift, a, b, gamma, beta) for the rows of a bundle over
// one piece, where gamma, beta are what is left per element after the fold
// (unit<T>() and zero<T>() where they fold). When nothing follows s, the
// row's a * gamma and fma(b, gamma, beta) are formed once (the same
// operations, so the same bits). kStat, kGamma, kBeta: whether that data
// follows s.
// x, y: (N, C, H, W);  shifts, as, bs: (num_stats)
template <class T, bool kStat, bool kGamma, bool kBeta>
struct NormalizeRows {
  const Dims& dims;
  const T* x;
  T* y;
  Source<T> shifts, as, bs;
  Source<T> gamma, beta;

  void operator()(const Rows& rows, std::size_t s0, std::size_t s1) const {
    if constexpr (!kStat && !kGamma && !kBeta) {
      for (std::size_t r = 0; r < rows.count; ++r) constant_row(rows, r, s0, s1);
    } else {
      with_count(rows, [&](auto count) { bundle<decltype(count)::value>(rows, s0, s1); });
    }
  }

  // One row whose statistic and parameters are constant along it:
  // normalized(), with its per-row factors hoisted (the same operations, so
  // the same bits). Flattened (its loop inlined here): on small planes the
  // call of the loop with its closure cost about as much as the loop
  // (256x64x14x14, 196 elements per row: Method 3's eval forward took
  // 1.6-1.8x its reference loop natively, 1.1x flattened).
  [[gnu::flatten]] void constant_row(const Rows& rows, std::size_t r, std::size_t s0, std::size_t s1) const {
    const std::size_t run = rows.run[r], S = dims.s();
    const T* xs = x + run * S + s0;
    T* ys = y + run * S + s0;
    const std::ptrdiff_t ahead = rows.ahead[r];
    const RunAt at = run_at(dims, run);
    const T m = row_data<false>(shifts, at, s0).value, a = row_data<false>(as, at, s0).value,
            b = row_data<false>(bs, at, s0).value, g = row_data<false>(gamma, at, s0).value,
            be = row_data<false>(beta, at, s0).value;
    const T A = a * g, B = std::fma(b, g, be);
    with_prefetch(
        ahead != 0,
        [=](std::size_t i) {
          prefetch_read(xs + ahead + i);
          prefetch_write(ys + ahead + i);
        },
        [&](auto prefetch) {
          for_blocks(
              s1 - s0,
              [=](std::size_t i0, auto count) {
#pragma omp simd
                for (std::size_t i = i0; i < i0 + count; ++i) ys[i] = std::fma(xs[i] - m, A, B);
              },
              prefetch);
        });
  }

  // Data that follows s over elements [i0, i0 + count) of a block (count <=
  // 16), copied into `into` and returned as a row that starts there; a
  // constant row as it is.
  template <bool V>
  static RowData<V, T> staged(const RowData<V, T>& row, std::size_t i0, std::size_t count, T* into) {
    if constexpr (V) {
      for (std::size_t k = 0; k < count; ++k) into[k] = row.p[i0 + k];
      return {into};
    } else {
      return row;
    }
  }
  // Row r's data for a block: the staged copy where it follows s (the same
  // for every row), else the row's own constant.
  template <bool V, std::size_t R>
  static RowData<V, T> pick(const RowData<V, T>& staged_row, const RowData<V, T> (&rows)[R], std::size_t r) {
    if constexpr (V) return staged_row;
    else return rows[r];
  }

  // A bundle of R rows where some data follows s: 16 elements of every row
  // in turn, so that the bundle's R streams are read together (and the
  // per-s block they share stays in L1), as the tiles intend.
  template <std::size_t R>
  void bundle(const Rows& rows, std::size_t s0, std::size_t s1) const {
    const std::size_t S = dims.s();
    const T* xs[R];
    T* ys[R];
    RowData<kStat, T> sh[R], a[R], b[R];
    RowData<kGamma, T> g[R];
    RowData<kBeta, T> be[R];
    for (std::size_t r = 0; r < R; ++r) {
      const std::size_t run = rows.run[r];
      xs[r] = x + run * S + s0;
      ys[r] = y + run * S + s0;
      const RunAt at = run_at(dims, run);
      sh[r] = row_data<kStat>(shifts, at, s0);
      a[r] = row_data<kStat>(as, at, s0);
      b[r] = row_data<kStat>(bs, at, s0);
      g[r] = row_data<kGamma>(gamma, at, s0);
      be[r] = row_data<kBeta>(beta, at, s0);
    }
    bool any_ahead = false;
    for (std::size_t r = 0; r < R; ++r) any_ahead = any_ahead || rows.ahead[r] != 0;
    auto prefetch_rows = [&](std::size_t i) {
      for (std::size_t r = 0; r < R; ++r) {
        prefetch_read(xs[r] + rows.ahead[r] + i);
        prefetch_write(ys[r] + rows.ahead[r] + i);
      }
    };
    with_prefetch(any_ahead, prefetch_rows, [&](auto prefetch) {
      for_blocks(
          s1 - s0,
          [&](std::size_t i0, auto count) {
            // The data that follows s is the same for every row of the bundle
            // (they share every map's base): read once per block into a local
            // copy, which the rows' stores cannot alias, so it stays in
            // registers (read per row, it was loaded again for each row).
            T stage[5][16];
            const auto shs = staged(sh[0], i0, count, stage[0]), as_ = staged(a[0], i0, count, stage[1]),
                       bs_ = staged(b[0], i0, count, stage[2]);
            const auto gs = staged(g[0], i0, count, stage[3]);
            const auto bes = staged(be[0], i0, count, stage[4]);
            for (std::size_t r = 0; r < R; ++r) {
              const T* xr = xs[r] + i0;
              T* yr = ys[r] + i0;
              const auto shr = pick(shs, sh, r), ar = pick(as_, a, r), br = pick(bs_, b, r);
              const auto gr = pick(gs, g, r);
              const auto ber = pick(bes, be, r);
#pragma omp simd
              for (std::size_t i = 0; i < count; ++i) yr[i] = normalized(xr[i], shr[i], ar[i], br[i], gr[i], ber[i]);
            }
          },
          prefetch);
    });
  }
};

// Calls f(NormalizeRows<T, ...>{...}) with the flags of this plan and data.
template <class T, class F>
void with_normalize_rows(const MethodPlan& plan, const T* x, T* y, const NormalizeCoefficients<T>& k,
                         const Source<T>& gamma, const Source<T>& beta, F f) {
  dispatch(
      [&](auto stat_varies, auto gamma_varies, auto beta_varies) {
        f(NormalizeRows<T, decltype(stat_varies)::value, decltype(gamma_varies)::value,
                        decltype(beta_varies)::value>{
            plan.dims, x, y, {k.shift.get(), plan.stat}, {k.a.get(), plan.stat}, {k.b.get(), plan.stat}, gamma,
            beta});
      },
      plan.stat.s_stride != 0, gamma.varies(), beta.varies());
}

// The normalize pass: one read of x, one write of y. gamma, beta: what is
// left per element after the fold (GammaFold::per_element, per_element_beta).
template <class T>
void normalize_pass(const MethodPlan& plan, const T* x, T* y, const NormalizeCoefficients<T>& k,
                    const Source<T>& gamma, const Source<T>& beta) {
  with_normalize_rows(plan, x, y, k, gamma, beta, [&](const auto& rows_fn) {
    for_each_piece(plan.dims, followed_maps(plan, gamma, beta), rows_fn);
  });
}

// ---- dx ------------------------------------------------------------------------------
//
// dx = rstd * ((g - mean_g) - xhat * mean_gx), g = gamma * dy, folded per
// statistic into (p * gamma) * dy + q * (x - mean) + c (the derivation is
// beside dx_fold, engine.hpp), evaluated with two explicit FMAs in double and
// rounded once to T (dx_folded). Double here, unlike the normalization: dx
// is a difference of terms of the size of rstd * gamma * dy that can cancel
// almost completely (a few elements per statistic), and float lanes would
// leave float rounding errors of those terms in a small result.

// dx for a bundle of rows over one piece; kStat, kGamma: whether that data
// follows s. p = rstd, times gamma per element (or once per row).
// x, dy, dx: (N, C, H, W);  means, rstds, qs, cs: (num_stats)
template <class T, bool kStat, bool kGamma>
struct DxRows {
  const Dims& dims;
  const T* x;
  const T* dy;
  T* dx;
  Source<double> means, rstds, qs, cs;
  Source<T> gamma;

  void operator()(const Rows& rows, std::size_t s0, std::size_t s1) const {
    const std::size_t S = dims.s();
    for (std::size_t r = 0; r < rows.count; ++r) {
      const std::size_t run = rows.run[r];
      const T* xs = x + run * S + s0;
      const T* dys = dy + run * S + s0;
      T* dxs = dx + run * S + s0;
      const std::ptrdiff_t ahead = rows.ahead[r];
      auto prefetch_next = [=](std::size_t i) {
        prefetch_read(xs + ahead + i);
        prefetch_read(dys + ahead + i);
        prefetch_write(dxs + ahead + i);
      };
      const RunAt at = run_at(dims, run);
      const auto m = row_data<kStat>(means, at, s0), p = row_data<kStat>(rstds, at, s0),
                 q = row_data<kStat>(qs, at, s0), c = row_data<kStat>(cs, at, s0);
      const auto g = row_data<kGamma>(gamma, at, s0);
      with_prefetch(ahead != 0, prefetch_next, [&](auto prefetch) {
        if constexpr (!kStat && !kGamma) {
          const double M = m.value, P = p.value * double(g.value), Q = q.value, C = c.value;
          for_blocks(
              s1 - s0,
              [=](std::size_t i0, auto count) {
#pragma omp simd
                for (std::size_t i = i0; i < i0 + count; ++i) dxs[i] = dx_folded(P, Q, C, M, xs[i], dys[i]);
              },
              prefetch);
        } else {
          for_blocks(
              s1 - s0,
              [=](std::size_t i0, auto count) {
#pragma omp simd
                for (std::size_t i = i0; i < i0 + count; ++i)
                  dxs[i] = dx_folded(p[i] * double(g[i]), q[i], c[i], m[i], xs[i], dys[i]);
              },
              prefetch);
        }
      });
    }
  }
};

// Calls f(DxRows<T, ...>{...}) with the flags of this plan and gamma.
// mean, rstd, q, c: (num_stats), q and c from dx_fold.
template <class T, class F>
void with_dx_rows(const MethodPlan& plan, const T* x, const T* dy, T* dx, const double* mean, const double* rstd,
                  const double* q, const double* c, const Source<T>& gamma, F f) {
  dispatch(
      [&](auto stat_varies, auto gamma_varies) {
        f(DxRows<T, decltype(stat_varies)::value, decltype(gamma_varies)::value>{
            plan.dims, x, dy, dx, {mean, plan.stat}, {rstd, plan.stat}, {q, plan.stat}, {c, plan.stat}, gamma});
      },
      plan.stat.s_stride != 0, gamma.varies());
}

// The dx pass: one read of x and dy, one write of dx.
template <class T>
void dx_pass(const MethodPlan& plan, const T* x, const T* dy, T* dx, const double* mean, const double* rstd,
             const double* q, const double* c, const Source<T>& gamma) {
  with_dx_rows(plan, x, dy, dx, mean, rstd, q, c, gamma, [&](const auto& rows_fn) {
    for_each_piece(plan.dims, followed_maps(plan, gamma), rows_fn);
  });
}

// ---- statistics ------------------------------------------------------------------------

// The moments (count, mean, M2) per statistic: of a chunk of one run (the
// inner shape), in one pass about a pivot k, the chunk's first value (the
// shifted-data algorithm), with m = len values v:
//   s1 = sum (v - k),  s2 = sum (v - k)^2,
//   mean = k + s1 / m,  M2 = s2 - s1 * (s1 / m)   (clamped at 0)
// since sum (v - mean)^2 = sum (v - k)^2 - m (mean - k)^2. The cancellation
// is bounded because k is one of the values: (k - mean)^2 <= M2, so
// s2 = M2 + m (mean - k)^2 <= (m + 1) M2, and the subtraction loses at most
// log2(m + 1) of double's 53 bits (m <= kChunk = 1024: 10 bits; a relative
// error below 1e-13, against float's 6e-8). A constant chunk gives mean = k
// and M2 = 0 exactly. (Until 2026-12-07 this took two passes over the chunk,
// the mean and then the squared deviations from it; one pass is less
// arithmetic: with that day's other changes, Methods 3, ln, in and gn moved
// about 10% closer to their reference loops on the AVX-512 path, and did
// not move measurably on the AVX2 path: docs/performance.md.) The squares
// are added by fma (a Product term, reduce.hpp): one rounding, and on the
// AVX2 path the instruction that pays for the pivot's subtraction (since
// 2026-12-08). Or of a bundle of rows into a
// block of statistics (the leading shape), by Welford's update, one row at
// a time, k = rows before + 1:
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
    const double pivot = double(p[0]);  // k
    auto [sum1, sum2] = lane_sums(
        len,
        [=](auto tag, std::size_t i) {
          auto d = load(tag, p + i) - pivot;
          return std::tuple{d, Product{d, d}};
        },
        [=](std::size_t i) { prefetch_read(p + ahead + i); });
    const double shift = sum1 / double(len);  // mean - k
    return Partial{double(len), pivot + shift, std::max(0.0, sum2 - sum1 * shift)};
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
  GammaFold(const MethodPlan& plan, const Source<T>& gamma, const Source<T>& beta = zero<T>())
      : fold(plan.has_affine() && plan.params_constant_per_stat()), gamma(gamma), beta(beta) {
    if (fold) index = param_of_stat(plan, gamma.map);
  }
  double gamma_at(std::size_t o) const { return fold ? double(gamma.data[index.empty() ? o : index[o]]) : 1.0; }
  double scale(std::size_t o, double rstd) const { return fold ? rstd * gamma_at(o) : rstd; }
  Source<T> per_element() const { return fold ? unit<T>() : gamma; }
  // beta folds with gamma (they share the parameter map): into the
  // normalization's b where it folds (NormalizeCoefficients), else per element.
  double beta_at(std::size_t o) const { return fold ? double(beta.data[index.empty() ? o : index[o]]) : 0.0; }
  Source<T> per_element_beta() const { return fold ? zero<T>() : beta; }
  // Statistic o's normalization coefficients, from its mean and variance.
  void set_coefficients(NormalizeCoefficients<T>& k, std::size_t o, double mean, double var, double eps) const {
    k.set(o, mean, scale(o, 1.0 / std::sqrt(var + eps)), beta_at(o));
  }

  bool fold;
  Source<T> gamma, beta;
  std::vector<std::size_t> index;  // (num_stats) statistic -> parameter, or empty: the same index
};

}  // namespace bnlab::detail
