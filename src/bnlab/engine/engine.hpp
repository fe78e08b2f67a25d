#pragma once
// The normalization engine: one implementation for every method, driven by
// the method's MethodPlan (reduction axes + parameter axes).
//
// Shapes (legend: N batch, C channels, H, W spatial):
//   x, y, dy, dx:            (N, C, H, W)
//   gamma, beta, d*:         plan.param_shape (empty arrays for affine none)
//   Statistics mean/var:     plan.stat_shape, flattened row-major (num_stats)
//
// Conventions (PyTorch's): training uses the biased batch variance; the
// running statistics take the unbiased one; eval mode uses running statistics.
// Storage is T (float, or double for finite-difference checks); every
// accumulation is in double; the variance is computed from values centred
// on a pivot within the data (a chunk's first value, or the running mean).
// reference.hpp computes the same plainly in float64 (the tests hold this
// engine to it); engine_choice.hpp runs either behind one float32 API.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <memory>
#include <vector>

#include "bnlab/engine/method.hpp"
#include "bnlab/core/tensor.hpp"

namespace bnlab {

enum class Mode { train, eval };

struct Statistics {
  std::vector<double> mean;  // (num_stats)
  std::vector<double> var;   // (num_stats) biased (batch) or running variance
};

template <class T>
struct Params {
  Array<T> gamma;  // plan.param_shape
  Array<T> beta;   // plan.param_shape
};

template <class T>
struct Gradients {
  Array<T> dx;      // (N, C, H, W)
  Array<T> dgamma;  // plan.param_shape (empty for affine none)
  Array<T> dbeta;   // plan.param_shape (empty for affine none)
};

// gamma = 1, beta = 0 in the plan's parameter shape (empty for affine none).
template <class T>
Params<T> identity_params(const MethodPlan& plan);

// Batch mean and biased variance per statistic. Throws Error if the input's
// shape does not match the plan.
template <class T>
Statistics batch_statistics(const MethodPlan& plan, const Array<T>& x);

// y = (x - mean) / sqrt(var + eps) * gamma + beta, with the given statistics
// (batch statistics in train mode, running statistics in eval mode).
template <class T>
Array<T> normalize(const MethodPlan& plan, const Array<T>& x, const Statistics& stats,
                   const Params<T>& params, double eps);

// Train mode: y and the batch statistics. Throws Error when a statistic has a
// single element (the variance of one value is not defined; PyTorch refuses too).
template <class T>
Array<T> forward_train(const MethodPlan& plan, const Array<T>& x, const Params<T>& params, double eps,
                       Statistics* batch_out);

// Eval mode: y from running statistics. Only for batch-dependent methods.
template <class T>
Array<T> forward_eval(const MethodPlan& plan, const Array<T>& x, const Params<T>& params,
                      const Statistics& running, double eps);

// dx, dgamma, dbeta. `stats` are the statistics the forward used: batch
// statistics in train mode (dx includes the path through mean and variance),
// running statistics in eval mode (dx = gamma * dy / sqrt(var + eps)).
template <class T>
Gradients<T> backward(const MethodPlan& plan, Mode mode, const Array<T>& x, const Array<T>& dy,
                      const Params<T>& params, const Statistics& stats, double eps);

// ---- on a caller's buffer: no allocation; x, y, dy, dx hold plan.dims.count() ----
// elements, row-major (N, C, H, W). The output may be the input itself (y == x,
// dx == dy): every pass reads element i before it writes element i, and a
// statistic's elements are all read before any of them is written. Same
// arithmetic and bits as the Array versions above (which call these).

// batch_statistics of the tensor at x (e.g. the leading samples of a larger one).
template <class T>
Statistics batch_statistics_at(const MethodPlan& plan, const T* x);

// forward_train writing y; returns the batch statistics.
template <class T>
Statistics forward_train_into(const MethodPlan& plan, const T* x, const Params<T>& params, double eps, T* y);

// normalize writing y (stats: plan.num_stats entries each; no mode check).
template <class T>
void normalize_into(const MethodPlan& plan, const T* x, const Statistics& stats, const Params<T>& params, double eps,
                    T* y);

// backward writing dx; returns dgamma and dbeta (its dx is left empty).
template <class T>
Gradients<T> backward_into(const MethodPlan& plan, Mode mode, const T* x, const T* dy, const Params<T>& params,
                           const Statistics& stats, double eps, T* dx);

// What backward's dx is made of, per statistic o (num_stats entries each):
//   rstd[o] = 1 / sqrt(var[o] + eps), mean_g[o] = mean_S(gamma * dy),
//   mean_gx[o] = mean_S(gamma * dy * xhat) (both 0 in eval mode);
// and the parameter sums dgamma_sum = sum dy * xhat, dbeta_sum = sum dy
// (plan.num_params entries; 0 for affine none). One element's dx is then
// dx_element below: a caller that only reduces over dx (compare's gradients
// probe) gets backward's dx values without a tensor to hold them.
struct BackwardTerms {
  std::vector<double> rstd, mean_g, mean_gx;  // (num_stats)
  std::vector<double> dgamma_sum, dbeta_sum;  // (num_params)
};

// backward's sums without dx: one read of x and dy (two when gamma varies
// inside a statistic group). The same bits as the terms backward_into uses.
template <class T>
BackwardTerms backward_terms(const MethodPlan& plan, Mode mode, const T* x, const T* dy, const Params<T>& params,
                             const Statistics& stats, double eps);

// The normalization of one element, folded per statistic (the engine's
// normalize pass, engine/detail/kernels.hpp, and the probes' transformed
// forward both use it, so their outputs are the same bits):
//   y = (x - mean) * scale + beta  =  (x - shift) * a + b,
//   shift = T(mean),  a = T(scale),  b = T(beta - (mean - shift) * scale),
// scale = rstd * gamma and beta where the parameters fold into the
// statistic (constant on its group), else scale = rstd, beta = 0 and the
// element's own gamma, beta are applied by `normalized`:
//   y = fma(x - shift, a * gamma, fma(b, gamma, beta))   in T
// (gamma = 1, beta = 0 where they fold: then y = fma(x - shift, a, b)).
// x - shift is exact near the mean (Sterbenz), so data with a large common
// offset keeps its precision; the part of the mean T drops is in b.
// A finite scale beyond T's range is clamped to T's largest value: it
// arises for a constant statistic at a vanishing eps (the probes run at the
// smallest normal double: rstd ~ 7e153), where x - shift is exactly 0 (the
// mean of equal values is that value), so y = b = beta, as double arithmetic
// (0 * 7e153) gives, where T(scale) = inf would give 0 * inf = NaN. (Only a
// non-constant statistic with a spread below T's smallest normal numbers,
// i.e. denormal float data, would need more than T's range.)
template <class T>
struct NormalizeFold {
  T shift, a, b;
};
template <class T>
inline NormalizeFold<T> normalize_fold(double mean, double scale, double beta) {
  constexpr double kMax = double(std::numeric_limits<T>::max());
  const T shift = T(mean);
  return {shift, T(std::isfinite(scale) ? std::clamp(scale, -kMax, kMax) : scale),
          T(beta - (mean - double(shift)) * scale)};
}
template <class T>
inline T normalized(T x, T shift, T a, T b, T gamma, T beta) {
  return std::fma(x - shift, a * gamma, std::fma(b, gamma, beta));
}

// backward's dx, folded per statistic. With g = gamma * dy and
// xhat = (x - mean) * rstd,
//   dx = rstd * ((g - mean_g) - xhat * mean_gx)
//      = (rstd * gamma) * dy  -  rstd * mean_g  -  rstd^2 * mean_gx * (x - mean)
//      = (rstd * gamma) * dy + q * (x - mean) + c,
//   q = -rstd^2 * mean_gx,  c = -rstd * mean_g   (both 0 in eval mode).
// dx_folded evaluates it with two explicit FMAs in double (one rounding
// each: the same bits on every x86-64 machine, -ffp-contract=off or not) and
// rounds once to T. The engine's dx pass and dx_element both call it.
struct DxFold {
  double q, c;
};
inline DxFold dx_fold(double rstd, double mean_g, double mean_gx) { return {-(rstd * rstd) * mean_gx, -rstd * mean_g}; }
template <class T>
inline T dx_folded(double rstd_gamma, double q, double c, double mean, T x, T dy) {
  return T(std::fma(rstd_gamma, double(dy), std::fma(q, double(x) - mean, c)));
}

// dx of one element of statistic o, with gamma its parameter (1 for affine
// none): backward's dx pass for that element (dx_fold, dx_folded), so the
// same bits as backward_into's dx.
template <class T>
inline T dx_element(const BackwardTerms& terms, std::size_t o, double mean, double gamma, T x, T dy) {
  const double rstd = terms.rstd[o];
  const DxFold k = dx_fold(rstd, terms.mean_g[o], terms.mean_gx[o]);
  return dx_folded(rstd * gamma, k.q, k.c, mean, x, dy);
}

// normalize with fixed statistics that have no N axis (methods 1, 2, 3:
// running statistics, or a whole batch's), prepared once (the factor
// 1/sqrt(var + eps) per statistic, folded with gamma) and applied to a few
// samples at a time: a reference output computed in pieces costs one pass
// over them, not one factor per statistic per piece. Same bits as normalize.
template <class T>
class FixedNormalize {
 public:
  // Throws Error when the statistics have an N axis or the wrong size, or
  // the parameters the wrong shape.
  FixedNormalize(const MethodPlan& plan, const Statistics& stats, const Params<T>& params, double eps);
  ~FixedNormalize();
  FixedNormalize(const FixedNormalize&) = delete;
  FixedNormalize& operator=(const FixedNormalize&) = delete;
  // y = normalize(x) for `count` samples: x, y: (count, C, H, W) (y may be x).
  void apply(const T* x, std::size_t count, T* y) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// running <- (1 - momentum) * running + momentum * batch, using the unbiased
// batch variance var * m / (m - 1), m = elements per statistic.
Statistics update_running(const MethodPlan& plan, const Statistics& running, const Statistics& batch,
                          double momentum);

// ---- the checks every engine makes (engine.cpp and reference.cpp); each throws Error ----

// Checks that an array has the expected shape; `what` names the culprit.
void require_shape(const std::vector<std::size_t>& got, const std::vector<std::size_t>& expected,
                   const std::string& what);
// A feature map of the plan's (N, C, H, W); `what` names it ("input", "dy").
void check_input(const MethodPlan& plan, const Shape& shape, const std::string& what);
// mean and var of plan.num_stats entries each; `what` names them.
void check_statistics(const MethodPlan& plan, const Statistics& stats, const std::string& what);
// gamma and beta in plan.param_shape (call only for a plan with affine parameters).
void check_params(const MethodPlan& plan, const Shape& gamma, const Shape& beta);
// Train mode needs more than one value per statistic (PyTorch refuses one too).
void check_train_mode(const MethodPlan& plan);
// Eval mode needs running statistics: methods 1, 2, 3 only.
void check_eval_mode(const MethodPlan& plan);
// The unbiased variance m / (m - 1) needs m > 1.
void check_running_update(const MethodPlan& plan);

}  // namespace bnlab
