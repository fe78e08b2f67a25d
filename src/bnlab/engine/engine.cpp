// The engine's public API (engine.hpp): checks, then the passes of
// detail/kernels.hpp, fused by detail/fusion.hpp where a statistic's data
// fits in cache; the backward's choice between its three paths is here too.
// detail/sources.hpp says how kernels read per-statistic and per-parameter data.
#include "bnlab/engine/engine.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "bnlab/core/error.hpp"
#include "bnlab/engine/detail/fusion.hpp"
#include "bnlab/engine/detail/kernels.hpp"
#include "bnlab/engine/detail/reduce.hpp"
#include "bnlab/engine/detail/sources.hpp"

namespace bnlab {
using namespace detail;  // this file's job is to call the engine's internals

namespace {

// gamma and beta of a plan (1 and 0 for affine none), shapes checked.
template <class T>
std::pair<Source<T>, Source<T>> param_sources(const MethodPlan& plan, const Params<T>& params) {
  if (!plan.has_affine()) return {unit<T>(), zero<T>()};
  check_params(plan, shape_of(params.gamma), shape_of(params.beta));
  return {{params.gamma.data(), plan.param}, {params.beta.data(), plan.param}};
}

// y from x and the statistics: the coefficients per statistic, then the normalize pass.
// x, y: (N, C, H, W)
template <class T>
void normalize_sources(const MethodPlan& plan, const T* x, const Statistics& stats, const Source<T>& gamma,
                       const Source<T>& beta, double eps, T* y) {
  const GammaFold<T> fold(plan, gamma, beta);
  NormalizeCoefficients<T> k(plan.num_stats);
  for_each_stat(plan.num_stats,
                [&](std::size_t o) { fold.set_coefficients(k, o, stats.mean[o], stats.var[o], eps); });
  normalize_pass(plan, x, y, k, fold.per_element(), fold.per_element_beta());
}

// The train-mode forward: statistics (one read of x), then y (one read of x,
// one write of y), fused into one read where fused_pass applies.
// x, y: (N, C, H, W)
template <class T>
Statistics forward_into(const MethodPlan& plan, const T* x, const Source<T>& gamma, const Source<T>& beta, double eps,
                        T* y) {
  const GammaFold<T> fold(plan, gamma, beta);
  const Source<T> gamma_e = fold.per_element(), beta_e = fold.per_element_beta();
  Statistics stats;
  if (!fuses(plan, sizeof(T), followed_maps(plan, gamma_e, beta_e))) {
    stats = batch_statistics_of(plan, x);
    normalize_sources(plan, x, stats, gamma, beta, eps, y);
    return stats;
  }
  stats.mean.resize(plan.num_stats);  // (num_stats)
  stats.var.resize(plan.num_stats);   // (num_stats) M2 until a statistic is final, then M2 / m
  NormalizeCoefficients<T> k(plan.num_stats);
  const double m = double(plan.elements_per_stat);
  auto finish = [&](std::size_t o) {
    stats.var[o] /= m;
    fold.set_coefficients(k, o, stats.mean[o], stats.var[o], eps);
  };
  with_normalize_rows(plan, x, y, k, gamma_e, beta_e, [&](const auto& normalize_rows) {
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
  check_input(plan, shape_of(x), "input");
  return batch_statistics_of(plan, x.data());
}

template <class T>
Statistics batch_statistics_at(const MethodPlan& plan, const T* x) {
  return batch_statistics_of(plan, x);
}

template <class T>
Array<T> normalize(const MethodPlan& plan, const Array<T>& x, const Statistics& stats, const Params<T>& params,
                   double eps) {
  check_input(plan, shape_of(x), "input");
  check_statistics(plan, stats, "statistics");
  Array<T> y = make_like<T>(plan.dims.to_vector());  // (N, C, H, W)
  normalize_into(plan, x.data(), stats, params, eps, y.data());
  return y;
}

template <class T>
void normalize_into(const MethodPlan& plan, const T* x, const Statistics& stats, const Params<T>& params, double eps,
                    T* y) {  // x, y: (N, C, H, W)
  check_statistics(plan, stats, "statistics");
  auto [gamma, beta] = param_sources(plan, params);
  normalize_sources(plan, x, stats, gamma, beta, eps, y);
}

template <class T>
Array<T> forward_train(const MethodPlan& plan, const Array<T>& x, const Params<T>& params, double eps,
                       Statistics* batch_out) {
  check_train_mode(plan);
  check_input(plan, shape_of(x), "input");
  Array<T> y = make_like<T>(plan.dims.to_vector());  // (N, C, H, W)
  Statistics batch = forward_train_into(plan, x.data(), params, eps, y.data());
  if (batch_out) *batch_out = std::move(batch);
  return y;
}

template <class T>
Statistics forward_train_into(const MethodPlan& plan, const T* x, const Params<T>& params, double eps,
                              T* y) {  // x, y: (N, C, H, W)
  check_train_mode(plan);
  auto [gamma, beta] = param_sources(plan, params);
  return forward_into(plan, x, gamma, beta, eps, y);
}

template <class T>
Array<T> forward_eval(const MethodPlan& plan, const Array<T>& x, const Params<T>& params, const Statistics& running,
                      double eps) {
  check_eval_mode(plan);
  check_statistics(plan, running, "running statistics");
  return normalize(plan, x, running, params, eps);
}

template <class T>
Gradients<T> backward(const MethodPlan& plan, Mode mode, const Array<T>& x, const Array<T>& dy, const Params<T>& params,
                      const Statistics& stats, double eps) {
  check_input(plan, shape_of(x), "input");
  check_input(plan, shape_of(dy), "dy");
  Array<T> dx = make_like<T>(plan.dims.to_vector());  // (N, C, H, W)
  Gradients<T> grads = backward_into(plan, mode, x.data(), dy.data(), params, stats, eps, dx.data());
  grads.dx = std::move(dx);
  return grads;
}

namespace {

// The backward's per-statistic terms and parameter sums (BackwardTerms), and
// dx into dxd unless it is null. Per statistic o, the backward of
// y = gamma * xhat + beta, xhat = (x - mean) * rstd:
//   dx = rstd * (g - mean_S(g) - xhat * mean_S(g * xhat)),  g = gamma * dy   (train)
//   dx = rstd * g                                                           (eval)
// dx itself is formed from per-statistic coefficients (dx_fold, engine.hpp).
// with mean_g[o] = mean_S(g), mean_gx[o] = mean_S(g * xhat) (0 in eval mode);
//   dgamma = sum dy * xhat,  dbeta = sum dy   (over every axis gamma does not have).
// The sums are the same arithmetic in the same order whether dx is written
// in the same pass (fused_pass) or not: the terms have the same bits either way.
template <class T>
BackwardTerms backward_sums(const MethodPlan& plan, Mode mode, const T* xd, const T* dyd, const Params<T>& params,
                            const Statistics& stats, double eps, T* dxd) {  // xd, dyd, dxd: (N, C, H, W)
  check_statistics(plan, stats, "statistics");
  if (mode == Mode::eval) check_eval_mode(plan);
  auto [gamma, beta] = param_sources(plan, params);
  const bool train = mode == Mode::train;
  const std::size_t num_stats = plan.num_stats, num_params = plan.num_params;
  const double m = double(plan.elements_per_stat);
  const double* mean = stats.mean.data();

  BackwardTerms terms;
  terms.rstd.resize(num_stats);     // (num_stats)
  terms.mean_g.resize(num_stats);   // (num_stats)
  terms.mean_gx.resize(num_stats);  // (num_stats)
  terms.dgamma_sum.resize(num_params);  // param shape
  terms.dbeta_sum.resize(num_params);   // param shape
  {
    const Buffer rstd = rstd_of(stats.var, eps);  // (num_stats)
    std::copy(rstd.get(), rstd.get() + num_stats, terms.rstd.begin());
  }
  const double* rstd = terms.rstd.data();
  double* mean_g = terms.mean_g.data();
  double* mean_gx = terms.mean_gx.data();
  Buffer dx_q = buffer(num_stats), dx_c = buffer(num_stats);  // (num_stats) dx's q, c (dx_fold)
  auto fold_dx = [&](std::size_t o) {
    const DxFold k = dx_fold(rstd[o], mean_g[o], mean_gx[o]);
    dx_q[o] = k.q;
    dx_c[o] = k.c;
  };

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
      fold_dx(o);
    };
    if (dxd != nullptr && fuses(plan, 2 * sizeof(T), followed_maps(plan, gamma))) {
      with_sum_terms(plan, xd, dyd, mean, rstd, unit<T>(), [&](const auto& sum_terms) {
        with_dx_rows(plan, xd, dyd, dxd, mean, rstd, dx_q.get(), dx_c.get(), gamma, [&](const auto& dx_rows) {
          fused_pass(plan, sum_dy.get(), sum_dy_xhat.get(), sum_terms, merge_sums, finish, dx_rows);
        });
      });
    } else {
      if (train || plan.has_affine()) {
        sum_pass(plan, plan.stat, num_stats, xd, dyd, mean, rstd, unit<T>(), sum_dy.get(), sum_dy_xhat.get());
      }
      for_each_stat(num_stats, finish);
      if (dxd != nullptr) dx_pass(plan, xd, dyd, dxd, mean, rstd, dx_q.get(), dx_c.get(), gamma);
    }
    if (plan.has_affine() && fold.index.empty()) {
      for_each_stat(num_stats, [&](std::size_t o) {
        terms.dbeta_sum[o] = sum_dy[o];
        terms.dgamma_sum[o] = sum_dy_xhat[o];
      });
    } else if (plan.has_affine()) {
      for (std::size_t o = 0; o < num_stats; ++o) {  // in statistic order: deterministic
        terms.dbeta_sum[fold.index[o]] += sum_dy[o];
        terms.dgamma_sum[fold.index[o]] += sum_dy_xhat[o];
      }
    }
  } else if (plan.stat.s_stride == 0 && plan.param.s_stride == 0) {
    // gamma is one value per run but varies inside a statistic group
    // (GroupNorm's (C) parameters): one read of x and dy gives per run
    // sum_run(dy) and sum_run(dy * xhat); gamma is constant on a run, so
    //   sum_S(g) = sum over the statistic's runs of gamma(run) * sum_run(dy)
    //   sum_S(g * xhat) = the same with sum_run(dy * xhat),
    // and dbeta, dgamma are the runs' sums added up per parameter (all in
    // run order: deterministic). Then dx: two passes instead of three, and
    // one where a statistic's runs fit in cache (fused: the same sums in the
    // same order, so the same bits).
    const Dims& dims = plan.dims;
    const std::size_t runs = dims.n * dims.c;
    Buffer run_dy = buffer(runs), run_dy_xhat = buffer(runs);  // (N*C)
    auto gamma_of_run = [&](std::size_t r) { return double(gamma.data[gamma.map.base(r / dims.c, r % dims.c)]); };
    // Statistic o's terms from its runs' sums (its runs ascend in `runs_of_o`), then dx's fold.
    auto finish = [&](std::size_t o, const std::size_t* runs_of_o, std::size_t count) {
      double sum_g = 0.0, sum_gx = 0.0;
      for (std::size_t i = 0; i < count; ++i) {
        const double g = gamma_of_run(runs_of_o[i]);
        sum_g += g * run_dy[runs_of_o[i]];
        sum_gx += g * run_dy_xhat[runs_of_o[i]];
      }
      mean_g[o] = train ? sum_g / m : 0.0;
      mean_gx[o] = train ? sum_gx / m : 0.0;
      fold_dx(o);
    };
    const RunGroups groups = group_runs(dims, plan.stat);
    if (dxd != nullptr && fuses(plan, 2 * sizeof(T), followed_maps(plan, gamma))) {
      with_sum_terms(plan, xd, dyd, mean, rstd, unit<T>(), [&](const auto& sum_terms) {
        with_dx_rows(plan, xd, dyd, dxd, mean, rstd, dx_q.get(), dx_c.get(), gamma, [&](const auto& dx_rows) {
          fused_run_sums(groups, dims, sum_terms, merge_sums, run_dy.get(), run_dy_xhat.get(), [&](std::size_t g) {
            finish(groups.base[g], &groups.run[groups.offset[g]], groups.offset[g + 1] - groups.offset[g]);
            apply_group_runs(groups, g, dims.s(), dx_rows);
          });
        });
      });
    } else {
      const IndexMap per_run{.n_stride = dims.c, .group_stride = 0, .channel_stride = 1, .s_stride = 0,
                             .channels_per_group = dims.c};  // run r = n * C + c
      sum_pass(plan, per_run, runs, xd, dyd, mean, rstd, unit<T>(), run_dy.get(), run_dy_xhat.get());
      for_each_stat(groups.size(), [&](std::size_t g) {
        finish(groups.base[g], &groups.run[groups.offset[g]], groups.offset[g + 1] - groups.offset[g]);
      });
      if (dxd != nullptr) dx_pass(plan, xd, dyd, dxd, mean, rstd, dx_q.get(), dx_c.get(), gamma);
    }
    for (std::size_t r = 0; r < runs; ++r) {
      const std::size_t p = gamma.map.base(r / dims.c, r % dims.c);
      terms.dbeta_sum[p] += run_dy[r];
      terms.dgamma_sum[p] += run_dy_xhat[r];
    }
  } else {
    // gamma varies along s inside a statistic group (e.g. LayerNorm's
    // (C,H,W) parameters): one pass for the statistic sums of g, one for the
    // parameter sums of dy, then dx.
    if (train) sum_pass(plan, plan.stat, num_stats, xd, dyd, mean, rstd, gamma, mean_g, mean_gx);
    for_each_stat(num_stats, [&](std::size_t o) {
      mean_g[o] = train ? mean_g[o] / m : 0.0;
      mean_gx[o] = train ? mean_gx[o] / m : 0.0;
      fold_dx(o);
    });
    sum_pass(plan, plan.param, num_params, xd, dyd, mean, rstd, unit<T>(), terms.dbeta_sum.data(),
             terms.dgamma_sum.data());
    if (dxd != nullptr) dx_pass(plan, xd, dyd, dxd, mean, rstd, dx_q.get(), dx_c.get(), gamma);
  }
  return terms;
}

}  // namespace

template <class T>
Gradients<T> backward_into(const MethodPlan& plan, Mode mode, const T* xd, const T* dyd, const Params<T>& params,
                           const Statistics& stats, double eps, T* dxd) {  // xd, dyd, dxd: (N, C, H, W)
  const BackwardTerms terms = backward_sums(plan, mode, xd, dyd, params, stats, eps, dxd);
  Gradients<T> grads;  // dx: written into dxd
  if (plan.has_affine()) {
    grads.dgamma = make_like<T>(plan.param_shape);
    grads.dbeta = make_like<T>(plan.param_shape);
    for (std::size_t i = 0; i < plan.num_params; ++i) {
      grads.dgamma.data()[i] = T(terms.dgamma_sum[i]);
      grads.dbeta.data()[i] = T(terms.dbeta_sum[i]);
    }
  }
  return grads;
}

template <class T>
BackwardTerms backward_terms(const MethodPlan& plan, Mode mode, const T* x, const T* dy, const Params<T>& params,
                             const Statistics& stats, double eps) {  // x, dy: (N, C, H, W)
  return backward_sums<T>(plan, mode, x, dy, params, stats, eps, nullptr);
}

template <class T>
struct FixedNormalize<T>::State {
  MethodPlan plan;
  Params<T> params;           // a copy: gamma_e and beta_e point into it
  std::unique_ptr<NormalizeCoefficients<T>> k;  // (num_stats) shift, a, b (gamma, beta folded where they fold)
  Source<T> gamma_e, beta_e;  // gamma, beta per element (unit, zero where they fold)
};

template <class T>
FixedNormalize<T>::FixedNormalize(const MethodPlan& plan, const Statistics& stats, const Params<T>& params,
                                  double eps)
    : state_(std::make_unique<State>()) {
  check_statistics(plan, stats, "statistics");
  if (plan.stat.n_stride != 0) {
    throw Error("internal: FixedNormalize needs statistics without an N axis (method " + plan.method.id + ")");
  }
  State& s = *state_;
  s.plan = plan;
  s.params = params;
  auto [gamma, beta] = param_sources(plan, s.params);
  const GammaFold<T> fold(plan, gamma, beta);
  s.k = std::make_unique<NormalizeCoefficients<T>>(plan.num_stats);
  for_each_stat(plan.num_stats,
                [&](std::size_t o) { fold.set_coefficients(*s.k, o, stats.mean[o], stats.var[o], eps); });
  s.gamma_e = fold.per_element();
  s.beta_e = fold.per_element_beta();
}

template <class T>
FixedNormalize<T>::~FixedNormalize() = default;

template <class T>
void FixedNormalize<T>::apply(const T* x, std::size_t count, T* y) const {  // x, y: (count, C, H, W)
  const State& s = *state_;
  // The same maps on a batch of `count`: no map has an N axis but the
  // elements', so the pass is normalize_sources's on fewer samples.
  MethodPlan piece = s.plan;
  piece.dims.n = count;
  normalize_pass(piece, x, y, *s.k, s.gamma_e, s.beta_e);
}

Statistics update_running(const MethodPlan& plan, const Statistics& running, const Statistics& batch,
                          double momentum) {
  check_statistics(plan, running, "running statistics");
  check_statistics(plan, batch, "batch statistics");
  check_running_update(plan);
  const double m = double(plan.elements_per_stat);
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
  template Statistics batch_statistics_at<T>(const MethodPlan&, const T*);                                    \
  template Array<T> normalize<T>(const MethodPlan&, const Array<T>&, const Statistics&, const Params<T>&,      \
                                 double);                                                                 \
  template Array<T> forward_train<T>(const MethodPlan&, const Array<T>&, const Params<T>&, double,             \
                                     Statistics*);                                                        \
  template Array<T> forward_eval<T>(const MethodPlan&, const Array<T>&, const Params<T>&, const Statistics&,   \
                                    double);                                                              \
  template Gradients<T> backward<T>(const MethodPlan&, Mode, const Array<T>&, const Array<T>&,                 \
                                    const Params<T>&, const Statistics&, double);                         \
  template Statistics forward_train_into<T>(const MethodPlan&, const T*, const Params<T>&, double, T*);       \
  template void normalize_into<T>(const MethodPlan&, const T*, const Statistics&, const Params<T>&, double,   \
                                  T*);                                                                    \
  template Gradients<T> backward_into<T>(const MethodPlan&, Mode, const T*, const T*, const Params<T>&,       \
                                         const Statistics&, double, T*);                                  \
  template BackwardTerms backward_terms<T>(const MethodPlan&, Mode, const T*, const T*, const Params<T>&,     \
                                           const Statistics&, double);

BNLAB_INSTANTIATE_ENGINE(float)
BNLAB_INSTANTIATE_ENGINE(double)
template class FixedNormalize<float>;
template class FixedNormalize<double>;

}  // namespace bnlab
