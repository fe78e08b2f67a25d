// probe_samples: what a normalization does with the differences between
// samples, and whether a sample's output needs the rest of the batch. These
// are the properties that separate Method 3 (BatchNorm) from the per-sample
// references, both ways:
//
//   sample_scale_kept   x' = x with sample 0 multiplied by k = 2 (a brighter,
//                       higher-contrast image); rel_change = rel(f(x')[0], f(x)[0]).
//                       A per-sample normalization (ln, in, gn) divides a sample's
//                       own scale out: f(k x0) = f(x0), rel_change ~ 1e-7. A batch
//                       normalization maps every sample with the same affine map per
//                       statistic, so the doubled sample stays (about) twice as far
//                       from the batch mean: rel_change ~ 1.
//   batch_independent   rel(f(x[0:1]), f(x)[0:1]): sample 0 normalized alone (train
//                       mode with a batch of one) against normalized inside the batch.
//                       0 for ln, in, gn (their statistics are per sample); for a batch
//                       normalization the statistics of one sample differ from the
//                       batch's (and Method 2 has a single value per statistic: null).
//                       With N = 1 both sides are the same batch: 0 (noted).
//
// Both at kEpsConstantSafe (method_context.hpp), gamma = 1, beta = 0; f(x) is
// the context's base; f(x') is computed from x as it is compared
// (probes/detail/transformed_forward.hpp), never written.
// Shapes (legend: N batch, C channels, H, W spatial):
//   x, y: (N, C, H, W) float32; y0: (1, C, H, W).
#include <algorithm>

#include "bnlab/engine/engine.hpp"
#include "bnlab/probes/detail/probe_util.hpp"
#include "bnlab/probes/detail/transformed_forward.hpp"
#include "bnlab/probes/probes.hpp"

namespace bnlab {

using probe::Json;
using probe::number;

SamplesProbe probe_samples(const MethodPlan& plan, const Array<float>& x) {
  MethodContext context = method_context(plan, x, "probe_samples");
  compute_base(context, x);
  return probe_samples(context, x);
}

SamplesProbe probe_samples(const MethodContext& context, const Array<float>& x) {
  const MethodPlan& plan = context.plan;
  const Dims& d = plan.dims;
  const std::size_t sample = d.c * d.s();  // elements of one sample
  SamplesProbe result;
  const Params<float> unit = identity_params<float>(plan);
  const double eps = kEpsConstantSafe;
  const Array<float>& y = context.base;  // (N, C, H, W) f(x)

  {
    // f(x'), x' = x with sample 0 scaled, computed from x as it is compared
    // with f(x) on sample 0 (transformed_forward.hpp: never written).
    probe::RelL2 acc;
    const std::vector<probe::InputTransform> scaled = {
        probe::InputTransform::scale_samples(result.scale_factor, 0, 1)};
    probe::compare_transformed(plan, x.data(), context.stats, eps, scaled, {{0, 0, 1, &unit, y.data(), &acc}});
    result.sample_scale_rel_change = acc.value();
  }

  if (d.n == 1) result.notes.push_back("N = 1: there are no other samples, so batch_independent is 0 by construction");
  const MethodPlan alone = probe::sample_plan(plan);
  if (alone.elements_per_stat < 2) {
    result.notes.push_back("batch_independent is null: alone, sample 0 gives each statistic a single value "
                           "(train mode is undefined at N = 1)");
    return result;
  }
  std::vector<float> y0(sample);  // (1, C, H, W): sample 0 normalized alone, read straight from x
  forward_train_into(alone, x.data(), identity_params<float>(alone), eps, y0.data());
  probe::RelL2 acc;
  for (std::size_t i = 0; i < sample; ++i) acc.add(y0[i], y.data()[i]);
  result.batch_independent_rel_error = acc.value();
  return result;
}

nlohmann::ordered_json SamplesProbe::to_json() const {
  Json block;
  block["sample_scale_kept"] = Json{{"factor", scale_factor}, {"rel_change", number(sample_scale_rel_change)}};
  block["batch_independent"] =
      Json{{"rel_error", batch_independent_rel_error ? number(*batch_independent_rel_error) : Json(nullptr)}};
  block["notes"] = notes;
  return block;
}

}  // namespace bnlab
