#include "bnlab/probes/method_context.hpp"

#include "bnlab/probes/detail/probe_util.hpp"

namespace bnlab {

MethodContext method_context(const MethodPlan& plan, const Array<float>& x, const char* probe) {
  probe::require_probe_input(plan, x, probe);
  MethodContext context;
  context.plan = plan;
  context.stats = batch_statistics(plan, x);  // (num_stats)
  context.constant_statistics = probe::zero_variance_count(context.stats);
  return context;
}

void compute_base(MethodContext& context, const Array<float>& x, Array<float> buffer) {
  if (shape_of(buffer) != shape_of(x)) buffer = Array<float>::from_shape(shape_of(x));  // (N, C, H, W)
  normalize_into(context.plan, x.data(), context.stats, identity_params<float>(context.plan), kEpsConstantSafe,
                 buffer.data());
  context.base = std::move(buffer);
}

}  // namespace bnlab
