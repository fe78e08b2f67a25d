// probe_gradients: the train-mode backward for a seeded upstream gradient,
// checked against central finite differences in double, and the identities
// sum_S dx = 0 and sum_S dx * xhat = 0 that follow from differentiating through
// the mean and the variance.
//
// Shapes (legend: N batch, C channels, H, W spatial, S = H*W):
//   x, dy: (N, C, H, W) float32 (the engine's float path); dx is never stored:
//   each pass computes its elements from x, dy and the backward's terms
//   (engine.hpp: backward_terms, dx_element; the engine's dx, bit for bit);
//   xd, dyd, yp, ym: (n_sub, C, H, W) float64 for the finite differences;
//   gamma, beta, dgamma, dbeta: plan.param_shape; mean, var: (num_stats).
//
// Definitions:
//   dy ~ N(0, 1) i.i.d. from Rng(seed + 1), row-major; gamma = 1, beta = 0.
//   finite differences of L = sum(y * dy), central, in double:
//     fd = sum_j (y_j(v + h) - y_j(v - h)) * dy_j / ((v + h) - (v - h))
//   (summing the differences keeps the rounding of L's large sum out of it;
//   the denominator is the step actually taken in floating point). The step
//   is relative: h = 1e-4 * sqrt(var + eps) of the coordinate's statistic for
//   an x coordinate, h = 1e-4 for a gamma entry (gamma = 1).
//   rel error of one coordinate = |fd - an| / max(|fd|, |an|, 1e-6 * max|an|),
//   max|an| over all of dx (x coordinates) or all of dgamma (gamma entries):
//   a relative error that does not blow up on a coordinate whose derivative
//   is nearly 0. Coordinates: 12 x elements, then min(4, #gamma) gamma
//   entries, indices drawn in that order by Rng(seed + 2).below(count).
//   identities, per statistic group S_o:
//     sum_dx     = |sum_S dx| / sum_S |dx|              (0 for any eps)
//     sum_dx_xhat = |sum_S dx*xhat| / sum_S |dx*xhat|   (0 for eps = 0, gamma constant on S)
//   each the maximum over o (0 when the denominator is 0).
#include <algorithm>
#include <cmath>

#include "bnlab/core/error.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/probes/detail/probe_util.hpp"
#include "bnlab/probes/probes.hpp"
#include "bnlab/core/rng.hpp"

namespace bnlab {
namespace {

using probe::Json;
using probe::number;

constexpr std::size_t kFdMaxElements = std::size_t(1) << 20;  // larger inputs: a leading sub-batch
constexpr std::size_t kFdXCoordinates = 12;
constexpr std::size_t kFdGammaCoordinates = 4;
constexpr double kFdRelStep = 1e-4;

// out <- N(0, 1) draws of Rng(dy_seed), row-major. out: (N, C, H, W)
void fill_normal_floats(Array<float>& out, std::uint64_t dy_seed) {
  Rng rng(dy_seed);
  std::vector<double> buffer(4096);  // (4096) a chunk of the stream
  for (std::size_t i = 0; i < out.size(); i += buffer.size()) {
    std::size_t k = std::min(buffer.size(), out.size() - i);
    rng.fill_normal(buffer.data(), k);
    for (std::size_t j = 0; j < k; ++j) out.data()[i + j] = float(buffer[j]);
  }
}

// The statistic of element i (row-major in (N, C, S)).
std::size_t stat_of(const MethodPlan& plan, std::size_t i) {
  const std::size_t S = plan.dims.s(), run = i / S, s = i % S;
  return plan.stat.base(run / plan.dims.c, run % plan.dims.c) + s * plan.stat.s_stride;
}

// max over statistics o of |sum_{S_o} v| / sum_{S_o} |v|, v = value(i, o) per element,
// and with square_sum also *square_sum = sum_i v^2 over every element (in the
// same pass: the norm of v).
// Each statistic's sums run over its elements in memory order; the work is
// shared out by the runs that share a statistic base (and blocks of s where
// the statistics follow s), which no two work items share: any thread count.
// Where a statistic covers whole runs, its two sums are chains that wait on
// each addition, so kSideBySide groups of equal size go side by side in one
// work item (their chains at once; each statistic's order unchanged).
// v^2 goes to 8 lanes per group or block (lane s % 8), added in lane order,
// then group by group within an item, then the items in order: bits fixed too.
template <class Value>
double max_rel_sum(const MethodPlan& plan, Value value, double* square_sum = nullptr) {
  const Dims& d = plan.dims;
  const std::size_t S = d.s();
  std::vector<double> sum(plan.num_stats, 0.0), abs_sum(plan.num_stats, 0.0);  // (num_stats)
  std::vector<std::pair<std::size_t, std::size_t>> runs;  // (N*C) (base, run), grouped by base, runs ascending
  for (std::size_t r = 0; r < d.n * d.c; ++r) runs.emplace_back(plan.stat.base(r / d.c, r % d.c), r);
  std::stable_sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::size_t> group_start;  // (groups + 1) into runs
  for (std::size_t k = 0; k < runs.size(); ++k)
    if (k == 0 || runs[k].first != runs[k - 1].first) group_start.push_back(k);
  group_start.push_back(runs.size());
  const std::size_t groups = group_start.size() - 1;
  auto lanes_total = [](const double(&lanes)[8]) {
    double total = 0;
    for (double lane : lanes) total += lane;
    return total;
  };

  std::size_t items = 0;
  std::vector<double> item_squares;  // (items)
  if (plan.stat.s_stride == 0) {
    // Groups [g0, g0 + G) of len runs each, one statistic per group.
    auto whole_runs = [&]<std::size_t G>(std::size_t g0, std::size_t len) {
      std::size_t o[G];
      double group_sum[G] = {}, group_abs[G] = {}, squares[G][8] = {};
      for (std::size_t j = 0; j < G; ++j) o[j] = runs[group_start[g0 + j]].first;
      for (std::size_t k = 0; k < len; ++k) {
        std::size_t i0[G];
        for (std::size_t j = 0; j < G; ++j) i0[j] = runs[group_start[g0 + j] + k].second * S;
        for (std::size_t s = 0; s < S; ++s)
          for (std::size_t j = 0; j < G; ++j) {
            const double v = value(i0[j] + s, o[j]);
            group_sum[j] += v;
            group_abs[j] += std::abs(v);
            if (square_sum) squares[j][s & 7] += v * v;
          }
      }
      double item_total = 0;
      for (std::size_t j = 0; j < G; ++j) {
        sum[o[j]] = group_sum[j];
        abs_sum[o[j]] = group_abs[j];
        item_total += lanes_total(squares[j]);
      }
      return item_total;
    };
    constexpr std::size_t kSideBySide = 4;
    bool equal = true;  // every group has as many runs as the first
    for (std::size_t g = 0; g < groups; ++g)
      equal = equal && group_start[g + 1] - group_start[g] == group_start[1] - group_start[0];
    const std::size_t per_item = equal ? kSideBySide : 1;
    items = (groups + per_item - 1) / per_item;
    item_squares.assign(items, 0.0);
    probe::for_each_item(items, [&](std::size_t item) {
      std::size_t g = item * per_item;
      const std::size_t g1 = std::min(groups, g + per_item);
      for (; g + kSideBySide <= g1; g += kSideBySide)
        item_squares[item] += whole_runs.template operator()<kSideBySide>(g, group_start[g + 1] - group_start[g]);
      for (; g < g1; ++g) item_squares[item] += whole_runs.template operator()<1>(g, group_start[g + 1] - group_start[g]);
    });
  } else {
    // The statistics follow s: blocks of kBlock locations of one group per
    // work item; a statistic's sums go through memory, location by location.
    // A run's block of values is computed first (an independent value per
    // location: vector code), then added to the sums location by location
    // (each statistic's additions in run order, as one element at a time).
    constexpr std::size_t kBlock = 256;
    const std::size_t blocks = (S + kBlock - 1) / kBlock, stride = plan.stat.s_stride;
    items = groups * blocks;
    item_squares.assign(items, 0.0);
    probe::for_each_item(items, [&](std::size_t item) {
      const std::size_t g = item / blocks, s0 = item % blocks * kBlock, len = std::min(S, s0 + kBlock) - s0;
      double squares[8] = {};
      double values[kBlock];  // (len) one run's values at s0 + k
      for (std::size_t r = group_start[g]; r < group_start[g + 1]; ++r) {
        const std::size_t o = runs[r].first + s0 * stride, i0 = runs[r].second * S + s0;
        if (stride == 1) {
          for (std::size_t k = 0; k < len; ++k) values[k] = value(i0 + k, o + k);
        } else {
          for (std::size_t k = 0; k < len; ++k) values[k] = value(i0 + k, o + k * stride);
        }
        double* __restrict run_sum = sum.data() + o;          // (len) at stride
        double* __restrict run_abs_sum = abs_sum.data() + o;  // (len) at stride
        for (std::size_t k = 0; k < len; ++k) {
          run_sum[k * stride] += values[k];
          run_abs_sum[k * stride] += std::abs(values[k]);
        }
        if (!square_sum) continue;
        // Eight lanes: s0 is a multiple of 8, so lane j takes s = 8k + j.
        std::size_t k = 0;
        for (; k + 8 <= len; k += 8)
          for (std::size_t j = 0; j < 8; ++j) squares[j] += values[k + j] * values[k + j];
        for (; k < len; ++k) squares[k & 7] += values[k] * values[k];
      }
      item_squares[item] = lanes_total(squares);
    });
  }
  if (square_sum) {
    *square_sum = 0;
    for (double part : item_squares) *square_sum += part;
  }
  double worst = 0;
  for (std::size_t o = 0; o < plan.num_stats; ++o) {
    // 0 for an all-zero group; a NaN (a degenerate statistic with eps = 0) propagates.
    double rel = abs_sum[o] > 0 ? std::abs(sum[o]) / abs_sum[o] : (abs_sum[o] == 0 ? 0.0 : abs_sum[o]);
    if (!(rel <= worst)) worst = rel;  // keeps a NaN
  }
  return worst;
}

// sum_j (yp_j - ym_j) * dy_j, sequential in j. A term whose two outputs are
// equal is +-0 (dy is finite), and adding +-0 leaves the sum's bits as they
// are (it starts at +0, and round-to-nearest never makes a sum -0 but from
// -0 + -0), so only the terms the step moved (mostly its statistic's
// elements) are added: the bits of adding every term, while the scan for
// them is not one chain of additions through the whole sub-batch.
double loss_difference(const Array<double>& yp, const Array<double>& ym, const Array<double>& dyd) {
  const double* p = yp.data();
  const double* m = ym.data();
  const double* w = dyd.data();
  const std::size_t count = yp.size();
  double sum = 0;
  auto add_moved = [&](std::size_t j) {
    const double diff = p[j] - m[j];
    if (diff != 0.0) sum += diff * w[j];  // a NaN difference is added too
  };
  std::size_t j = 0;
  for (; j + 8 <= count; j += 8) {
    bool moved = false;
    for (std::size_t k = 0; k < 8; ++k) moved |= p[j + k] - m[j + k] != 0.0;
    if (moved)
      for (std::size_t k = 0; k < 8; ++k) add_moved(j + k);
  }
  for (; j < count; ++j) add_moved(j);
  return sum;
}

// |fd - an| / max(|fd|, |an|, floor); 0 when all three are 0.
double rel_error(double fd, double an, double floor) {
  double denom = std::max({std::abs(fd), std::abs(an), floor});
  return denom > 0 ? std::abs(fd - an) / denom : std::abs(fd - an);
}

void finite_difference(const MethodPlan& plan, const Array<float>& x, const Array<float>& dy, double eps,
                       std::uint64_t seed, GradientsProbe& result) {
  const Dims& d = plan.dims;
  const std::size_t per_sample = d.c * d.s();
  std::size_t n_sub = d.n;
  if (d.count() > kFdMaxElements) {
    n_sub = std::min(d.n, std::max<std::size_t>(2, kFdMaxElements / per_sample));
  }
  const MethodPlan sub = make_plan(plan.method, plan.affine, Dims{n_sub, d.c, d.h, d.w});
  const std::size_t count = sub.dims.count();
  Array<double> xd = Array<double>::from_shape(sub.dims.to_vector());   // (n_sub, C, H, W)
  Array<double> dyd = Array<double>::from_shape(sub.dims.to_vector());  // (n_sub, C, H, W)
  for (std::size_t i = 0; i < count; ++i) {
    xd.data()[i] = x.data()[i];
    dyd.data()[i] = dy.data()[i];
  }
  Params<double> params = identity_params<double>(sub);
  const Statistics stats = batch_statistics(sub, xd);
  const Gradients<double> an = backward(sub, Mode::train, xd, dyd, params, stats, eps);
  double max_dx = 0, max_dgamma = 0;
  for (double v : an.dx) max_dx = std::max(max_dx, std::abs(v));
  if (sub.has_affine())
    for (double v : an.dgamma) max_dgamma = std::max(max_dgamma, std::abs(v));

  Rng rng(probe::sub_seed(seed, probe::Stream::fd_coordinates));
  std::vector<std::size_t> xi(kFdXCoordinates);  // (12) flat indices into xd
  for (std::size_t& i : xi) i = std::size_t(rng.below(count));
  std::vector<std::size_t> gi(sub.has_affine() ? std::min(kFdGammaCoordinates, sub.num_params) : 0);
  for (std::size_t& p : gi) p = std::size_t(rng.below(sub.num_params));

  // Central difference of L along one scalar v (an entry of xd or of gamma);
  // the two outputs are written into the same two buffers every time.
  Array<double> yp = Array<double>::from_shape(sub.dims.to_vector());  // (n_sub, C, H, W)
  Array<double> ym = Array<double>::from_shape(sub.dims.to_vector());  // (n_sub, C, H, W)
  auto central = [&](double& v, double h) {
    const double v0 = v;
    const double vp = v0 + h, vm = v0 - h;
    v = vp;
    (void)forward_train_into(sub, xd.data(), params, eps, yp.data());
    v = vm;
    (void)forward_train_into(sub, xd.data(), params, eps, ym.data());
    v = v0;
    return loss_difference(yp, ym, dyd) / (vp - vm);
  };
  double worst = 0;
  for (std::size_t i : xi) {
    double h = kFdRelStep * std::sqrt(stats.var[stat_of(sub, i)] + eps);
    if (!(h > 0)) h = kFdRelStep;
    double fd = central(xd.data()[i], h);
    double rel = rel_error(fd, an.dx.data()[i], 1e-6 * max_dx);
    if (!(rel <= worst)) worst = rel;
  }
  for (std::size_t p : gi) {
    double fd = central(params.gamma.data()[p], kFdRelStep);
    double rel = rel_error(fd, an.dgamma.data()[p], 1e-6 * max_dgamma);
    if (!(rel <= worst)) worst = rel;
  }
  result.fd_x_coordinates = xi.size();
  result.fd_gamma_coordinates = gi.size();
  result.fd_step = kFdRelStep;
  result.fd_samples_used = n_sub;
  result.fd_max_rel_error = worst;
}

}  // namespace

Array<float> upstream_gradient(const Dims& dims, std::uint64_t seed) {
  Array<float> dy = Array<float>::from_shape(dims.to_vector());  // (N, C, H, W)
  fill_upstream_gradient(dy, seed);
  return dy;
}

void fill_upstream_gradient(Array<float>& dy, std::uint64_t seed) {
  fill_normal_floats(dy, probe::sub_seed(seed, probe::Stream::dy));
}

GradientsProbe probe_gradients(const MethodPlan& plan, const Array<float>& x, double eps, std::uint64_t seed) {
  probe::require_probe_input(plan, x, "probe_gradients");
  return probe_gradients(plan, x, eps, seed, upstream_gradient(plan.dims, seed));
}

GradientsProbe probe_gradients(const MethodPlan& plan, const Array<float>& x, double eps, std::uint64_t seed,
                               const Array<float>& dy) {  // dy: (N, C, H, W)
  return probe_gradients(method_context(plan, x, "probe_gradients"), x, eps, seed, dy);
}

GradientsProbe probe_gradients(const MethodContext& context, const Array<float>& x, double eps, std::uint64_t seed,
                               const Array<float>& dy) {  // dy: (N, C, H, W)
  const MethodPlan& plan = context.plan;
  if (dy.shape() != x.shape()) throw Error("probe_gradients: dy must have the shape of x");
  GradientsProbe result;
  probe::Notes& notes = result.notes;
  result.dy_seed = probe::sub_seed(seed, probe::Stream::dy);
  const Params<float> params = identity_params<float>(plan);
  const Statistics& stats = context.stats;  // (num_stats)
  const double* mean = stats.mean.data();
  // dx is never written: each pass below computes the elements it reads from
  // x, dy and the backward's terms (dx_element: the engine's dx, bit for bit),
  // so the probe holds no tensor of the input's size. gamma = 1.
  auto dx_at = [&](const BackwardTerms& terms, std::size_t i, std::size_t o) {
    return double(dx_element<float>(terms, o, mean[o], 1.0, x.data()[i], dy.data()[i]));
  };

  BackwardTerms terms = backward_terms(plan, Mode::train, x.data(), dy.data(), params, stats, eps);
  {
    // dgamma, dbeta as backward returns them (float32), then their norms;
    // affine none: there are none and the norms are 0.
    auto float_norm = [](const std::vector<double>& sums) {
      double sq = 0;
      for (double v : sums) sq += double(float(v)) * double(float(v));
      return std::sqrt(sq);
    };
    result.dgamma_norm = plan.has_affine() ? float_norm(terms.dgamma_sum) : 0.0;
    result.dbeta_norm = plan.has_affine() ? float_norm(terms.dbeta_sum) : 0.0;
    double dx_squares = 0;  // sum_i dx_i^2, in the identity's pass over dx
    result.sum_dx_max_rel =
        max_rel_sum(plan, [&](std::size_t i, std::size_t o) { return dx_at(terms, i, o); }, &dx_squares);
    result.dx_norm = std::sqrt(dx_squares);
  }
  if (!plan.has_affine()) notes.push_back("affine none: there is no gamma or beta; their norms are 0");

  // sum_S dx * xhat = 0 needs eps = 0 (and gamma constant on S: gamma = 1 here).
  const std::size_t zero_var = context.constant_statistics;
  const double eps_xhat = zero_var == 0 ? 0.0 : eps;
  // The terms at eps_xhat; when that is eps, the ones above (the engine is
  // deterministic). The old ones go first: for Method 2 they are tens of MB.
  if (eps_xhat != eps) {
    terms = BackwardTerms{};
    terms = backward_terms(plan, Mode::train, x.data(), dy.data(), params, stats, eps_xhat);
  }
  result.sum_dx_xhat_max_rel = max_rel_sum(plan, [&](std::size_t i, std::size_t o) {
    const double xhat = (double(x.data()[i]) - mean[o]) * terms.rstd[o];
    return dx_at(terms, i, o) * xhat;
  });
  terms = BackwardTerms{};  // before the finite differences' tensors
  result.sum_dx_xhat_eps = eps_xhat;

  // The finite differences hold a few double tensors of the sub-batch (at
  // most kFdMaxElements elements, or two samples).
  finite_difference(plan, x, dy, eps, seed, result);
  if (result.fd_samples_used < plan.dims.n) {
    notes.push_back("finite_difference: checked on the leading " + std::to_string(result.fd_samples_used) + " of " +
                    std::to_string(plan.dims.n) + " samples (the input has more than 2^20 elements); for a method "
                    "with statistics over N this is the gradient of that sub-batch's normalization");
  }
  if (zero_var > 0) {
    notes.push_back(std::to_string(zero_var) + " statistic(s) have zero variance: sum_dx_xhat uses eps = " +
                    probe::format_number(eps) + " instead of 0, so it is only approximately 0");
  }
  return result;
}

nlohmann::ordered_json GradientsProbe::to_json() const {
  Json block;
  block["dy"] = Json{{"dist", "normal(0,1)"}, {"seed", dy_seed}};
  block["dx_norm"] = number(dx_norm);
  block["dgamma_norm"] = number(dgamma_norm);
  block["dbeta_norm"] = number(dbeta_norm);
  block["finite_difference"] =
      Json{{"coordinates", double(fd_x_coordinates + fd_gamma_coordinates)},
           {"x_coordinates", double(fd_x_coordinates)},
           {"gamma_coordinates", double(fd_gamma_coordinates)},
           {"step", fd_step},
           {"step_unit", "x: times sqrt(var + eps) of the coordinate's statistic; gamma: absolute (gamma = 1)"},
           {"samples_used", double(fd_samples_used)},
           {"max_rel_error", number(fd_max_rel_error)}};
  block["identities"] = Json{{"sum_dx_max_rel", number(sum_dx_max_rel)},
                             {"sum_dx_xhat_max_rel", number(sum_dx_xhat_max_rel)},
                             {"sum_dx_xhat_eps", sum_dx_xhat_eps}};
  block["notes"] = notes;
  return block;
}

}  // namespace bnlab
