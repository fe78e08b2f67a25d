#include "bnlab/engine/engine.hpp"

#include <cmath>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "bnlab/core/error.hpp"
#include "bnlab/engine/detail/reduce.hpp"

// Every kernel below streams memory in one of the two traversal shapes of
// reduce.hpp (inner: a statistic per run; leading: a statistic per s), and
// passes over the tensor are fused as far as the dependencies allow:
//   forward   statistics (read x), then normalize (read x, write y)
//   backward  the two sums per statistic (read x, dy), then dx (read x, dy, write dx)
// Where everything one statistic depends on fits in a core's cache (and the
// tensor does not), each pair runs group by group as one pass (fused_pass):
// the second read comes from cache. Same arithmetic, same order, same bits.
// A pass is one functor per traversal shape (Moments, SumTerms,
// NormalizeRows, DxRows), not one per method: a method only changes the
// index maps and which data follows s (the kStat/kGamma/kBeta flags).
// Inner loops are written on eight lanes at a time (Vec8d, reduce.hpp), in
// double: x is widened exactly, so (x - mean) loses nothing even for data
// with a large common offset.
namespace bnlab {
namespace {

using detail::for_lanes;
using detail::lane_sums;
using detail::load;
using detail::Partial;
using detail::Rows;
using detail::with_count;
using detail::prefetch_read;
using detail::prefetch_write;
using detail::store;

// A per-statistic or per-parameter array as the kernels see it: the data and
// the element -> entry map. unit<T>() is a single 1 with an all-zero map (the
// gamma of affine none, or the weight of plain, unweighted sums).
template <class U>
struct Source {
  const U* data = nullptr;
  IndexMap map;
  bool varies() const { return map.s_stride != 0; }  // follows s along a run
};

template <class T>
Source<T> unit() {
  static const T one(1);
  return {&one, IndexMap{}};
}

template <class T>
Source<T> zero() {
  static const T nothing(0);
  return {&nothing, IndexMap{}};
}

// gamma and beta of a plan (1 and 0 for affine none), shapes checked.
template <class T>
std::pair<Source<T>, Source<T>> param_sources(const MethodPlan& plan, const Params<T>& params) {
  if (!plan.has_affine()) return {unit<T>(), zero<T>()};
  require_shape(Shape(params.gamma.shape().begin(), params.gamma.shape().end()), plan.param_shape, "gamma");
  require_shape(Shape(params.beta.shape().begin(), params.beta.shape().end()), plan.param_shape, "beta");
  return {{params.gamma.data(), plan.param}, {params.beta.data(), plan.param}};
}

template <class T>
void require_input(const MethodPlan& plan, const Array<T>& x, const std::string& what) {
  require_shape(Shape(x.shape().begin(), x.shape().end()), plan.dims.to_vector(), what);
}

void require_stats(const MethodPlan& plan, const Statistics& stats, const std::string& what) {
  if (stats.mean.size() != plan.num_stats || stats.var.size() != plan.num_stats) {
    throw Error(what + ": expected " + std::to_string(plan.num_stats) + " statistics of shape " +
                shape_to_string(plan.stat_shape) + ", got " + std::to_string(stats.mean.size()));
  }
}

// Per-statistic work (O(num_stats), elementwise, so any split is
// deterministic): f(o) for o in [0, count), in parallel when it is large
// enough to matter (Method 2 has C*H*W statistics).
template <class F>
void for_each_stat(std::size_t count, F f) {
  const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(count);
#pragma omp parallel for schedule(static) if (count >= 16384)
  for (std::ptrdiff_t o = 0; o < n; ++o) f(static_cast<std::size_t>(o));
}

// Scratch per statistic, left uninitialized (every entry is written before it is read).
using Buffer = std::unique_ptr<double[]>;
Buffer buffer(std::size_t count) { return Buffer(new double[count]); }

// rstd = 1 / sqrt(var + eps), per statistic.
Buffer rstd_of(const std::vector<double>& var, double eps) {
  Buffer rstd = buffer(var.size());  // (num_stats)
  for_each_stat(var.size(), [&](std::size_t o) { rstd[o] = 1.0 / std::sqrt(var[o] + eps); });
  return rstd;
}

// Calls f(flags...) with one std::bool_constant per bool, so that each inner
// loop is compiled with its index pattern known: an index that follows s
// (stride 1) or stays put along the run (stride 0).
template <class F>
void dispatch(F&& f) {
  f();
}
template <class F, class... Rest>
void dispatch(F&& f, bool first, Rest... rest) {
  if (first) dispatch([&](auto... flags) { f(std::true_type{}, flags...); }, rest...);
  else dispatch([&](auto... flags) { f(std::false_type{}, flags...); }, rest...);
}

// Per-statistic or per-parameter data seen from one piece of a run: when it
// follows s, element i of the piece reads data[base + s_begin + i] (as the
// tag's type); otherwise the run's single entry data[base], read once.
template <bool Varies, class U>
struct Side;
template <class U>
struct Side<true, U> {
  const U* p;
  template <class V>
  V operator()(V tag, std::size_t i) const { return load(tag, p + i); }
};
template <class U>
struct Side<false, U> {
  double value;
  template <class V>
  double operator()(V, std::size_t) const { return value; }
};
template <bool Varies, class U>
Side<Varies, U> side(const U* data, std::size_t base, std::size_t s_begin) {
  if constexpr (Varies) return {data + base + s_begin};
  else return {double(data[base])};
}
template <bool Varies, class U>
Side<Varies, U> side(const Source<U>& source, std::size_t n, std::size_t c, std::size_t s_begin) {
  return side<Varies>(source.data, source.map.base(n, c), s_begin);
}

// The same for a bundle of rows (detail::Rows) over one piece. When the data
// follows s, every row of the bundle reads the same block (tiles group rows
// that way): at(tag, i) loads it once and row(v, r) hands it to each row.
// Otherwise each row has its own single entry: at() loads nothing and
// row(v, r) returns row r's entry.
template <bool Varies, class U>
struct Bundle;
template <class U>
struct Bundle<true, U> {
  const U* p;
  template <class V>
  V at(V tag, std::size_t i) const { return load(tag, p + i); }
  template <class V>
  V row(V v, std::size_t) const { return v; }
};
template <class U>
struct Bundle<false, U> {
  double value[detail::kRows];
  template <class V>
  double at(V, std::size_t) const { return 0.0; }
  template <class V>
  double row(V, std::size_t r) const { return value[r]; }
};
template <bool Varies, class U>
Bundle<Varies, U> bundle(const Source<U>& source, const Dims& dims, const Rows& rows, std::size_t s_begin) {
  auto base = [&](std::size_t r) { return source.map.base(rows.run[r] / dims.c, rows.run[r] % dims.c); };
  if constexpr (Varies) {
    return {source.data + base(0) + s_begin};
  } else {
    Bundle<false, U> b{};
    for (std::size_t r = 0; r < rows.count; ++r) b.value[r] = double(source.data[base(r)]);
    return b;
  }
}

// ---- merges ------------------------------------------------------------------------

// Chan et al.'s pairwise update of (count, mean, M2):
//   n = na + nb, delta = mean_b - mean_a,
//   mean = mean_a + delta * nb / n,  M2 = M2a + M2b + delta^2 * na * nb / n.
// Exact in exact arithmetic and backward stable: no E[x^2] - E[x]^2.
void merge_moments(Partial& into, const Partial& next) {
  if (into.count == 0) { into = next; return; }
  double n = into.count + next.count;
  double delta = next.a - into.a;
  into.a += delta * (next.count / n);
  into.b += next.b + delta * delta * (into.count * next.count / n);
  into.count = n;
}

// The same update for a row of outputs (the leading shape's row ranges).
void merge_moment_rows(double* mean, double* m2, double na, const double* mean_b, const double* m2_b, double nb,
                       std::size_t len) {
  const double n = na + nb, wb = nb / n, wab = na * nb / n;
  for_lanes(len, [&](auto tag, std::size_t i) {
    auto delta = load(tag, mean_b + i) - load(tag, mean + i);
    store(m2 + i, load(tag, m2 + i) + (load(tag, m2_b + i) + delta * delta * wab));
    store(mean + i, load(tag, mean + i) + delta * wb);
  });
}

void merge_sums(Partial& into, const Partial& next) {
  into.count += next.count;
  into.a += next.a;
  into.b += next.b;
}

void merge_sum_rows(double* a, double* b, double, const double* next_a, const double* next_b, double,
                    std::size_t len) {
  for_lanes(len, [&](auto tag, std::size_t i) {
    store(a + i, load(tag, a + i) + load(tag, next_a + i));
    store(b + i, load(tag, b + i) + load(tag, next_b + i));
  });
}

// ---- passes -------------------------------------------------------------------------

// The maps among the statistics and `sources` whose data follows s: an
// elementwise pass walks tiles grouped by them (none: runs in memory order).
template <class... Sources>
std::vector<const IndexMap*> followed_maps(const MethodPlan& plan, const Sources&... sources) {
  std::vector<const IndexMap*> maps;
  if (plan.stat.s_stride != 0) maps.push_back(&plan.stat);
  ((sources.varies() ? maps.push_back(&sources.map) : void()), ...);
  return maps;
}

// Whether two maps give every run the same base (the leading reductions need
// the data they read per s to be grouped like their outputs).
bool same_bases(const Dims& dims, const IndexMap& a, const IndexMap& b) {
  for (std::size_t n = 0; n < dims.n; ++n)
    for (std::size_t c = 0; c < dims.c; ++c)
      if (a.base(n, c) != b.base(n, c)) return false;
  return true;
}

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
    if (out_map.s_stride == 0) detail::reduce_inner(dims, out_map, out_u, out_v, terms, merge_sums);
    else detail::reduce_leading(dims, out_map, num_outputs, out_u, out_v, terms, merge_sum_rows);
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
    detail::for_each_piece(plan.dims, followed_maps(plan, gamma, beta), rows_fn);
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
    detail::for_each_piece(plan.dims, followed_maps(plan, gamma), rows_fn);
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
    double widened[detail::kChunk];  // the chunk in double: the second pass reads it without converting again
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
    detail::reduce_inner(dims, plan.stat, stats.mean.data(), stats.var.data(), Moments<T>{x, dims.s()},
                         merge_moments);
  } else {
    // Welford within a row range, then Chan's merge across row ranges.
    detail::reduce_leading(dims, plan.stat, plan.num_stats, stats.mean.data(), stats.var.data(),
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
std::vector<std::size_t> param_of_stat(const MethodPlan& plan, const IndexMap& param_map) {
  const Dims& dims = plan.dims;
  bool same = plan.num_params == plan.num_stats && param_map.s_stride == plan.stat.s_stride;
  for (std::size_t n = 0; same && n < dims.n; ++n)
    for (std::size_t c = 0; same && c < dims.c; ++c) same = param_map.base(n, c) == plan.stat.base(n, c);
  if (same) return {};
  std::vector<std::size_t> out(plan.num_stats);
  detail::RunGroups groups = detail::group_runs(dims, plan.stat);
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

// y from x and the statistics: scale per statistic, then the normalize pass.
// x, y: (N, C, H, W)
template <class T>
void normalize_into(const MethodPlan& plan, const T* x, const Statistics& stats, const Source<T>& gamma,
                    const Source<T>& beta, double eps, T* y) {
  const GammaFold<T> fold(plan, gamma);
  Buffer scale = buffer(plan.num_stats);  // (num_stats)
  for_each_stat(plan.num_stats,
                [&](std::size_t o) { scale[o] = fold.scale(o, 1.0 / std::sqrt(stats.var[o] + eps)); });
  normalize_pass(plan, x, y, stats.mean.data(), scale.get(), fold.per_element(), beta);
}

// Whether a reduction per statistic can be fused with the elementwise pass
// that uses it (fused_pass): everything one statistic depends on fits in a
// core's cache (detail::inner_fits, leading_fits, for bytes_per_element of
// input per element), and in the leading shape the data that follows s in
// the elementwise pass (apply_maps) groups rows like the statistics.
bool fuses(const MethodPlan& plan, std::size_t bytes_per_element, const std::vector<const IndexMap*>& apply_maps) {
  const Dims& dims = plan.dims;
  if (plan.stat.s_stride == 0) return detail::inner_fits(detail::group_runs(dims, plan.stat), dims, bytes_per_element);
  if (!detail::leading_fits(detail::make_tiles(dims, {&plan.stat}), bytes_per_element)) return false;
  for (const IndexMap* map : apply_maps) {
    if (!same_bases(dims, *map, plan.stat)) return false;
  }
  return true;
}

// The fused pass, where fuses(): each group of runs (or tile) is reduced,
// finish(o) is called on its statistics, and apply(rows, s_begin, s_end) on
// its data at once, while it is still in cache: one read of memory instead of
// two. The reduction is the same arithmetic in the same order as
// reduce_inner / reduce_leading, so the results are the same bits.
// reduce: the chunk and row operators of reduce_inner and reduce_leading;
// out_a, out_b: (num_stats)
template <class Reduce, class Merge, class Finish, class Apply>
void fused_pass(const MethodPlan& plan, double* out_a, double* out_b, const Reduce& reduce, Merge merge, Finish finish,
                const Apply& apply) {
  const Dims& dims = plan.dims;
  const std::size_t S = dims.s();
  if (plan.stat.s_stride == 0) {
    const detail::RunGroups groups = detail::group_runs(dims, plan.stat);
    detail::reduce_inner_then(groups, dims, out_a, out_b, reduce, merge, [&](std::size_t g) {
      finish(groups.base[g]);
      for (std::size_t i = groups.offset[g]; i < groups.offset[g + 1]; ++i) {
        Rows rows;  // one run at a time: data that follows s may differ between the group's runs
        rows.count = 1;
        rows.run[0] = groups.run[i];
        rows.ahead[0] = (std::ptrdiff_t(detail::next_run(groups, i)) - std::ptrdiff_t(rows.run[0])) * std::ptrdiff_t(S);
        apply(rows, 0, S);
      }
    });
    return;
  }
  const detail::Tiles tiles = detail::make_tiles(dims, {&plan.stat});
  detail::reduce_leading_then(tiles, dims, out_a, out_b, reduce, [&](std::size_t t) {
    const auto [s0, s1] = tiles.span(t, S);
    const std::size_t base = tiles.groups.base[tiles.group(t)];
    for (std::size_t o = base + s0; o < base + s1; ++o) finish(o);
    detail::visit_tile(tiles, S, t, apply);
  });
}

// The train-mode forward: statistics (one read of x), then y (one read of x,
// one write of y), fused into one read where fused_pass applies.
// x, y: (N, C, H, W)
template <class T>
Statistics forward_into(const MethodPlan& plan, const T* x, const Source<T>& gamma, const Source<T>& beta, double eps,
                        T* y) {
  const GammaFold<T> fold(plan, gamma);
  const Source<T> gamma_e = fold.per_element();
  Statistics stats;
  if (!fuses(plan, sizeof(T), followed_maps(plan, gamma_e, beta))) {
    stats = batch_statistics_of(plan, x);
    normalize_into(plan, x, stats, gamma, beta, eps, y);
    return stats;
  }
  stats.mean.resize(plan.num_stats);  // (num_stats)
  stats.var.resize(plan.num_stats);   // (num_stats) M2 until a statistic is final, then M2 / m
  Buffer scale = buffer(plan.num_stats);  // (num_stats)
  const double m = double(plan.elements_per_stat);
  auto finish = [&](std::size_t o) {
    stats.var[o] /= m;
    scale[o] = fold.scale(o, 1.0 / std::sqrt(stats.var[o] + eps));
  };
  with_normalize_rows(plan, x, y, stats.mean.data(), scale.get(), gamma_e, beta, [&](const auto& normalize_rows) {
    fused_pass(plan, stats.mean.data(), stats.var.data(), Moments<T>{x, plan.dims.s()}, merge_moments, finish,
               normalize_rows);
  });
  return stats;
}

template <class T>
Array<T> make_like(const std::vector<std::size_t>& shape) {
  return Array<T>::from_shape(shape);
}

}  // namespace

void require_shape(const std::vector<std::size_t>& got, const std::vector<std::size_t>& expected,
                   const std::string& what) {
  if (got != expected) {
    throw Error(what + ": expected shape " + shape_to_string(expected) + ", got " + shape_to_string(got));
  }
}

template <class T>
Params<T> identity_params(const MethodPlan& plan) {
  Params<T> params;
  if (!plan.has_affine()) return params;
  params.gamma = Array<T>::from_shape(plan.param_shape);
  params.beta = Array<T>::from_shape(plan.param_shape);
  std::fill(params.gamma.begin(), params.gamma.end(), T(1));
  std::fill(params.beta.begin(), params.beta.end(), T(0));
  return params;
}

template <class T>
Statistics batch_statistics(const MethodPlan& plan, const Array<T>& x) {
  require_input(plan, x, "input");
  return batch_statistics_of(plan, x.data());
}

template <class T>
Array<T> normalize(const MethodPlan& plan, const Array<T>& x, const Statistics& stats, const Params<T>& params,
                   double eps) {
  require_input(plan, x, "input");
  require_stats(plan, stats, "statistics");
  auto [gamma, beta] = param_sources(plan, params);
  Array<T> y = make_like<T>(plan.dims.to_vector());  // (N, C, H, W)
  normalize_into(plan, x.data(), stats, gamma, beta, eps, y.data());
  return y;
}

template <class T>
Array<T> forward_train(const MethodPlan& plan, const Array<T>& x, const Params<T>& params, double eps,
                       Statistics* batch_out) {
  if (plan.elements_per_stat < 2) {
    throw Error("method " + plan.method.id + ": train mode needs more than one value per statistic, but shape " +
                shape_to_string(plan.dims.to_vector()) + " gives " + std::to_string(plan.elements_per_stat) +
                " (PyTorch refuses this too; use a larger batch or --mode eval)");
  }
  require_input(plan, x, "input");
  auto [gamma, beta] = param_sources(plan, params);
  Array<T> y = make_like<T>(plan.dims.to_vector());  // (N, C, H, W)
  Statistics batch = forward_into(plan, x.data(), gamma, beta, eps, y.data());
  if (batch_out) *batch_out = std::move(batch);
  return y;
}

template <class T>
Array<T> forward_eval(const MethodPlan& plan, const Array<T>& x, const Params<T>& params, const Statistics& running,
                      double eps) {
  if (!plan.method.batch_dependent()) {
    throw Error("method " + plan.method.id +
                ": eval mode applies only to methods 1, 2, 3 (this method has no batch statistics; "
                "its train mode is already what it does at inference)");
  }
  require_stats(plan, running, "running statistics");
  return normalize(plan, x, running, params, eps);
}

template <class T>
Gradients<T> backward(const MethodPlan& plan, Mode mode, const Array<T>& x, const Array<T>& dy, const Params<T>& params,
                      const Statistics& stats, double eps) {
  require_input(plan, x, "input");
  require_input(plan, dy, "dy");
  require_stats(plan, stats, "statistics");
  if (mode == Mode::eval && !plan.method.batch_dependent()) {
    throw Error("method " + plan.method.id + ": eval mode applies only to methods 1, 2, 3");
  }
  auto [gamma, beta] = param_sources(plan, params);
  const bool train = mode == Mode::train;
  const std::size_t num_stats = plan.num_stats, num_params = plan.num_params;
  const double m = double(plan.elements_per_stat);
  const double* mean = stats.mean.data();
  const T* xd = x.data();
  const T* dyd = dy.data();

  // Per statistic o, the backward of y = gamma * xhat + beta, xhat = (x - mean) * rstd:
  //   dx = rstd * (g - mean_S(g) - xhat * mean_S(g * xhat)),  g = gamma * dy   (train)
  //   dx = rstd * g                                                           (eval)
  // with mean_g[o] = mean_S(g), mean_gx[o] = mean_S(g * xhat) (0 in eval mode);
  //   dgamma = sum dy * xhat,  dbeta = sum dy   (over every axis gamma does not have).
  Buffer rstd = rstd_of(stats.var, eps);                                 // (num_stats)
  Buffer mean_g = buffer(num_stats), mean_gx = buffer(num_stats);        // (num_stats)
  Buffer dgamma_sum = buffer(num_params), dbeta_sum = buffer(num_params);  // param shape
  Gradients<T> grads;
  grads.dx = make_like<T>(plan.dims.to_vector());  // (N, C, H, W)
  T* dxd = grads.dx.data();

  if (plan.params_constant_per_stat()) {
    // gamma is one value per statistic group, so one read of x and dy gives
    // sum_S(dy) and sum_S(dy * xhat) per statistic; mean_S(g) = gamma * sum_S(dy) / m,
    // and dbeta, dgamma are these sums added up over the statistics of a parameter.
    // Where a statistic's data fits in cache, the sums and dx are one pass.
    const GammaFold<T> fold(plan, gamma);
    Buffer sum_dy = buffer(num_stats), sum_dy_xhat = buffer(num_stats);  // (num_stats)
    auto finish = [&](std::size_t o) {
      const double g = fold.gamma_at(o);
      mean_g[o] = train ? g * sum_dy[o] / m : 0.0;
      mean_gx[o] = train ? g * sum_dy_xhat[o] / m : 0.0;
    };
    if (fuses(plan, 2 * sizeof(T), followed_maps(plan, gamma))) {
      with_sum_terms(plan, xd, dyd, mean, rstd.get(), unit<T>(), [&](const auto& terms) {
        with_dx_rows(plan, xd, dyd, dxd, mean, rstd.get(), mean_g.get(), mean_gx.get(), gamma,
                     [&](const auto& dx_rows) {
                       fused_pass(plan, sum_dy.get(), sum_dy_xhat.get(), terms, merge_sums, finish, dx_rows);
                     });
      });
    } else {
      if (train || plan.has_affine()) {
        sum_pass(plan, plan.stat, num_stats, xd, dyd, mean, rstd.get(), unit<T>(), sum_dy.get(),
                 sum_dy_xhat.get());
      }
      for_each_stat(num_stats, finish);
      dx_pass(plan, xd, dyd, dxd, mean, rstd.get(), mean_g.get(), mean_gx.get(), gamma);
    }
    if (plan.has_affine() && fold.index.empty()) {
      for_each_stat(num_stats, [&](std::size_t o) {
        dbeta_sum[o] = sum_dy[o];
        dgamma_sum[o] = sum_dy_xhat[o];
      });
    } else if (plan.has_affine()) {
      std::fill(dgamma_sum.get(), dgamma_sum.get() + num_params, 0.0);
      std::fill(dbeta_sum.get(), dbeta_sum.get() + num_params, 0.0);
      for (std::size_t o = 0; o < num_stats; ++o) {  // in statistic order: deterministic
        dbeta_sum[fold.index[o]] += sum_dy[o];
        dgamma_sum[fold.index[o]] += sum_dy_xhat[o];
      }
    }
  } else {
    // gamma varies inside a statistic group (e.g. LayerNorm's (C,H,W)
    // parameters): one pass for the statistic sums of g, one for the
    // parameter sums of dy, then dx.
    if (train) {
      sum_pass(plan, plan.stat, num_stats, xd, dyd, mean, rstd.get(), gamma, mean_g.get(), mean_gx.get());
    }
    for_each_stat(num_stats, [&](std::size_t o) {
      mean_g[o] = train ? mean_g[o] / m : 0.0;
      mean_gx[o] = train ? mean_gx[o] / m : 0.0;
    });
    sum_pass(plan, plan.param, num_params, xd, dyd, mean, rstd.get(), unit<T>(), dbeta_sum.get(),
             dgamma_sum.get());
    dx_pass(plan, xd, dyd, dxd, mean, rstd.get(), mean_g.get(), mean_gx.get(), gamma);
  }

  if (plan.has_affine()) {
    grads.dgamma = make_like<T>(plan.param_shape);
    grads.dbeta = make_like<T>(plan.param_shape);
    for (std::size_t i = 0; i < num_params; ++i) {
      grads.dgamma.data()[i] = T(dgamma_sum[i]);
      grads.dbeta.data()[i] = T(dbeta_sum[i]);
    }
  }
  return grads;
}

Statistics update_running(const MethodPlan& plan, const Statistics& running, const Statistics& batch,
                          double momentum) {
  require_stats(plan, running, "running statistics");
  require_stats(plan, batch, "batch statistics");
  const double m = double(plan.elements_per_stat);
  if (m < 2) throw Error("method " + plan.method.id + ": running statistics need more than one value per statistic");
  Statistics out;
  out.mean.resize(plan.num_stats);
  out.var.resize(plan.num_stats);
  for (std::size_t i = 0; i < plan.num_stats; ++i) {
    double unbiased = batch.var[i] * m / (m - 1.0);  // Bessel's correction, as PyTorch
    out.mean[i] = (1.0 - momentum) * running.mean[i] + momentum * batch.mean[i];
    out.var[i] = (1.0 - momentum) * running.var[i] + momentum * unbiased;
  }
  return out;
}

#define BNLAB_INSTANTIATE_ENGINE(T)                                                                       \
  template Params<T> identity_params<T>(const MethodPlan&);                                                   \
  template Statistics batch_statistics<T>(const MethodPlan&, const Array<T>&);                                \
  template Array<T> normalize<T>(const MethodPlan&, const Array<T>&, const Statistics&, const Params<T>&,      \
                                 double);                                                                 \
  template Array<T> forward_train<T>(const MethodPlan&, const Array<T>&, const Params<T>&, double,             \
                                     Statistics*);                                                        \
  template Array<T> forward_eval<T>(const MethodPlan&, const Array<T>&, const Params<T>&, const Statistics&,   \
                                    double);                                                              \
  template Gradients<T> backward<T>(const MethodPlan&, Mode, const Array<T>&, const Array<T>&,                 \
                                    const Params<T>&, const Statistics&, double);

BNLAB_INSTANTIATE_ENGINE(float)
BNLAB_INSTANTIATE_ENGINE(double)

}  // namespace bnlab
