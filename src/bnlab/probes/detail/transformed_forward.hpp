#pragma once
// The train-mode forward of a transformed input x' = T(x), computed from x
// element by element while it is compared against a reference, and never
// written to memory. The invariance probe needs f(T(x)) for 13 transforms per
// method; materializing each one (write T(x), take its statistics, normalize
// it, compare: seven passes over an input-sized tensor, three of them
// writes) was most of `compare`'s time. Here all of them together read x
// and the reference about twice (see Passes below).
//
// Shapes (legend: N batch, C channels, H, W spatial, S = H*W):
//   x, x', reference: (N, C, H, W) float32; scale, offset: (C);
//   statistics: (num_stats); gamma, beta: plan.param_shape.
//
// Transforms:
//   circular   x'[n, c, h, w] = x[n, c, (h - dh) mod H, (w - dw) mod W] for the
//              samples n in [changed_begin, changed_end); the others unchanged.
//   translate  x'[n, c, h, w] = x[n, c, h - dh, w - dw] where h >= dh and w >= dw,
//              else 0; every sample (zero-filled, not circular).
//   rescale    x'[n, c] = float(a_c * x[n, c] + b_c), a = scale, b = offset.
//   sample_scale  x'[n] = float(k * x[n]) for the samples n in [changed_begin,
//              changed_end) (k = factor); the others unchanged.
// Each element of x' that is not a fill zero has a source position q in x:
// the element x' copies (or rescales). The comparisons pair the output at
// each such p with the reference at its q (a translation's fill positions
// are left out; where a transform keeps the positions, q = p). They are summed run by run (8 lanes, added in lane order, then
// the runs in run order) in source order (q ascending): a run is normalized
// as it lies in x, and where the statistics or the parameters follow s
// (Methods 1, 2; ln's parameters) their entries at each value's destination
// p are put in source order first (the statistics once per group and
// transform, trained-like parameters per run), so nothing input-sized is
// gathered.
//
// The output is the engine's normalization, element by element
// (normalize_fold and normalized, engine.hpp, as NormalizeRows uses them,
// with gamma and beta folded into the statistic's coefficients where the
// engine folds them):
//   (shift, a, b) = normalize_fold(mean[o], rstd[o] * gamma[k], beta[k])  (folded)
//                or normalize_fold(mean[o], rstd[o], 0), then gamma[k], beta[k] per element
//   rstd[o] = 1 / sqrt(var[o] + eps),
// o and k the statistic and parameter of position p (plan.stat, plan.param).
// Given the same statistics it is the engine's output, bit for bit
// (test_transformed_forward). With gamma = 1, beta = 0 the comparisons use
// fma(v - shift, a, b), the same value bar the sign of a zero.
//
// Statistics of x': the mean and biased variance per statistic, in double,
// about a pivot k, the statistic's first value in x' (the shifted-data
// algorithm):
//   s1 = sum (v - k),  s2 = sum (v - k)^2  over the m values v of the statistic,
//   mean = k + s1 / m,  var = s2 / m - (s1 / m)^2   (clamped at 0)
// which is the centred variance up to rounding while k is within a few
// standard deviations of the mean (the cancellation costs (mean - k)^2 / var
// of double's precision), in one read of x instead of two. A statistic whose
// values are all equal (a constant channel, or the zeros a translation fills
// in) gets mean = that value and var = 0 exactly, as from the engine. The
// statistics differ from the engine's for a materialized x' at rounding
// level only (another summation order), and so do the errors.
//
// Passes: every transform keeps each run (n, c) in its statistic group (the
// runs that share a statistic base: a channel for Method 3, a channel's
// (H, W) entries for Method 2, every run for Method 1), so the work goes
// group by group: the statistics of every transform from the group's runs
// (each run read once, then transformed in cache; where the statistics follow
// s, a transform that moves every sample alike takes the identity's sums at
// its sources, the very same additions), then every comparison.
// A group's data is read twice, from memory or, for a group that fits, from
// the cache; nothing is written but per-run sums.
//
// Determinism: sums go into fixed work items (a group's runs cut into
// chunks by the shape alone; each comparison's per-run partial, its 8
// lanes added in lane order) that are added in a fixed order: the same bits
// whatever the thread count.
#include <cstddef>
#include <vector>

#include "bnlab/engine/engine.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/probes/detail/probe_util.hpp"

namespace bnlab::probe {

struct InputTransform {
  enum class Kind { circular, translate, rescale, sample_scale };
  Kind kind = Kind::circular;
  Shift shift{};                                   // circular, translate
  std::size_t changed_begin = 0, changed_end = 0;  // circular, sample_scale: the samples changed
  std::vector<double> scale{}, offset{};           // rescale: a_c, b_c, (C)
  double factor = 1.0;                             // sample_scale: k

  static InputTransform identity();  // x' = x (a circular shift of no sample)
  static InputTransform circular(Shift shift, std::size_t n_begin, std::size_t n_end);
  static InputTransform translate(Shift shift);
  static InputTransform rescale(std::vector<double> scale, std::vector<double> offset);
  static InputTransform scale_samples(double factor, std::size_t n_begin, std::size_t n_end);
};

// The batch mean and biased variance of each T(x) per statistic of the
// plan, in one read of x. x: (N, C, H, W); one Statistics (num_stats) per transform.
std::vector<Statistics> transformed_statistics(const MethodPlan& plan, const float* x,
                                               const std::vector<InputTransform>& transforms);

// One comparison: f(T(x)) = normalize(T(x)) with T(x)'s batch statistics and
// `params` at eps, on the samples n in [n_begin, n_end), against either a
// reference tensor (e.g. f(x), (N, C, H, W)) or, when reference is null,
// normalize(x) with x's statistics (x_stats), the same params and eps;
// both read at the source position. The relative L2 error goes into *acc.
// output_stats (e.g. running statistics: eval mode) replace T(x)'s batch
// statistics for f(T(x)); reference_stats replace x's for the computed
// reference. When no comparison needs T(x)'s own statistics they are not
// taken (one read of x less).
struct TransformedComparison {
  std::size_t transform = 0;  // index into the transforms
  std::size_t n_begin = 0, n_end = 0;
  const Params<float>* params = nullptr;
  const float* reference = nullptr;  // (N, C, H, W), or null
  RelL2* acc = nullptr;
  const Statistics* output_stats = nullptr;     // (num_stats), or null: T(x)'s batch statistics
  const Statistics* reference_stats = nullptr;  // (num_stats), or null: x_stats
};

// Every comparison, with the statistics of every transform, group by group
// (see Passes above). x: (N, C, H, W); x_stats: x's batch statistics (num_stats).
void compare_transformed(const MethodPlan& plan, const float* x, const Statistics& x_stats, double eps,
                         const std::vector<InputTransform>& transforms,
                         const std::vector<TransformedComparison>& comparisons);

// f(T(x)) of one run (n, c), in destination order, normalized with `stats`
// (T(x)'s batch statistics, e.g. from transformed_statistics) and `params`
// at eps; fill positions get the output of a 0.  x: (N, C, H, W); out: (H, W)
void transformed_run_output(const MethodPlan& plan, const float* x, const InputTransform& transform,
                            const Statistics& stats, const Params<float>& params, double eps, std::size_t n,
                            std::size_t c, float* out);

}  // namespace bnlab::probe
