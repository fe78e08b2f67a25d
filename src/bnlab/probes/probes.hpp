#pragma once
// The measurement probes of `bnlab compare`: each takes a method's MethodPlan and
// an input, runs the engine, and returns one JSON block of measurements
// (DESIGN.md §2). Every block ends with "notes": strings that explain
// degenerate situations (a constant channel, H = W = 1, a sub-batch).
//
// Shapes (legend: N batch, C channels, H, W spatial):
//   x: (N, C, H, W), float32, row-major; plan.dims must match it.
//
// Precondition: plan.elements_per_stat >= 2 (train mode is defined); the
// caller handles the degenerate case (e.g. method 2 with N = 1). A violation
// throws bnlab::Error.
//
// Determinism: the engine is deterministic, the probes' own reductions are
// sequential in a fixed order, and every random number comes from
// bnlab::Rng(seed + stream) with the fixed streams of probe_util.hpp, so the
// dumped JSON is byte-identical across runs and thread counts.
//
// Memory: at most 4 full-size float tensors live at once (the input included);
// the finite-difference check runs in double on at most kFdMaxElements
// elements (a leading sub-batch of a larger input).
#include <cstdint>

#include <nlohmann/json.hpp>

#include "bnlab/engine/method.hpp"
#include "bnlab/core/tensor.hpp"

namespace bnlab {

// Statistics of the train-mode output with gamma = 1, beta = 0 at the given eps.
// Keys: per_channel {mean [C], var [C], max_abs_mean, max_abs_var_minus_one},
// per_location {max_abs_mean, max_abs_var_minus_one}, per_sample {same},
// global {mean, std, min, max}, pattern_fraction_input, pattern_fraction_output,
// pattern_survival, channel_std_ratio, eps, notes.
nlohmann::ordered_json probe_output(const MethodPlan& plan, const Array<float>& x, double eps);

// Gradients for a seeded N(0,1) upstream gradient dy, gamma = 1, beta = 0, train mode.
// Keys: dy {dist, seed}, dx_norm, dgamma_norm, dbeta_norm,
// finite_difference {coordinates, x_coordinates, gamma_coordinates, step, step_unit,
// samples_used, max_rel_error}, identities {sum_dx_max_rel, sum_dx_xhat_max_rel,
// sum_dx_xhat_eps}, notes.
nlohmann::ordered_json probe_gradients(const MethodPlan& plan, const Array<float>& x, double eps, std::uint64_t seed);

// Invariance measurements (relative L2 errors, maximum over a fixed set of shifts).
// Keys: shifts, per_sample_shift {rel_error, leakage}, global_shift {rel_error},
// global_shift_uniform_params {rel_error}, eval_shift {mode, rel_error},
// translate {rel_error}, channel_rescale {rel_error}, other_spatial_size
// {applicable, reason}, eps_used, notes.
nlohmann::ordered_json probe_invariance(const MethodPlan& plan, const Array<float>& x, double eps, std::uint64_t seed);

// Batch statistics of the leading n samples (n = N, N/2, ..., 1) against the
// statistics of the whole input, and the train/eval gap they cause; methods
// 1, 2, 3 only (others: applicable = false). Keys: applicable, population,
// sizes [{n, elements_per_statistic, degenerate, mean_error, var_error,
// train_eval_gap}] (see probe_batch_size.cpp for the definitions).
nlohmann::ordered_json probe_batch_size(const MethodPlan& plan, const Array<float>& x, double eps);

}  // namespace bnlab
