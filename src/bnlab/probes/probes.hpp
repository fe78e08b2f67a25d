#pragma once
// The measurement probes of `bnlab compare`: each takes a method's MethodPlan
// and an input, runs the engine, and returns a typed result whose fields the
// verdict and the table read; to_json() writes the report block (keys in the
// documented order). Every result carries "notes": strings that explain
// degenerate situations (a constant channel, H = W = 1, a sub-batch).
//
// Shapes (legend: N batch, C channels, H, W spatial):
//   x: (N, C, H, W), float32, row-major; plan.dims must match it.
//
// Precondition: plan.elements_per_stat >= 2 (train mode is defined); the
// caller handles the degenerate case (e.g. method 2 with N = 1). A violation
// throws bnlab::Error.
//
// Constant statistics: a statistic whose input values are all equal (a dead
// channel after ReLU for Method 3, a dead activation for Method 2, a constant
// location for Method 1) is a fact about the input, not about the method's
// axes. The invariance probes run at kEpsConstantSafe (method_context.hpp),
// which leaves every other statistic exactly as at eps = 0 and maps a constant
// statistic's values to 0 instead of 0/0; the channel-standardization judgement leaves
// the elements of constant statistics out; both count what they left out.
//
// Determinism: the engine is deterministic, the probes' own reductions run
// over fixed runs combined in a fixed order (parallel, but independent of the
// thread count), and every random number comes from
// bnlab::Rng(seed + stream) with the fixed streams of probe_util.hpp, so the
// dumped JSON is byte-identical across runs and thread counts.
//
// Sharing (method_context.hpp): compare computes a MethodContext per method
// (batch statistics, then the base output f(x)) and calls the overloads that
// take it; the overloads that take a plan build it themselves (same results,
// for single probes and tests).
//
// Memory, in tensors of the input's size: the input, and one more at a time:
// the output probe's y (a caller's buffer), dy for the gradients probe, or the
// context's base for the probes that need f(x). No probe writes a tensor of
// the input's size of its own: the gradients probe computes each dx element
// from x, dy and the backward's terms where it reads it, and the invariance
// and sample probes compute f of a transformed input from x as they compare
// it (detail/transformed_forward.hpp). Beside them: O(num_stats) buffers
// (statistics, the engine's per-statistic sums: tens of MB for Method 2 on a
// large input), the finite-difference check's double tensors (at most
// kFdMaxElements elements, a leading sub-batch of a larger input, or two
// samples: about 80 MB for 64x256x56x56) and the allocator's slack.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/core/tensor.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/probes/method_context.hpp"
#include "bnlab/probes/tensor_summary.hpp"

namespace bnlab {

using ProbeNotes = std::vector<std::string>;

// max |mean| and max |var - 1| over groups of output values.
struct Deviation {
  double max_abs_mean = 0, max_abs_var_minus_one = 0;
  void add(double mean, double var);
  nlohmann::ordered_json to_json() const;
};

// Statistics of the train-mode output with gamma = 1, beta = 0 at the given eps.
// JSON keys: per_channel {mean [C], var [C], max_abs_mean, max_abs_var_minus_one},
// per_location {max_abs_mean, max_abs_var_minus_one}, per_sample {same},
// global {mean, std, min, max}, pattern_fraction_input, pattern_fraction_output,
// pattern_survival, channel_std_ratio, eps, notes.
struct OutputProbe {
  std::vector<double> channel_mean, channel_var;  // (C) over (N, H, W)
  Deviation per_channel, per_location, per_sample;
  double global_mean = 0, global_std = 0, global_min = 0, global_max = 0;
  double pattern_fraction_input = 0, pattern_fraction_output = 0;
  std::optional<double> pattern_survival;   // null: the input has no spatial pattern
  std::optional<double> channel_std_ratio;  // null: every output channel is constant
  double eps = 0;
  ProbeNotes notes;
  nlohmann::ordered_json to_json() const;
};
OutputProbe probe_output(const MethodPlan& plan, const Array<float>& x, double eps);
// in: x's summary (summarize_tensor, any scope: the probe reads its channels,
// which every scope computes alike), so that a caller probing several
// methods summarizes x once. y: (N, C, H, W) memory for the output
// (allocated when it does not have x's shape); afterwards it holds the
// output at eps (compare reuses the memory).
OutputProbe probe_output(const MethodContext& context, const Array<float>& x, const TensorSummary& in, double eps,
                         Array<float>& y);

// What the verdict judges for "every channel has mean 0 and variance 1": the
// output at kEpsConstantSafe, per channel over the elements whose statistic is
// not constant. JSON keys: eps, constant_channels, max_abs_mean, max_abs_var_minus_one.
struct ChannelStandardization {
  double eps = kEpsConstantSafe;
  std::size_t constant_channels = 0;  // channels whose every element has a constant statistic: left out
  Deviation deviation;                // over the other channels
  nlohmann::ordered_json to_json() const;
};
ChannelStandardization probe_channel_standardization(const MethodPlan& plan, const Array<float>& x);
ChannelStandardization probe_channel_standardization(const MethodContext& context);  // needs context.base

// Gradients for a seeded N(0,1) upstream gradient dy, gamma = 1, beta = 0, train mode.
// JSON keys: dy {dist, seed}, dx_norm, dgamma_norm, dbeta_norm,
// finite_difference {coordinates, x_coordinates, gamma_coordinates, step, step_unit,
// samples_used, max_rel_error}, identities {sum_dx_max_rel, sum_dx_xhat_max_rel,
// sum_dx_xhat_eps}, notes.
struct GradientsProbe {
  std::uint64_t dy_seed = 0;
  double dx_norm = 0, dgamma_norm = 0, dbeta_norm = 0;
  std::size_t fd_x_coordinates = 0, fd_gamma_coordinates = 0, fd_samples_used = 0;
  double fd_step = 0;
  double fd_max_rel_error = 0;  // NaN when not finite
  double sum_dx_max_rel = 0, sum_dx_xhat_max_rel = 0, sum_dx_xhat_eps = 0;
  ProbeNotes notes;
  nlohmann::ordered_json to_json() const;
};
GradientsProbe probe_gradients(const MethodPlan& plan, const Array<float>& x, double eps, std::uint64_t seed);

// The upstream gradient probe_gradients draws for an input of these dims and
// this seed: dy ~ N(0, 1), (N, C, H, W). It does not depend on the method, so
// a caller probing several methods on one input (compare) draws it once and
// passes it to the overload below: the same report, without one sequential
// pass of the random generator per method.
Array<float> upstream_gradient(const Dims& dims, std::uint64_t seed);
// The same numbers written into dy, which holds dims' elements: (N, C, H, W).
// compare draws it on a thread of its own into the memory the output probes
// used, while the batch-size probes run.
void fill_upstream_gradient(Array<float>& dy, std::uint64_t seed);

// probe_gradients with dy = upstream_gradient(plan.dims, seed), given.
GradientsProbe probe_gradients(const MethodPlan& plan, const Array<float>& x, double eps, std::uint64_t seed,
                               const Array<float>& dy);
// The same with the context's statistics; no tensor of the input's size of its own.
GradientsProbe probe_gradients(const MethodContext& context, const Array<float>& x, double eps, std::uint64_t seed,
                               const Array<float>& dy);

// Invariance measurements (relative L2 errors, maximum over a fixed set of shifts).
// JSON keys: shifts, constant_statistics, per_sample_shift {rel_error, leakage},
// global_shift {rel_error}, global_shift_uniform_params {rel_error},
// eval_shift {mode, rel_error}, translate {rel_error, note}, channel_rescale {rel_error},
// other_spatial_size {applicable, reason}, eps_used, notes.
struct InvarianceProbe {
  std::vector<std::pair<std::size_t, std::size_t>> shifts;  // (dh, dw)
  std::size_t constant_statistics = 0;  // statistics of x with zero variance
  double per_sample_rel_error = 0, per_sample_leakage = 0;
  double global_shift = 0, global_shift_uniform_params = 0;
  bool eval_mode = true;  // false: no running statistics, eval_shift repeats the train-mode value
  double eval_shift = 0;
  double translate = 0, channel_rescale = 0;
  bool other_spatial_size = false;
  std::string other_spatial_size_reason;
  double eps_used = kEpsConstantSafe;
  ProbeNotes notes;
  nlohmann::ordered_json to_json() const;
};
InvarianceProbe probe_invariance(const MethodPlan& plan, const Array<float>& x, double eps, std::uint64_t seed);
InvarianceProbe probe_invariance(const MethodContext& context, const Array<float>& x,
                                 std::uint64_t seed);  // needs context.base; no tensor of x's size of its own

// How each sample's output depends on the batch around it, at kEpsConstantSafe
// (probe_samples.cpp has the definitions):
//   sample_scale_kept  rel(f(x')[0], f(x)[0]) with x' = x, sample 0 doubled: does
//                      one sample's overall scale survive normalization? (0 when
//                      the method divides it out: ln, in, gn)
//   batch_independent  rel(f(x[0:1]), f(x)[0:1]): sample 0 normalized alone (a
//                      batch of N = 1) against inside the batch (0 for ln, in,
//                      gn; null when N = 1 leaves a statistic one value).
// JSON keys: sample_scale_kept {factor, rel_change}, batch_independent {applicable, rel_error}, notes.
struct SamplesProbe {
  double scale_factor = 2.0;
  double sample_scale_rel_change = 0;
  std::optional<double> batch_independent_rel_error;
  ProbeNotes notes;
  nlohmann::ordered_json to_json() const;
};
SamplesProbe probe_samples(const MethodPlan& plan, const Array<float>& x);
SamplesProbe probe_samples(const MethodContext& context, const Array<float>& x);  // needs base

// Batch statistics of the leading n samples (n = N, N/2, ..., 1) against the
// statistics of the whole input, and the train/eval gap they cause; methods
// 1, 2, 3 only (others: applicable = false). JSON keys: applicable, population,
// sizes [{n, elements_per_statistic, degenerate, mean_error, var_error,
// train_eval_gap}] (see probe_batch_size.cpp for the definitions).
struct BatchSizeEntry {
  std::size_t n = 0, elements_per_statistic = 0;
  bool degenerate = false;
  double mean_error = 0, var_error = 0, train_eval_gap = 0;
};
struct BatchSizeProbe {
  bool applicable = false;
  std::vector<BatchSizeEntry> sizes;
  nlohmann::ordered_json to_json() const;
};
BatchSizeProbe probe_batch_size(const MethodPlan& plan, const Array<float>& x, double eps);
// The same with the context's statistics as the population (methods 1, 2, 3
// only: a context needs train mode defined at full batch, which they have
// whenever compare measures them).
BatchSizeProbe probe_batch_size(const MethodContext& context, const Array<float>& x, double eps);

// Spatial maps for the HTML report's figures 3 to 5 (probe_maps.cpp has the
// definitions). Every map is an (H, W) plane downsampled to at most
// kMapMaxSide x kMapMaxSide by block means (MapGrid) and rounded to 4
// significant digits of its largest magnitude, so the JSON stays compact.
inline constexpr std::size_t kMapMaxSide = 32;

// Block means: block = (ceil(H / 32), ceil(W / 32)) pixels, grid = (ceil(H /
// block_h), ceil(W / block_w)) cells; cell (i, j) is the mean over the pixels
// h in [i block_h, min(H, (i + 1) block_h)), w likewise (the last block may
// be smaller). JSON: "block": [block_h, block_w], "size": [rows, cols].
struct MapGrid {
  std::size_t block_h = 1, block_w = 1, rows = 1, cols = 1;
};
MapGrid map_grid(const Dims& dims);

using Map = std::vector<std::vector<double>>;  // (rows, cols) of a MapGrid

// The channels the maps show, from the input alone (the same for every
// method): channel 0, then the channel whose input mean map over N has the
// largest spatial variance (the lowest index on a tie), if that is not 0.
std::vector<std::size_t> map_channels(const Array<float>& x);

// The input's side of figure 3. JSON (the report's input.maps): channels,
// block, size, mean_over_n [one map per channel: mean over n of x[n, c]],
// spatial_variance [per channel: variance over (h, w) of that map].
struct InputMaps {
  std::vector<std::size_t> channels;
  MapGrid grid;
  std::vector<Map> mean_over_n;
  std::vector<double> spatial_variance;
  nlohmann::ordered_json to_json() const;
};
InputMaps probe_input_maps(const Array<float>& x);

// One method's maps, for the channels of map_channels(x), at kEpsConstantSafe,
// gamma = 1, beta = 0; base = forward_train(plan, x, identity_params, kEpsConstantSafe).
// JSON keys: channels, block, size, output_mean [per channel: mean over n of
// base[n, c]], statistics {stat_axes, spatial, sample, then either mean, var
// [per channel: sample 0's batch statistic at each (h, w)] when the statistics
// vary over H or W, or channel_mean, channel_var [C: sample 0's statistic of
// each channel]}, shift {applicable, reason | shift [dh, dw], sample, channel,
// difference, max_abs_difference, leakage, max_leakage}, eps, notes.
struct MapsProbe {
  std::vector<std::size_t> channels;
  MapGrid grid;
  std::vector<Map> output_mean;                    // per channel
  std::vector<std::string> stat_axes;              // e.g. {"H", "W"} for Method 1
  bool spatial_statistics = false;                 // H or W is a statistic axis
  std::vector<Map> stat_mean, stat_var;            // per channel, when spatial
  std::vector<double> channel_mean, channel_var;   // (C), when not spatial
  bool shift_applicable = false;
  std::string shift_reason;                        // when not applicable
  std::size_t shift_dh = 0, shift_dw = 0, shift_channel = 0;
  Map shift_difference;                            // f(x')[0, c] - shift(f(x)[0, c])
  double max_abs_difference = 0;
  std::optional<Map> leakage;                      // mean over n >= 1 of |f(x')[n, c] - f(x)[n, c]|; none when N = 1
  double max_leakage = 0;
  double eps = kEpsConstantSafe;
  ProbeNotes notes;
  nlohmann::ordered_json to_json() const;
};
MapsProbe probe_maps(const MethodPlan& plan, const Array<float>& x, const Array<float>& base);
MapsProbe probe_maps(const MethodContext& context, const Array<float>& x);  // needs base

}  // namespace bnlab
