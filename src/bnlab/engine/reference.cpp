// The reference engine (see reference.hpp): each function is its formula,
// looped over every element in memory order, in double.
#include "bnlab/engine/reference.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

namespace bnlab::reference {
namespace {

// Where element (n, c, h, w) belongs, restated from the method's axes rather
// than taken from the fast engine's index maps:
//   its statistic: a row-major index over the axes the method keeps, in the
//     order N, G (channel group, GroupNorm), C, H, W, as plan.stat_shape;
//   its parameter: a row-major index over plan.param_axes() (C, then H, W).
struct Keys {
  const MethodPlan& plan;
  bool param_c, param_s;

  explicit Keys(const MethodPlan& p) : plan(p) {
    const std::vector<std::string> axes = p.param_axes();
    param_c = std::find(axes.begin(), axes.end(), "C") != axes.end();
    param_s = std::find(axes.begin(), axes.end(), "H") != axes.end();
  }

  std::size_t stat(std::size_t n, std::size_t c, std::size_t h, std::size_t w) const {
    const Method& m = plan.method;
    const Dims& d = plan.dims;
    std::size_t key = 0;
    if (!m.reduce_n) key = key * d.n + n;
    if (m.groups) key = key * m.groups + c / (d.c / m.groups);
    if (!m.reduce_c) key = key * d.c + c;
    if (!m.reduce_s) key = (key * d.h + h) * d.w + w;
    return key;
  }

  std::size_t param(std::size_t c, std::size_t h, std::size_t w) const {
    const Dims& d = plan.dims;
    std::size_t key = 0;
    if (param_c) key = key * d.c + c;
    if (param_s) key = (key * d.h + h) * d.w + w;
    return key;
  }
};

// f(n, c, h, w, i) for every element, i = ((n*C + c)*H + h)*W + w.
template <class F>
void for_each_element(const Dims& d, F f) {
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t c = 0; c < d.c; ++c)
      for (std::size_t h = 0; h < d.h; ++h)
        for (std::size_t w = 0; w < d.w; ++w) f(n, c, h, w, ((n * d.c + c) * d.h + h) * d.w + w);
}

// gamma_p and beta_p, or 1 and 0 for affine none.
struct Affine {
  const Params<double>& params;
  bool on;
  double gamma(std::size_t p) const { return on ? params.gamma.data()[p] : 1.0; }
  double beta(std::size_t p) const { return on ? params.beta.data()[p] : 0.0; }
};

Affine affine_of(const MethodPlan& plan, const Params<double>& params) {
  if (plan.has_affine()) check_params(plan, shape_of(params.gamma), shape_of(params.beta));
  return {params, plan.has_affine()};
}

Array<double> feature_map(const Dims& d) { return Array<double>::from_shape(d.to_vector()); }  // (N, C, H, W)

}  // namespace

Statistics batch_statistics(const MethodPlan& plan, const Array<double>& x) {
  check_input(plan, shape_of(x), "input");
  const Keys key(plan);
  const double m = double(plan.elements_per_stat);
  Statistics st{std::vector<double>(plan.num_stats, 0.0), std::vector<double>(plan.num_stats, 0.0)};  // (num_stats)
  // mean_k = (1/m) sum_{S_k} x
  for_each_element(plan.dims, [&](auto n, auto c, auto h, auto w, auto i) { st.mean[key.stat(n, c, h, w)] += x.data()[i]; });
  for (double& mean : st.mean) mean /= m;
  // var_k = (1/m) sum_{S_k} (x - mean_k)^2: from centred values, exact for a large common offset.
  for_each_element(plan.dims, [&](auto n, auto c, auto h, auto w, auto i) {
    const std::size_t k = key.stat(n, c, h, w);
    const double centred = x.data()[i] - st.mean[k];
    st.var[k] += centred * centred;
  });
  for (double& var : st.var) var /= m;
  return st;
}

Array<double> normalize(const MethodPlan& plan, const Array<double>& x, const Statistics& stats,
                        const Params<double>& params, double eps) {
  check_input(plan, shape_of(x), "input");
  check_statistics(plan, stats, "statistics");
  const Keys key(plan);
  const Affine affine = affine_of(plan, params);
  Array<double> y = feature_map(plan.dims);  // (N, C, H, W)
  // xhat = (x - mean_k) / sqrt(var_k + eps),  y = gamma_p * xhat + beta_p
  for_each_element(plan.dims, [&](auto n, auto c, auto h, auto w, auto i) {
    const std::size_t k = key.stat(n, c, h, w), p = key.param(c, h, w);
    const double xhat = (x.data()[i] - stats.mean[k]) / std::sqrt(stats.var[k] + eps);
    y.data()[i] = affine.gamma(p) * xhat + affine.beta(p);
  });
  return y;
}

Array<double> forward_train(const MethodPlan& plan, const Array<double>& x, const Params<double>& params, double eps,
                            Statistics* batch_out) {
  check_train_mode(plan);
  Statistics batch = batch_statistics(plan, x);
  Array<double> y = normalize(plan, x, batch, params, eps);
  if (batch_out) *batch_out = std::move(batch);
  return y;
}

Array<double> forward_eval(const MethodPlan& plan, const Array<double>& x, const Params<double>& params,
                           const Statistics& running, double eps) {
  check_eval_mode(plan);
  check_statistics(plan, running, "running statistics");
  return normalize(plan, x, running, params, eps);
}

// For statistic k with rstd = 1 / sqrt(var_k + eps), xhat_j = (x_j - mean_k) * rstd and
// g_j = gamma_p(j) * dy_j, L depends on x_i through y_j = gamma xhat_j + beta, j in S_k:
//   dx_i = sum_j g_j * dxhat_j/dx_i.
// Train mode: mean_k and var_k depend on x_i too, with dmean/dx_i = 1/m,
// dvar/dx_i = 2 (x_i - mean)/m, so drstd/dx_i = -rstd^2 * xhat_i / m and
//   dxhat_j/dx_i = rstd * (delta_ij - 1/m - xhat_i * xhat_j / m),
//   dx_i = rstd * (g_i - mean_S(g) - xhat_i * mean_S(g * xhat)).
// Eval mode: the statistics are constants, dx_i = rstd * g_i.
// gamma and beta enter linearly: dgamma_p = sum_{p(i) = p} dy_i * xhat_i, dbeta_p = sum_{p(i) = p} dy_i.
Gradients<double> backward(const MethodPlan& plan, Mode mode, const Array<double>& x, const Array<double>& dy,
                           const Params<double>& params, const Statistics& stats, double eps) {
  check_input(plan, shape_of(x), "input");
  check_input(plan, shape_of(dy), "dy");
  check_statistics(plan, stats, "statistics");
  if (mode == Mode::eval) check_eval_mode(plan);
  const Keys key(plan);
  const Affine affine = affine_of(plan, params);
  const double m = double(plan.elements_per_stat);
  std::vector<double> rstd(plan.num_stats);  // (num_stats)
  for (std::size_t k = 0; k < plan.num_stats; ++k) rstd[k] = 1.0 / std::sqrt(stats.var[k] + eps);
  auto xhat_at = [&](std::size_t k, std::size_t i) { return (x.data()[i] - stats.mean[k]) * rstd[k]; };

  // The two reductions: mean_S(g) and mean_S(g * xhat) per statistic (train mode only).
  std::vector<double> mean_g(plan.num_stats, 0.0), mean_gx(plan.num_stats, 0.0);  // (num_stats)
  if (mode == Mode::train) {
    for_each_element(plan.dims, [&](auto n, auto c, auto h, auto w, auto i) {
      const std::size_t k = key.stat(n, c, h, w);
      const double g = affine.gamma(key.param(c, h, w)) * dy.data()[i];
      mean_g[k] += g / m;
      mean_gx[k] += g * xhat_at(k, i) / m;
    });
  }
  // The elementwise pass: dx; and the parameter sums.
  Gradients<double> grads;
  grads.dx = feature_map(plan.dims);                        // (N, C, H, W)
  std::vector<double> dgamma(plan.num_params, 0.0), dbeta(plan.num_params, 0.0);  // param shape
  for_each_element(plan.dims, [&](auto n, auto c, auto h, auto w, auto i) {
    const std::size_t k = key.stat(n, c, h, w), p = key.param(c, h, w);
    const double g = affine.gamma(p) * dy.data()[i], xhat = xhat_at(k, i);
    grads.dx.data()[i] = rstd[k] * (g - mean_g[k] - xhat * mean_gx[k]);
    if (affine.on) {
      dgamma[p] += dy.data()[i] * xhat;
      dbeta[p] += dy.data()[i];
    }
  });
  if (affine.on) {
    grads.dgamma = Array<double>::from_shape(plan.param_shape);
    grads.dbeta = Array<double>::from_shape(plan.param_shape);
    std::copy(dgamma.begin(), dgamma.end(), grads.dgamma.data());
    std::copy(dbeta.begin(), dbeta.end(), grads.dbeta.data());
  }
  return grads;
}

Statistics update_running(const MethodPlan& plan, const Statistics& running, const Statistics& batch,
                          double momentum) {
  check_statistics(plan, running, "running statistics");
  check_statistics(plan, batch, "batch statistics");
  check_running_update(plan);
  const double m = double(plan.elements_per_stat);
  Statistics out{std::vector<double>(plan.num_stats), std::vector<double>(plan.num_stats)};  // (num_stats)
  for (std::size_t k = 0; k < plan.num_stats; ++k) {
    out.mean[k] = (1.0 - momentum) * running.mean[k] + momentum * batch.mean[k];
    out.var[k] = (1.0 - momentum) * running.var[k] + momentum * batch.var[k] * m / (m - 1.0);  // unbiased
  }
  return out;
}

}  // namespace bnlab::reference
