#include "bnlab/probes/detail/probe_util.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "bnlab/core/error.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/rng.hpp"

// Shape legend: N batch, C channels, H, W spatial; every tensor (N, C, H, W).

namespace bnlab::probe {
std::uint64_t sub_seed(std::uint64_t seed, Stream stream) {
  return seed + static_cast<std::uint64_t>(stream);  // wraps around mod 2^64
}

std::string format_number(double v) { return significant(v, 6); }  // %g

Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

void require_probe_input(const MethodPlan& plan, const Array<float>& x, const std::string& probe) {
  require_shape(shape_of(x), plan.dims.to_vector(), probe + ": input");
  if (plan.elements_per_stat < 2) {
    throw Error(probe + ": method " + plan.method.id + " has " + std::to_string(plan.elements_per_stat) +
                " value per statistic on shape " + shape_to_string(plan.dims.to_vector()) +
                "; train mode needs at least 2");
  }
}

double RelL2::value() const {
  if (ref2 == 0.0) return diff2 == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
  return std::sqrt(diff2) / std::sqrt(ref2);
}

std::vector<Shift> shift_set(const Dims& dims) {
  const std::size_t H = dims.h, W = dims.w;
  const Shift candidates[] = {{1, 0}, {0, 1}, {1, 2}, {H / 2, W / 3}};
  std::vector<Shift> out;
  for (Shift s : candidates) {
    Shift r{s.dh % H, s.dw % W};
    if (r.dh == 0 && r.dw == 0) continue;
    bool seen = std::any_of(out.begin(), out.end(), [&](Shift o) { return o.dh == r.dh && o.dw == r.dw; });
    if (!seen) out.push_back(r);
  }
  return out;
}

Json shifts_json(const std::vector<Shift>& shifts) {
  Json out = Json::array();
  for (Shift s : shifts) out.push_back(Json::array({s.dh, s.dw}));
  return out;
}

Params<float> trained_like_params(const MethodPlan& plan, std::uint64_t seed) {
  Params<float> params;
  if (!plan.has_affine()) return params;
  params.gamma = Array<float>::from_shape(plan.param_shape);  // param_shape
  params.beta = Array<float>::from_shape(plan.param_shape);   // param_shape
  Rng rng(sub_seed(seed, Stream::trained_params));
  for (float& g : params.gamma) g = float(det_exp(0.5 * rng.normal()));
  for (float& b : params.beta) b = float(0.5 * rng.normal());
  return params;
}

std::size_t zero_variance_count(const Statistics& stats) {
  return std::size_t(std::count(stats.var.begin(), stats.var.end(), 0.0));
}

MethodPlan sample_plan(const MethodPlan& plan) {
  const Dims& d = plan.dims;
  return make_plan(plan.method, plan.affine, Dims{1, d.c, d.h, d.w});
}

}  // namespace bnlab::probe
