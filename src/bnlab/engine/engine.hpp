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
// accumulation is in double; the variance is computed from centred values.
// reference.hpp computes the same plainly in float64 (the tests hold this
// engine to it); engine_choice.hpp runs either behind one float32 API.
#include <cstddef>
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

// dx of one element of statistic o, with gamma its parameter (1 for affine
// none): the arithmetic of backward's dx pass, in double, rounded once to T,
// so the same bits as backward_into's dx (fp-contract is off):
//   xhat = (x - mean) * rstd;  dx = rstd * ((gamma * dy - mean_g) - xhat * mean_gx)
template <class T>
inline T dx_element(const BackwardTerms& terms, std::size_t o, double mean, double gamma, T x, T dy) {
  const double rstd = terms.rstd[o];
  const double xhat = (double(x) - mean) * rstd;
  return T(rstd * ((gamma * double(dy) - terms.mean_g[o]) - xhat * terms.mean_gx[o]));
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
