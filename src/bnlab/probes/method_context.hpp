#pragma once
// What the probes of one method share, computed once per report instead of
// once per probe (compare.cpp builds it; the probes read it):
//   stats  the batch statistics of x (one pass over x)
//   base   f(x): the train-mode output at kEpsConstantSafe with gamma = 1,
//          beta = 0, the reference every invariance and sample measurement
//          compares against (and exactly probe_channel_standardization's
//          output); filled by compute_base, a normalize pass with `stats`
//          (the same bits as forward_train: train mode is normalize with the
//          batch statistics)
//
// Shapes (legend: N batch, C channels, H, W spatial):
//   x, base: (N, C, H, W) float32; stats: (num_stats).
#include <cstddef>
#include <limits>

#include "bnlab/core/tensor.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/engine/method.hpp"

namespace bnlab {

// The eps of the invariance and standardization measurements: the smallest
// normal double (2.2e-308). var + eps == var exactly for every variance above
// about 1e-292, so a non-constant statistic is normalized exactly as with
// eps = 0 (no blur of the choice of axes by eps / var); a constant statistic
// (var = 0, x - mean = 0 exactly) gets 0 * 1/sqrt(eps) = 0 instead of NaN.
inline constexpr double kEpsConstantSafe = std::numeric_limits<double>::min();

struct MethodContext {
  MethodPlan plan;
  Statistics stats;                     // (num_stats) batch mean and biased variance of x
  std::size_t constant_statistics = 0;  // statistics of x with zero variance
  Array<float> base;                    // (N, C, H, W) f(x) as above; empty until compute_base
};

// The plan's context without its base: checks x against the plan and that
// train mode is defined (plan.elements_per_stat >= 2), naming `probe`, then
// takes the batch statistics. Throws bnlab::Error.
MethodContext method_context(const MethodPlan& plan, const Array<float>& x, const char* probe = "probe");

// Fills context.base, reusing `buffer`'s memory when it has x's shape (a
// previous method's base: no allocation, no fresh pages).
void compute_base(MethodContext& context, const Array<float>& x, Array<float> buffer = {});

}  // namespace bnlab
