#pragma once
// The readable reference engine: every normalization written out from its
// definition as plain float64 loops over (n, c, h, w), one function per
// formula, with no lanes, tiles, prefetching or fused passes. It computes what
// engine.hpp computes, with the same conventions, checks and output order,
// only slowly (and in double throughout). The tests hold the fast engine to
// it; `bnlab normalize --engine reference` runs it, for a user who wants to
// read what is computed or to cross-check the fast engine on their data.
//
// Shapes (legend: N batch, C channels, H, W spatial):
//   x, y, dy, dx:        (N, C, H, W)
//   gamma, beta, d*:     plan.param_shape (empty arrays for affine none)
//   mean, var:           plan.stat_shape, flattened row-major (num_stats)
//
// Notation: S_k is the set of elements of statistic k (m = plan.elements_per_stat
// of them), p(i) the gamma/beta entry of element i.
#include "bnlab/engine/engine.hpp"

namespace bnlab::reference {

// mean_k = (1/m) sum_{i in S_k} x_i,  var_k = (1/m) sum_{i in S_k} (x_i - mean_k)^2 (biased).
Statistics batch_statistics(const MethodPlan& plan, const Array<double>& x);

// y_i = gamma_p(i) * (x_i - mean_k) / sqrt(var_k + eps) + beta_p(i),  i in S_k.
Array<double> normalize(const MethodPlan& plan, const Array<double>& x, const Statistics& stats,
                        const Params<double>& params, double eps);

// normalize with the batch statistics (returned in *batch_out when given).
Array<double> forward_train(const MethodPlan& plan, const Array<double>& x, const Params<double>& params, double eps,
                            Statistics* batch_out);

// normalize with the running statistics (methods 1, 2, 3 only).
Array<double> forward_eval(const MethodPlan& plan, const Array<double>& x, const Params<double>& params,
                           const Statistics& running, double eps);

// dx, dgamma, dbeta of L with dL/dy = dy (the derivation is in reference.cpp).
Gradients<double> backward(const MethodPlan& plan, Mode mode, const Array<double>& x, const Array<double>& dy,
                           const Params<double>& params, const Statistics& stats, double eps);

// running <- (1 - momentum) * running + momentum * batch, var with Bessel's m / (m - 1).
Statistics update_running(const MethodPlan& plan, const Statistics& running, const Statistics& batch,
                          double momentum);

}  // namespace bnlab::reference
