#include "bnlab/engine.hpp"

#include <cmath>
#include <type_traits>

#include "bnlab/error.hpp"
#include "bnlab/reduce.hpp"

namespace bnlab {
namespace {

using detail::Partial;

// gamma/beta as the kernels see them: pointers plus the element -> entry map.
// For affine none, a single 1 and 0 with an all-zero map.
template <class T>
struct ParamData {
  std::vector<T> unit_gamma{T(1)}, unit_beta{T(0)};
  const T* gamma = nullptr;
  const T* beta = nullptr;
  IndexMap map;
};

template <class T>
ParamData<T> param_data(const Layout& layout, const Params<T>& params) {
  ParamData<T> data;
  if (layout.has_affine()) {
    require_shape(Shape(params.gamma.shape().begin(), params.gamma.shape().end()), layout.param_shape, "gamma");
    require_shape(Shape(params.beta.shape().begin(), params.beta.shape().end()), layout.param_shape, "beta");
    data.gamma = params.gamma.data();
    data.beta = params.beta.data();
    data.map = layout.param;
  } else {
    data.gamma = data.unit_gamma.data();
    data.beta = data.unit_beta.data();
  }
  return data;
}

template <class T>
void require_input(const Layout& layout, const Array<T>& x, const std::string& what) {
  require_shape(Shape(x.shape().begin(), x.shape().end()), layout.dims.to_vector(), what);
}

void require_stats(const Layout& layout, const Statistics& stats, const std::string& what) {
  if (stats.mean.size() != layout.num_stats || stats.var.size() != layout.num_stats) {
    throw Error(what + ": expected " + std::to_string(layout.num_stats) + " statistics of shape " +
                shape_to_string(layout.stat_shape) + ", got " + std::to_string(stats.mean.size()));
  }
}

// rstd = 1 / sqrt(var + eps), per statistic.
std::vector<double> rstd_of(const std::vector<double>& var, double eps) {
  std::vector<double> rstd(var.size());  // (num_stats)
  for (std::size_t i = 0; i < var.size(); ++i) rstd[i] = 1.0 / std::sqrt(var[i] + eps);
  return rstd;
}

// Calls f(stat_varies, param_varies) with std::bool_constant arguments, so
// that each inner loop is compiled with its index pattern known: an index
// that follows s (stride 1) or stays put along the run (stride 0).
template <class F>
void dispatch_strides(bool stat_varies, bool param_varies, F&& f) {
  if (stat_varies) {
    if (param_varies) f(std::true_type{}, std::true_type{});
    else f(std::true_type{}, std::false_type{});
  } else {
    if (param_varies) f(std::false_type{}, std::true_type{});
    else f(std::false_type{}, std::false_type{});
  }
}

// Calls body(run, n, c) for every run (n, c) of the feature map, in parallel.
template <class Body>
void for_each_run(const Dims& dims, Body body) {
  const std::ptrdiff_t runs = static_cast<std::ptrdiff_t>(dims.n * dims.c);
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t r = 0; r < runs; ++r) {
    std::size_t run = static_cast<std::size_t>(r);
    body(run, run / dims.c, run % dims.c);
  }
}

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

void merge_sums(Partial& into, const Partial& next) {
  into.count += next.count;
  into.a += next.a;
  into.b += next.b;
}

// Sums over `out_map` of u and v, two per-element quantities given by
//   uv(x, dy, stat_index, param_index) -> std::pair<double, double>.
// out_u, out_v: (num_outputs)
template <class T, class UV>
void sum_pass(const Layout& layout, const IndexMap& out_map, std::size_t num_outputs, const T* x,
              const T* dy, const IndexMap& param_map, double* out_u, double* out_v, UV uv) {
  const Dims& dims = layout.dims;
  const std::size_t S = dims.s();
  const IndexMap& stat_map = layout.stat;
  dispatch_strides(stat_map.s_stride != 0, param_map.s_stride != 0, [&](auto stat_varies, auto param_varies) {
    // Folds elements [s0, s1) of a run; `emit(i, u, v)` receives each element's terms.
    auto fold = [&](std::size_t run, std::size_t s0, std::size_t s1, auto emit) {
      std::size_t n = run / dims.c, c = run % dims.c;
      std::size_t o = stat_map.base(n, c), p = param_map.base(n, c);
      const T* xs = x + run * S;
      const T* dys = dy + run * S;
      for (std::size_t s = s0; s < s1; ++s) {
        auto [u, v] = uv(xs[s], dys[s], o + (decltype(stat_varies)::value ? s : 0),
                         p + (decltype(param_varies)::value ? s : 0));
        emit(s - s0, u, v);
      }
    };
    if (out_map.s_stride == 0) {
      detail::reduce_inner(
          dims, out_map, out_u, out_v,
          [&](std::size_t run, std::size_t s0, std::size_t s1) {
            double su = 0, sv = 0;
            fold(run, s0, s1, [&](std::size_t, double u, double v) { su += u; sv += v; });
            return Partial{double(s1 - s0), su, sv};
          },
          merge_sums);
    } else {
      detail::reduce_leading(dims, out_map, num_outputs, out_u, out_v,
                             [&](std::size_t run, std::size_t s0, std::size_t s1, std::size_t,
                                 double* a, double* b) {
                               fold(run, s0, s1, [&](std::size_t i, double u, double v) {
                                 a[i] += u;
                                 b[i] += v;
                               });
                             });
    }
  });
}

// The statistic index -> parameter index map, valid when gamma is constant on
// every statistic group (Layout::params_constant_per_stat). (num_stats)
std::vector<std::size_t> param_of_stat(const Layout& layout, const IndexMap& param_map) {
  std::vector<std::size_t> out(layout.num_stats);
  const Dims& dims = layout.dims;
  detail::RunGroups groups = detail::group_runs(dims, layout.stat);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    std::size_t run = groups.run[groups.offset[g]];
    std::size_t p = param_map.base(run / dims.c, run % dims.c);
    if (layout.stat.s_stride == 0) {
      out[groups.base[g]] = p;
    } else {
      for (std::size_t s = 0; s < dims.s(); ++s) out[groups.base[g] + s] = p + s * param_map.s_stride;
    }
  }
  return out;
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
Params<T> identity_params(const Layout& layout) {
  Params<T> params;
  if (!layout.has_affine()) return params;
  params.gamma = Array<T>::from_shape(layout.param_shape);
  params.beta = Array<T>::from_shape(layout.param_shape);
  std::fill(params.gamma.begin(), params.gamma.end(), T(1));
  std::fill(params.beta.begin(), params.beta.end(), T(0));
  return params;
}

template <class T>
Statistics batch_statistics(const Layout& layout, const Array<T>& x) {
  require_input(layout, x, "input");
  const Dims& dims = layout.dims;
  const std::size_t S = dims.s();
  const T* data = x.data();  // (N, C, H, W)
  Statistics stats;
  stats.mean.assign(layout.num_stats, 0.0);  // (num_stats)
  std::vector<double> m2(layout.num_stats);  // (num_stats) sum of squared deviations
  if (layout.stat.s_stride == 0) {
    // A chunk of one run is in cache: two passes over it (mean, then the sum
    // of squared deviations from that mean) read memory once.
    detail::reduce_inner(
        dims, layout.stat, stats.mean.data(), m2.data(),
        [&](std::size_t run, std::size_t s0, std::size_t s1) {
          const T* p = data + run * S;
          double sum = 0;
          for (std::size_t s = s0; s < s1; ++s) sum += p[s];
          double count = double(s1 - s0);
          double mean = sum / count;
          double sq = 0;
          for (std::size_t s = s0; s < s1; ++s) {
            double d = double(p[s]) - mean;
            sq += d * d;
          }
          return Partial{count, mean, sq};
        },
        merge_moments);
  } else {
    // Welford's update, one run (row) at a time, k = rows_before + 1:
    //   mean_k = mean_{k-1} + (x - mean_{k-1}) / k
    //   M2_k   = M2_{k-1} + (x - mean_{k-1}) * (x - mean_k)
    detail::reduce_leading(dims, layout.stat, layout.num_stats, stats.mean.data(), m2.data(),
                           [&](std::size_t run, std::size_t s0, std::size_t s1, std::size_t rows_before,
                               double* mean, double* sq) {
                             const T* p = data + run * S + s0;
                             const double inv_k = 1.0 / double(rows_before + 1);
                             const std::size_t len = s1 - s0;
                             for (std::size_t i = 0; i < len; ++i) {
                               double v = p[i];
                               double d = v - mean[i];
                               mean[i] += d * inv_k;
                               sq[i] += d * (v - mean[i]);
                             }
                           });
  }
  stats.var.resize(layout.num_stats);
  const double m = double(layout.elements_per_stat);
  for (std::size_t i = 0; i < layout.num_stats; ++i) stats.var[i] = m2[i] / m;
  return stats;
}

template <class T>
Array<T> normalize(const Layout& layout, const Array<T>& x, const Statistics& stats, const Params<T>& params,
                   double eps) {
  require_input(layout, x, "input");
  require_stats(layout, stats, "statistics");
  ParamData<T> pd = param_data(layout, params);
  std::vector<double> rstd = rstd_of(stats.var, eps);  // (num_stats)
  const double* mean = stats.mean.data();
  const Dims& dims = layout.dims;
  const std::size_t S = dims.s();
  Array<T> y = make_like<T>(layout.dims.to_vector());  // (N, C, H, W)
  const T* xd = x.data();
  T* yd = y.data();
  dispatch_strides(layout.stat.s_stride != 0, pd.map.s_stride != 0, [&](auto stat_varies, auto param_varies) {
    constexpr bool kStat = decltype(stat_varies)::value;
    constexpr bool kParam = decltype(param_varies)::value;
    for_each_run(dims, [&](std::size_t run, std::size_t n, std::size_t c) {
      const std::size_t o = layout.stat.base(n, c), p = pd.map.base(n, c);
      const T* __restrict xs = xd + run * S;
      T* __restrict ys = yd + run * S;
      // y = (x - mean) * rstd * gamma + beta; the subtraction in double keeps
      // data with a large common offset exact.
      const double mean0 = mean[o], rstd0 = rstd[o];
      const double gamma0 = double(pd.gamma[p]), beta0 = double(pd.beta[p]);
      for (std::size_t s = 0; s < S; ++s) {
        double mu = kStat ? mean[o + s] : mean0;
        double rs = kStat ? rstd[o + s] : rstd0;
        double ga = kParam ? double(pd.gamma[p + s]) : gamma0;
        double be = kParam ? double(pd.beta[p + s]) : beta0;
        ys[s] = T((double(xs[s]) - mu) * rs * ga + be);
      }
    });
  });
  return y;
}

template <class T>
Array<T> forward_train(const Layout& layout, const Array<T>& x, const Params<T>& params, double eps,
                       Statistics* batch_out) {
  if (layout.elements_per_stat < 2) {
    throw Error("method " + layout.method.id + ": train mode needs more than one value per statistic, but shape " +
                shape_to_string(layout.dims.to_vector()) + " gives " + std::to_string(layout.elements_per_stat) +
                " (PyTorch refuses this too; use a larger batch or --mode eval)");
  }
  Statistics batch = batch_statistics(layout, x);
  Array<T> y = normalize(layout, x, batch, params, eps);
  if (batch_out) *batch_out = std::move(batch);
  return y;
}

template <class T>
Array<T> forward_eval(const Layout& layout, const Array<T>& x, const Params<T>& params, const Statistics& running,
                      double eps) {
  if (!layout.method.batch_dependent()) {
    throw Error("method " + layout.method.id +
                ": eval mode applies only to methods 1, 2, 3 (this method has no batch statistics; "
                "its train mode is already what it does at inference)");
  }
  require_stats(layout, running, "running statistics");
  return normalize(layout, x, running, params, eps);
}

template <class T>
Gradients<T> backward(const Layout& layout, Mode mode, const Array<T>& x, const Array<T>& dy, const Params<T>& params,
                      const Statistics& stats, double eps) {
  require_input(layout, x, "input");
  require_input(layout, dy, "dy");
  require_stats(layout, stats, "statistics");
  if (mode == Mode::eval && !layout.method.batch_dependent()) {
    throw Error("method " + layout.method.id + ": eval mode applies only to methods 1, 2, 3");
  }
  ParamData<T> pd = param_data(layout, params);
  const Dims& dims = layout.dims;
  const std::size_t S = dims.s();
  const std::size_t num_stats = layout.num_stats;
  const double m = double(layout.elements_per_stat);
  std::vector<double> rstd = rstd_of(stats.var, eps);  // (num_stats)
  const double* mean = stats.mean.data();
  const T* xd = x.data();
  const T* dyd = dy.data();

  // Per statistic o, the backward of y = gamma * xhat + beta, xhat = (x - mean) * rstd:
  //   dx = rstd * (g - mean_S(g) - xhat * mean_S(g * xhat)),  g = gamma * dy   (train)
  //   dx = rstd * g                                                           (eval)
  // so the elementwise pass needs mean_g[o] = mean_S(g), mean_gx[o] = mean_S(g * xhat).
  std::vector<double> mean_g(num_stats, 0.0), mean_gx(num_stats, 0.0);  // (num_stats)
  std::vector<double> dgamma_sum(layout.num_params, 0.0), dbeta_sum(layout.num_params, 0.0);  // param shape
  auto xhat = [&](T xv, std::size_t o) { return (double(xv) - mean[o]) * rstd[o]; };

  if (layout.params_constant_per_stat()) {
    // gamma is one value per statistic group, so one read of x and dy gives
    // sum_S(dy) and sum_S(dy * xhat) per statistic; mean_S(g) = gamma * sum_S(dy) / m,
    // and dbeta, dgamma are these sums added up over the statistics of a parameter.
    std::vector<double> sum_dy(num_stats), sum_dy_xhat(num_stats);  // (num_stats)
    sum_pass(layout, layout.stat, num_stats, xd, dyd, pd.map, sum_dy.data(), sum_dy_xhat.data(),
             [&](T xv, T dyv, std::size_t o, std::size_t) {
               double d = double(dyv);
               return std::pair<double, double>(d, d * xhat(xv, o));
             });
    std::vector<std::size_t> param_index = param_of_stat(layout, pd.map);  // (num_stats)
    for (std::size_t o = 0; o < num_stats; ++o) {
      double gamma = double(pd.gamma[param_index[o]]);
      if (mode == Mode::train) {
        mean_g[o] = gamma * sum_dy[o] / m;
        mean_gx[o] = gamma * sum_dy_xhat[o] / m;
      }
      if (layout.has_affine()) {
        dbeta_sum[param_index[o]] += sum_dy[o];
        dgamma_sum[param_index[o]] += sum_dy_xhat[o];
      }
    }
  } else {
    // gamma varies inside a statistic group (e.g. LayerNorm's (C,H,W)
    // parameters): one pass for the statistic sums of g, one for the
    // parameter sums of dy.
    if (mode == Mode::train) {
      sum_pass(layout, layout.stat, num_stats, xd, dyd, pd.map, mean_g.data(), mean_gx.data(),
               [&](T xv, T dyv, std::size_t o, std::size_t p) {
                 double g = double(pd.gamma[p]) * double(dyv);
                 return std::pair<double, double>(g, g * xhat(xv, o));
               });
      for (std::size_t o = 0; o < num_stats; ++o) {
        mean_g[o] /= m;
        mean_gx[o] /= m;
      }
    }
    sum_pass(layout, pd.map, layout.num_params, xd, dyd, pd.map, dbeta_sum.data(), dgamma_sum.data(),
             [&](T xv, T dyv, std::size_t o, std::size_t) {
               double d = double(dyv);
               return std::pair<double, double>(d, d * xhat(xv, o));
             });
  }

  Gradients<T> grads;
  grads.dx = make_like<T>(dims.to_vector());  // (N, C, H, W)
  T* dxd = grads.dx.data();
  dispatch_strides(layout.stat.s_stride != 0, pd.map.s_stride != 0, [&](auto stat_varies, auto param_varies) {
    constexpr bool kStat = decltype(stat_varies)::value;
    constexpr bool kParam = decltype(param_varies)::value;
    for_each_run(dims, [&](std::size_t run, std::size_t n, std::size_t c) {
      const std::size_t o = layout.stat.base(n, c), p = pd.map.base(n, c);
      const T* __restrict xs = xd + run * S;
      const T* __restrict dys = dyd + run * S;
      T* __restrict dxs = dxd + run * S;
      for (std::size_t s = 0; s < S; ++s) {
        std::size_t os = kStat ? o + s : o;
        std::size_t ps = kParam ? p + s : p;
        double g = double(pd.gamma[ps]) * double(dys[s]);
        double xh = (double(xs[s]) - mean[os]) * rstd[os];
        dxs[s] = T(rstd[os] * (g - mean_g[os] - xh * mean_gx[os]));
      }
    });
  });

  if (layout.has_affine()) {
    grads.dgamma = make_like<T>(layout.param_shape);
    grads.dbeta = make_like<T>(layout.param_shape);
    for (std::size_t i = 0; i < layout.num_params; ++i) {
      grads.dgamma.data()[i] = T(dgamma_sum[i]);
      grads.dbeta.data()[i] = T(dbeta_sum[i]);
    }
  }
  return grads;
}

Statistics update_running(const Layout& layout, const Statistics& running, const Statistics& batch,
                          double momentum) {
  require_stats(layout, running, "running statistics");
  require_stats(layout, batch, "batch statistics");
  const double m = double(layout.elements_per_stat);
  if (m < 2) throw Error("method " + layout.method.id + ": running statistics need more than one value per statistic");
  Statistics out;
  out.mean.resize(layout.num_stats);
  out.var.resize(layout.num_stats);
  for (std::size_t i = 0; i < layout.num_stats; ++i) {
    double unbiased = batch.var[i] * m / (m - 1.0);  // Bessel's correction, as PyTorch
    out.mean[i] = (1.0 - momentum) * running.mean[i] + momentum * batch.mean[i];
    out.var[i] = (1.0 - momentum) * running.var[i] + momentum * unbiased;
  }
  return out;
}

#define BNLAB_INSTANTIATE_ENGINE(T)                                                                       \
  template Params<T> identity_params<T>(const Layout&);                                                   \
  template Statistics batch_statistics<T>(const Layout&, const Array<T>&);                                \
  template Array<T> normalize<T>(const Layout&, const Array<T>&, const Statistics&, const Params<T>&,      \
                                 double);                                                                 \
  template Array<T> forward_train<T>(const Layout&, const Array<T>&, const Params<T>&, double,             \
                                     Statistics*);                                                        \
  template Array<T> forward_eval<T>(const Layout&, const Array<T>&, const Params<T>&, const Statistics&,   \
                                    double);                                                              \
  template Gradients<T> backward<T>(const Layout&, Mode, const Array<T>&, const Array<T>&,                 \
                                    const Params<T>&, const Statistics&, double);

BNLAB_INSTANTIATE_ENGINE(float)
BNLAB_INSTANTIATE_ENGINE(double)

}  // namespace bnlab
