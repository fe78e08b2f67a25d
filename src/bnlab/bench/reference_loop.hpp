#pragma once
// The plain reference kernel `bnlab bench` times beside the engine: what a
// straightforward OpenMP loop does with the same work, measured in the same
// run, so that kernel time / reference time shows at once when the engine's
// kernels fall behind plain code on a new CPU (its own compiler output, not
// the memory system, is then to blame).
//
// The loops are the obvious ones, written once for any method from its
// statistic map (MethodPlan::stat), with the identity affine parameters bench
// uses (gamma = 1, beta = 0):
//   forward   per statistic: sum x and sum x^2 in double (one read of x),
//             then y = a * x + b with float a = rstd, b = -mean * rstd (FMA);
//             where gamma, beta vary along a run inside a statistic (ln's
//             (C, H, W)) they cannot fold into a, b, and y = gamma * (a * x +
//             b) + beta reads them per element (the engine must too)
//   backward  per statistic: sum dy and sum dy * (x - mean) in double, then
//             dx = k1 * (dy - k2 - (x - mean) * k3) in float; and the
//             parameter gradients the engine's backward also returns,
//             dgamma = sum dy * xhat and dbeta = sum dy over the axes gamma
//             lacks: from the statistics' sums where gamma has the
//             statistic's axes (methods 1, 2, 3), from per-run sums where it
//             is one value per run (in, gn: (C)), else by a pass of their own
//             (ln: (C, H, W), summed over N)
//   eval      y = a * x + b, a and b computed from the statistics of the
//             last forward (standing in for running statistics) on every
//             call, as an eval-mode forward must
// Inner-shape statistics (constant along a run: methods 3, ln, in, gn) go
// as the hand-written Method 3 probe does: threads take whole statistics,
// sum their runs, then write their y (or dx) while the runs are still in
// cache. Leading-shape ones (methods 1, 2) are summed by blocks of s in
// parallel, each block walking every run, then y (dx) is written run by run. The variance as E[x^2] - E[x]^2 is fine for bench's
// data (values in [-1.5, 2.5]) and for timing; the engine itself never uses it.
//
// Shapes: x, y, dy, dx: (N, C, H, W) float32; statistics: (num_stats).
#include <vector>

#include "bnlab/engine/method.hpp"

namespace bnlab {

class ReferenceLoop {
 public:
  explicit ReferenceLoop(const MethodPlan& plan, double eps = 1e-5);

  // Train-mode forward: the batch statistics (kept), then y.
  void forward(const float* x, float* y);
  // Train-mode backward of the last forward (its statistics): dx, and
  // dgamma, dbeta (num_params each, the method's natural parameter shape).
  void backward(const float* x, const float* dy, float* dx, float* dgamma, float* dbeta);
  // Eval-mode forward with the statistics of the last forward.
  void eval_forward(const float* x, float* y);

  const std::vector<double>& mean() const { return mean_; }  // (num_stats)
  const std::vector<double>& var() const { return var_; }    // (num_stats) biased

 private:
  // dgamma, dbeta of the backward that has just computed its sums.
  void parameter_gradients(const float* x, const float* dy, float* dgamma, float* dbeta);
  // y = a * x + b with the current a_, b_.
  void apply(const float* x, float* y) const;

  MethodPlan plan_;
  double eps_;
  std::vector<double> mean_, var_;          // (num_stats)
  std::vector<float> a_, b_;                // (num_stats) y = a * x + b
  std::vector<float> gamma_, beta_;         // (num_params) identity, where they vary along a run; else empty
  std::vector<double> sum_a_, sum_b_;       // (num_stats) scratch for the leading shape's sums
  std::vector<double> run_dy_, run_dyx_;    // (N*C) per run: sum dy, sum dy * (x - mean) (inner shape)
};

}  // namespace bnlab
