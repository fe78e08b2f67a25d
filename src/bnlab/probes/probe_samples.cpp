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
// Both at kEpsConstantSafe (probes.hpp), gamma = 1, beta = 0.
// Shapes (legend: N batch, C channels, H, W spatial):
//   x, xs, y, ys: (N, C, H, W) float32; x0, y0: (1, C, H, W).
#include <algorithm>

#include "bnlab/engine/engine.hpp"
#include "bnlab/probes/detail/probe_util.hpp"
#include "bnlab/probes/probes.hpp"

namespace bnlab {

using probe::Json;
using probe::number;

SamplesProbe probe_samples(const MethodPlan& plan, const Array<float>& x) {
  probe::require_probe_input(plan, x, "probe_samples");
  const Dims& d = plan.dims;
  const std::size_t sample = d.c * d.s();  // elements of one sample
  SamplesProbe result;
  const Params<float> unit = identity_params<float>(plan);
  const double eps = kEpsConstantSafe;
  const Array<float> y = forward_train(plan, x, unit, eps, nullptr);  // (N, C, H, W)

  {
    Array<float> xs = x;  // (N, C, H, W), sample 0 scaled
    for (std::size_t i = 0; i < sample; ++i) xs.data()[i] = float(result.scale_factor * double(x.data()[i]));
    const Array<float> ys = forward_train(plan, xs, unit, eps, nullptr);  // (N, C, H, W)
    probe::RelL2 acc;
    probe::add_plain(acc, ys, y, 0, 1);
    result.sample_scale_rel_change = acc.value();
  }

  if (d.n == 1) result.notes.push_back("N = 1: there are no other samples, so batch_independent is 0 by construction");
  const MethodPlan alone = make_plan(plan.method, plan.affine, Dims{1, d.c, d.h, d.w});
  if (alone.elements_per_stat < 2) {
    result.notes.push_back("batch_independent is null: alone, sample 0 gives each statistic a single value "
                           "(train mode is undefined at N = 1)");
    return result;
  }
  Array<float> x0 = Array<float>::from_shape(alone.dims.to_vector());  // (1, C, H, W)
  std::copy(x.data(), x.data() + sample, x0.data());
  const Array<float> y0 = forward_train(alone, x0, identity_params<float>(alone), eps, nullptr);  // (1, C, H, W)
  probe::RelL2 acc;
  for (std::size_t i = 0; i < sample; ++i) acc.add(y0.data()[i], y.data()[i]);
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
