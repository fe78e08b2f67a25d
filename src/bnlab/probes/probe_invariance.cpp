// probe_invariance: which transformations of the input the normalization
// commutes with. Each measurement is a relative L2 error
//   rel(a, b) = ||a - b|| / ||b||    (double accumulation over fixed runs,
//                                     combined in a fixed order: any thread count)
// and the maximum over the fixed shift set of probe_util.hpp
//   {(1, 0), (0, 1), (1, 2), (H/2, W/3)} mod (H, W), minus (0, 0) and repeats.
// With H = W = 1 no shift exists: the shift measurements are 0, with a note.
//
// Shapes (legend: N batch, C channels, H, W spatial):
//   x, base: (N, C, H, W) float32; ref, shifted: (C, H, W), one sample;
//   gamma, beta: plan.param_shape; mean, var (statistics): (num_stats).
//
// Memory and passes: f(x) with gamma = 1, beta = 0 is the context's base; no
// transformed input is written: f(T(x)) is computed from x as it is compared
// (probes/detail/transformed_forward.hpp: the statistics of T(x) in one read
// of x, then one read of x and the base per comparison), and the reference
// with trained parameters is computed on the fly at each element's source;
// eval mode joins the global shifts' pass with the running statistics fixed.
//
// Measurements (f = forward in train mode unless named, eps = eps_used):
//   per_sample_shift   x' = x with only sample 0 circularly shifted;
//                      rel_error = rel(f(x')[0], shift(f(x)[0])),
//                      leakage   = rel(f(x')[1:], f(x)[1:])  (0 when N = 1); gamma = 1, beta = 0.
//   global_shift       every sample shifted, trained-like gamma, beta
//                      (probe_util.hpp: gamma = exp(0.5 z), beta = 0.5 z', varying on every axis).
//   global_shift_uniform_params   the same with gamma = 1, beta = 0.
//   eval_shift         batch-dependent methods (1, 2, 3): eval mode with running statistics
//                      estimated from x (batch mean, unbiased variance m/(m-1) var), gamma = 1,
//                      beta = 0, every sample shifted. ln, in, gn have no running statistics:
//                      their inference is their train mode, so mode = "train" and the value is
//                      global_shift_uniform_params (noted).
//   translate          zero-filled shift of every sample, gamma = 1, beta = 0, compared on
//                      the region that stays inside the plane (h >= dh, w >= dw):
//                      rel(f(translate x)[R], f(x)[R - (dh, dw)]). For the record, not a
//                      property: the zeros change every statistic that pools over H, W, so
//                      no method that pools over the plane commutes with it (Method 3: ~1).
//   channel_rescale    x'[n, c] = a_c x[n, c] + b_c, a_c = 2^(4u_c - 2) in [0.25, 4) and
//                      b_c = 2 z_c std_c(x) (std over N, H, W): rel(f(x'), f(x)), gamma = 1, beta = 0.
//                      Draws from Rng(seed + 4): u_0 .. u_{C-1}, then z_0 .. z_{C-1}.
//   other_spatial_size can the eval-mode transform learned at H x W apply at (H + 1) x (W + 2)?
//                      The plan is rebuilt there and its shapes compared: running statistics
//                      (batch-dependent methods only; ln, in, gn recompute theirs per sample)
//                      and gamma, beta must keep their shapes.
//   eps_used           kEpsConstantSafe (method_context.hpp): exactly eps = 0 for every non-constant
//                      statistic, so each measurement isolates the choice of axes (a real eps
//                      breaks exact scale invariance by about eps / var), and 0 instead of 0/0
//                      on a constant statistic (a dead channel), whose values then match
//                      wherever the transformed input keeps them constant.
//   constant_statistics   how many statistics of x have zero variance (counted, noted).
#include <algorithm>
#include <cmath>

#include "bnlab/engine/engine.hpp"
#include "bnlab/probes/detail/probe_util.hpp"
#include "bnlab/probes/detail/run_sums.hpp"
#include "bnlab/probes/detail/transformed_forward.hpp"
#include "bnlab/probes/probes.hpp"
#include "bnlab/core/rng.hpp"

namespace bnlab {
namespace {

using probe::Json;
using probe::number;
using probe::RelL2;
using probe::Shift;

constexpr double kLn2 = 0.69314718055994530942;

// worst = max(worst, v), keeping a NaN once one appears.
void take_max(double& worst, double v) {
  if (!(v <= worst)) worst = v;
}

// x'[n, c] = a_c x[n, c] + b_c (see the file comment), as a transform of x.  x: (N, C, H, W)
probe::InputTransform channel_rescale(const Array<float>& x, const Dims& d, std::uint64_t seed) {
  const std::size_t N = d.n, C = d.c, S = d.s();
  const float* p = x.data();  // (N, C, S)
  std::vector<double> a(C), b(C);  // (C)
  Rng rng(probe::sub_seed(seed, probe::Stream::channel_rescale));
  for (double& ac : a) ac = det_exp((4.0 * rng.uniform() - 2.0) * kLn2);
  std::vector<double> sd(C);  // (C) std_c(x) over (N, H, W), channel by channel in parallel
  probe::for_each_item(C, [&](std::size_t c) {
    // Two passes over channel c (its runs in sample order, 8 lanes each):
    // the mean, then the biased variance from centred values.
    probe::LaneMoments sum, centred;
    for (std::size_t n = 0; n < N; ++n) sum.add(p + (n * C + c) * S, S, 0.0);
    const double mean = sum.sum1() / double(N * S);
    for (std::size_t n = 0; n < N; ++n) centred.add(p + (n * C + c) * S, S, mean);
    sd[c] = std::sqrt(centred.sum2() / double(N * S));
  });
  for (std::size_t c = 0; c < C; ++c) b[c] = 2.0 * rng.normal() * sd[c];
  return probe::InputTransform::rescale(std::move(a), std::move(b));
}

void other_spatial_size(const MethodPlan& plan, InvarianceProbe& result) {
  const Dims& d = plan.dims;
  const Dims od{d.n, d.c, d.h + 1, d.w + 2};
  const MethodPlan other = make_plan(plan.method, plan.affine, od);
  const bool batch = plan.method.batch_dependent();
  const bool stats_ok = !batch || other.stat_shape == plan.stat_shape;
  const bool params_ok = other.param_shape == plan.param_shape;
  const std::string here = std::to_string(d.h) + " x " + std::to_string(d.w);
  const std::string there = std::to_string(od.h) + " x " + std::to_string(od.w);
  const std::string params = plan.has_affine() ? "parameters " + shape_to_string(plan.param_shape) : "no parameters";
  std::string reason;
  if (stats_ok && params_ok) {
    reason = batch ? "running statistics " + shape_to_string(plan.stat_shape) + " and " + params +
                         " do not depend on H x W: any H x W works"
                   : "statistics are recomputed per sample at any size and " + params +
                         " do not depend on H x W: any H x W works";
  } else {
    if (!stats_ok) {
      reason = "running statistics have shape " + shape_to_string(plan.stat_shape) + ", tied to H x W = " + here +
               "; an input of " + there + " needs " + shape_to_string(other.stat_shape);
    }
    if (!params_ok) {
      reason += std::string(reason.empty() ? "" : "; ") + "gamma, beta have shape " +
                shape_to_string(plan.param_shape) + ", tied to H x W = " + here + "; an input of " + there +
                " needs " + shape_to_string(other.param_shape);
    }
  }
  result.other_spatial_size = stats_ok && params_ok;
  result.other_spatial_size_reason = reason;
}

}  // namespace

InvarianceProbe probe_invariance(const MethodPlan& plan, const Array<float>& x, double /*eps*/, std::uint64_t seed) {
  MethodContext context = method_context(plan, x, "probe_invariance");
  compute_base(context, x);
  return probe_invariance(context, x, seed);
}

InvarianceProbe probe_invariance(const MethodContext& context, const Array<float>& x, std::uint64_t seed) {
  const MethodPlan& plan = context.plan;
  const Dims& d = plan.dims;
  InvarianceProbe result;
  probe::Notes& notes = result.notes;
  const Statistics& stats = context.stats;  // (num_stats)
  result.constant_statistics = context.constant_statistics;
  const double eps_used = result.eps_used;
  if (result.constant_statistics > 0) {
    notes.push_back(std::to_string(result.constant_statistics) + " of " + std::to_string(plan.num_stats) +
                    " statistic(s) of the input are constant (zero variance): their outputs are 0 and they are "
                    "compared only where the transformed input keeps them constant");
  }
  const std::vector<Shift> shifts = probe::shift_set(d);
  if (shifts.empty()) notes.push_back("H = W = 1: no spatial shift exists; every shift measurement is 0 by convention");
  if (d.n == 1) notes.push_back("N = 1: per_sample_shift.leakage is 0 (there is no other sample)");

  // Every train-mode measurement: f(T(x)) for a transform T, computed from x
  // as it is compared (transformed_forward.hpp: never written to memory, all
  // transforms in two reads of x and of the base), against the base output
  // f(x) (gamma = 1, beta = 0) or, with trained-like parameters, against
  // normalize(x) with them, at the source position.
  const Params<float> unit = identity_params<float>(plan);
  const Params<float> trained = probe::trained_like_params(plan, seed);
  const float* base = context.base.data();  // (N, C, H, W) f(x)
  using probe::InputTransform;
  struct PerShift {
    RelL2 own, rest, uniform, with_trained, translated, eval;
  };
  // Eval mode (batch-dependent methods): running statistics estimated from
  // x (mean, unbiased var = m / (m - 1) * var), fixed: f_eval(shift(x))
  // against f_eval(x), both computed on the fly.  (num_stats)
  const bool eval_mode = plan.method.batch_dependent();
  Statistics running = stats;
  const double per_stat = double(plan.elements_per_stat);
  for (double& v : running.var) v *= per_stat / (per_stat - 1.0);
  std::vector<PerShift> per_shift(shifts.size());  // (shifts)
  RelL2 rescaled_acc;
  std::vector<InputTransform> transforms;
  std::vector<probe::TransformedComparison> comparisons;
  auto add = [&](InputTransform t, std::vector<probe::TransformedComparison> of_t) {
    for (probe::TransformedComparison& cmp : of_t) {
      cmp.transform = transforms.size();
      comparisons.push_back(cmp);
    }
    transforms.push_back(std::move(t));
  };
  auto against = [&](std::size_t n_begin, std::size_t n_end, const Params<float>& params, const float* reference,
                     RelL2& acc) {
    return probe::TransformedComparison{
        .n_begin = n_begin, .n_end = n_end, .params = &params, .reference = reference, .acc = &acc};
  };
  for (std::size_t k = 0; k < shifts.size(); ++k) {
    PerShift& m = per_shift[k];
    add(InputTransform::circular(shifts[k], 0, 1),  // sample 0 only
        {against(0, 1, unit, base, m.own), against(1, d.n, unit, base, m.rest)});
    std::vector<probe::TransformedComparison> global = {against(0, d.n, unit, base, m.uniform),
                                                        against(0, d.n, trained, nullptr, m.with_trained)};
    if (eval_mode) {
      global.push_back(against(0, d.n, unit, nullptr, m.eval));
      global.back().output_stats = global.back().reference_stats = &running;
    }
    add(InputTransform::circular(shifts[k], 0, d.n), global);  // every sample
    add(InputTransform::translate(shifts[k]), {against(0, d.n, unit, base, m.translated)});
  }
  add(channel_rescale(x, d, seed), {against(0, d.n, unit, base, rescaled_acc)});
  probe::compare_transformed(plan, x.data(), stats, eps_used, transforms, comparisons);
  double per_sample = 0, leakage = 0, global_uniform = 0, global_trained = 0, translated = 0;
  for (const PerShift& m : per_shift) {
    take_max(per_sample, m.own.value());
    take_max(leakage, m.rest.value());
    take_max(global_uniform, m.uniform.value());
    take_max(global_trained, m.with_trained.value());
    take_max(translated, m.translated.value());
  }
  const double rescaled = rescaled_acc.value();

  if (plan.method.batch_dependent()) {
    double worst = 0;
    for (const PerShift& m : per_shift) take_max(worst, m.eval.value());
    result.eval_mode = true;
    result.eval_shift = worst;
  } else {
    result.eval_mode = false;
    result.eval_shift = global_uniform;
    notes.push_back("method " + plan.method.id +
                    " has no running statistics: its inference is its train mode, so eval_shift repeats "
                    "global_shift_uniform_params");
  }

  for (Shift s : shifts) result.shifts.emplace_back(s.dh, s.dw);
  result.per_sample_rel_error = per_sample;
  result.per_sample_leakage = leakage;
  result.global_shift = global_trained;
  result.global_shift_uniform_params = global_uniform;
  result.translate = translated;
  result.channel_rescale = rescaled;
  other_spatial_size(plan, result);
  return result;
}

nlohmann::ordered_json InvarianceProbe::to_json() const {
  Json shifts_json = Json::array();
  for (const auto& [dh, dw] : shifts) shifts_json.push_back(Json::array({dh, dw}));
  Json block;
  block["shifts"] = shifts_json;
  block["constant_statistics"] = constant_statistics;
  block["per_sample_shift"] = Json{{"rel_error", number(per_sample_rel_error)}, {"leakage", number(per_sample_leakage)}};
  block["global_shift"] = Json{{"rel_error", number(global_shift)}};
  block["global_shift_uniform_params"] = Json{{"rel_error", number(global_shift_uniform_params)}};
  block["eval_shift"] = Json{{"mode", eval_mode ? "eval" : "train"}, {"rel_error", number(eval_shift)}};
  block["translate"] = Json{
      {"rel_error", number(translate)},
      {"note", "zero-filled, non-circular shift: the zeros change every statistic that pools over H, W, so no "
               "such method commutes with it; recorded, not a property"}};
  block["channel_rescale"] = Json{{"rel_error", number(channel_rescale)}};
  block["other_spatial_size"] = Json{{"applicable", other_spatial_size}, {"reason", other_spatial_size_reason}};
  block["eps_used"] = eps_used;
  block["notes"] = notes;
  return block;
}

}  // namespace bnlab
