// probe_batch_size: how the batch statistics of a batch-dependent method
// (1, 2, 3) degrade as the batch shrinks, and how far train mode then drifts
// from eval mode: the error of the batch statistics against the population as
// the batch size shrinks (Method 2 with N = 1 outputs beta everywhere).
//
// Shapes (legend: N batch, C channels, H, W spatial):
//   x: (N, C, H, W); x_sub: (n, C, H, W), the leading n samples of x.
//   population, batch: plan.stat_shape (independent of N for these methods).
//
// For each batch size n in N, N/2, N/4, ..., 1 (halving, integer division):
//   mean_error = sqrt(mean_o ((mean_b[o] - mean_p[o])^2 / (var_p[o] + eps)))
//                the batch mean's error in units of the population std;
//   var_error  = sqrt(mean_o ((var_b[o] - var_p[o]) / (var_p[o] + eps))^2)
//                the batch variance's relative error;
//   train_eval_gap = ||f_train(x_sub) - f_eval(x_sub; population)|| / ||f_eval(...)||
//                with gamma = 1, beta = 0: what a layer trained at batch size n
//                sees in training but not at inference.
// The "population" is the whole input (all N samples, biased variance).
#include <cmath>

#include "bnlab/engine/engine.hpp"
#include "bnlab/probes/detail/probe_util.hpp"
#include "bnlab/probes/detail/transformed_forward.hpp"
#include "bnlab/probes/probes.hpp"

namespace bnlab {

BatchSizeProbe probe_batch_size(const MethodPlan& plan, const Array<float>& x, double eps) {
  if (!plan.method.batch_dependent()) return BatchSizeProbe{};
  return probe_batch_size(method_context(plan, x, "probe_batch_size"), x, eps);
}

BatchSizeProbe probe_batch_size(const MethodContext& context, const Array<float>& x, double eps) {
  const MethodPlan& plan = context.plan;
  BatchSizeProbe result;
  if (!plan.method.batch_dependent()) return result;
  result.applicable = true;
  const Dims& dims = plan.dims;
  const Statistics& population = context.stats;  // (num_stats)
  for (std::size_t n = dims.n; n >= 1; n /= 2) {
    Dims sub_dims{n, dims.c, dims.h, dims.w};
    MethodPlan sub = make_plan(plan.method, AffineMode::none, sub_dims);
    BatchSizeEntry entry;
    entry.n = n;
    entry.elements_per_statistic = sub.elements_per_stat;
    if (sub.elements_per_stat < 2) {
      entry.degenerate = true;
      result.sizes.push_back(entry);
      continue;
    }
    // x_sub is the leading n samples of x, read in place: its batch
    // statistics (one read), then y_train (normalized with them) against
    // y_eval (with the population's), both computed from x as they are
    // compared (transformed_forward.hpp, the identity transform: one read).
    const Statistics batch = batch_statistics_at(sub, x.data());  // (num_stats)
    double mean_sq = 0, var_sq = 0;
    for (std::size_t o = 0; o < plan.num_stats; ++o) {
      double scale = population.var[o] + eps;
      double dm = batch.mean[o] - population.mean[o];
      double dv = (batch.var[o] - population.var[o]) / scale;
      mean_sq += dm * dm / scale;
      var_sq += dv * dv;
    }
    probe::RelL2 gap;
    const Params<float> none;  // affine none: gamma = 1, beta = 0
    const probe::TransformedComparison train_against_eval{.transform = 0,
                                                          .n_begin = 0,
                                                          .n_end = n,
                                                          .params = &none,
                                                          .reference = nullptr,
                                                          .acc = &gap,
                                                          .output_stats = &batch,
                                                          .reference_stats = &population};
    probe::compare_transformed(sub, x.data(), population, eps, {probe::InputTransform::identity()},
                               {train_against_eval});
    entry.mean_error = std::sqrt(mean_sq / double(plan.num_stats));
    entry.var_error = std::sqrt(var_sq / double(plan.num_stats));
    entry.train_eval_gap = gap.value();
    result.sizes.push_back(entry);
  }
  return result;
}

nlohmann::ordered_json BatchSizeProbe::to_json() const {
  using probe::Json;
  if (!applicable) {
    return Json{{"applicable", false},
                {"reason", "statistics are taken per sample: the batch size does not change them"}};
  }
  Json sizes_json = Json::array();
  for (const BatchSizeEntry& e : sizes) {
    Json entry{{"n", e.n}, {"elements_per_statistic", e.elements_per_statistic}};
    if (e.degenerate) {
      entry["degenerate"] = true;
      entry["note"] = "one value per statistic: the batch variance is 0 and train mode outputs beta everywhere";
    } else {
      entry["degenerate"] = false;
      entry["mean_error"] = probe::number(e.mean_error);
      entry["var_error"] = probe::number(e.var_error);
      entry["train_eval_gap"] = probe::number(e.train_eval_gap);
    }
    sizes_json.push_back(entry);
  }
  return Json{{"applicable", true}, {"population", "the whole input (all N samples)"}, {"sizes", sizes_json}};
}

}  // namespace bnlab
