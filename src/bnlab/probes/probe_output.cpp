// probe_output: what the train-mode output looks like (gamma = 1, beta = 0).
//
// Shapes (legend: N batch, C channels, H, W spatial, S = H*W):
//   x, y: (N, C, H, W) float32, y in the caller's buffer. Every statistic
//   below is summarize_tensor's (tensor_summary.hpp): sums in double in a
//   fixed order whatever the thread count, variances from centred values; two
//   passes over y for all of them; x's channels come from the caller's summary
//   of x (compare summarizes x once for every method).
//
// Definitions:
//   per_channel   mean_c, var_c of y over (N, H, W) (biased variance).
//   per_location  the same over (N, C) for each (h, w); per_sample over (C, H, W) for each n.
//   pattern fraction of channel c of a tensor z:
//     m_c(h, w) = mean_n z[n, c, h, w]        the batch-mean spatial pattern
//     mean_c    = mean_hw m_c(h, w)            (= the channel mean)
//     f_c(z)    = sum_hw N (m_c - mean_c)^2 / sum_nhw (z - mean_c)^2
//   the fraction of the channel's variance the shared pattern explains (0 for
//   a constant channel). pattern_fraction_* = sum_c f_c / C, and
//   pattern_survival = sum_c f_c(y) / sum_c f_c(x): 1 when the method maps each
//   channel by one affine map (Method 3), 0 when it centres every location
//   over the batch (Method 2 erases the pattern).
//   channel_std_ratio = min_c std(y[:, c]) / max_c std(y[:, c]).
#include <algorithm>
#include <cmath>
#include <limits>

#include "bnlab/engine/engine.hpp"
#include "bnlab/probes/detail/probe_util.hpp"
#include "bnlab/probes/detail/run_sums.hpp"
#include "bnlab/probes/probes.hpp"
#include "bnlab/probes/tensor_summary.hpp"

namespace bnlab {
namespace {

using probe::Json;
using probe::number;

double sum_of(const std::vector<double>& v) {
  double s = 0;
  for (double e : v) s += e;
  return s;
}

}  // namespace

void Deviation::add(double mean, double var) {
  max_abs_mean = std::max(max_abs_mean, std::abs(mean));
  max_abs_var_minus_one = std::max(max_abs_var_minus_one, std::abs(var - 1.0));
}

Json Deviation::to_json() const {
  return Json{{"max_abs_mean", number(max_abs_mean)}, {"max_abs_var_minus_one", number(max_abs_var_minus_one)}};
}

OutputProbe probe_output(const MethodPlan& plan, const Array<float>& x, double eps) {
  Array<float> y;  // (N, C, H, W)
  const MethodContext context = method_context(plan, x, "probe_output");
  return probe_output(context, x, summarize_tensor(x, plan.dims, SummaryScope::channels), eps, y);
}

OutputProbe probe_output(const MethodContext& context, const Array<float>& x, const TensorSummary& in, double eps,
                         Array<float>& y) {
  const MethodPlan& plan = context.plan;
  const Dims& d = plan.dims;
  OutputProbe result;
  result.eps = eps;

  if (shape_of(y) != shape_of(x)) y = Array<float>::from_shape(shape_of(x));  // (N, C, H, W)
  forward_train_into(plan, x.data(), identity_params<float>(plan), eps, y.data());
  const TensorSummary out = summarize_tensor(y, d, SummaryScope::everything);

  double std_min = std::numeric_limits<double>::infinity(), std_max = 0;
  std::size_t constant_in = 0, first_constant = 0;
  for (std::size_t c = 0; c < d.c; ++c) {
    result.per_channel.add(out.channel_mean[c], out.channel_var[c]);
    double sd = std::sqrt(out.channel_var[c]);
    std_min = std::min(std_min, sd);
    std_max = std::max(std_max, sd);
    if (in.channel_var[c] == 0.0 && constant_in++ == 0) first_constant = c;
  }
  result.channel_mean = out.channel_mean;
  result.channel_var = out.channel_var;
  if (constant_in > 0) {
    result.notes.push_back(std::to_string(constant_in) + " input channel(s) are constant (first: channel " +
                           std::to_string(first_constant) +
                           "): their pattern fraction is 0 and a per-channel method outputs 0 there (variance 0)");
  }
  for (std::size_t s = 0; s < d.s(); ++s) result.per_location.add(out.location_mean[s], out.location_var[s]);
  for (std::size_t n = 0; n < d.n; ++n) result.per_sample.add(out.sample_mean[n], out.sample_var[n]);
  result.global_mean = out.mean;
  result.global_std = out.std;
  result.global_min = out.min;
  result.global_max = out.max;

  const double f_in = sum_of(in.pattern_fraction), f_out = sum_of(out.pattern_fraction);
  result.pattern_fraction_input = f_in / double(d.c);
  result.pattern_fraction_output = f_out / double(d.c);
  if (f_in > 0) {
    result.pattern_survival = f_out / f_in;
  } else {
    result.notes.push_back(d.s() == 1 ? "pattern_survival is null: H = W = 1, there is no spatial pattern"
                                      : "pattern_survival is null: the input's batch-mean spatial pattern is flat in every channel");
  }
  if (std_max > 0) {
    result.channel_std_ratio = std_min / std_max;
  } else {
    result.notes.push_back("channel_std_ratio is null: every output channel is constant");
  }
  return result;
}

Json OutputProbe::to_json() const {
  Json per_channel_json;
  per_channel_json["mean"] = Json::array();
  per_channel_json["var"] = Json::array();
  for (double v : channel_mean) per_channel_json["mean"].push_back(number(v));
  for (double v : channel_var) per_channel_json["var"].push_back(number(v));
  per_channel_json["max_abs_mean"] = number(per_channel.max_abs_mean);
  per_channel_json["max_abs_var_minus_one"] = number(per_channel.max_abs_var_minus_one);
  Json block;
  block["per_channel"] = std::move(per_channel_json);
  block["per_location"] = per_location.to_json();
  block["per_sample"] = per_sample.to_json();
  block["global"] = Json{{"mean", number(global_mean)}, {"std", number(global_std)}, {"min", number(global_min)},
                         {"max", number(global_max)}};
  block["pattern_fraction_input"] = number(pattern_fraction_input);
  block["pattern_fraction_output"] = number(pattern_fraction_output);
  block["pattern_survival"] = pattern_survival ? number(*pattern_survival) : Json(nullptr);
  block["channel_std_ratio"] = channel_std_ratio ? number(*channel_std_ratio) : Json(nullptr);
  block["eps"] = eps;
  block["notes"] = notes;
  return block;
}

// The output at kEpsConstantSafe, per channel over the elements whose
// statistic is not constant (a constant statistic's output is 0 whatever the
// axes; e.g. Method 2 on post-ReLU input, where an activation is 0 in every
// sample). A channel with no such element is left out and counted.
ChannelStandardization probe_channel_standardization(const MethodPlan& plan, const Array<float>& x) {
  MethodContext context = method_context(plan, x, "probe_channel_standardization");
  compute_base(context, x);
  return probe_channel_standardization(context);
}

ChannelStandardization probe_channel_standardization(const MethodContext& context) {
  const MethodPlan& plan = context.plan;
  const Dims& d = plan.dims;
  const std::size_t S = d.s();
  ChannelStandardization result;
  const Statistics& stats = context.stats;  // (num_stats)
  const Array<float>& y = context.base;     // (N, C, H, W) f(x) at kEpsConstantSafe = result.eps
  auto counted = [&](std::size_t n, std::size_t c, std::size_t s) {
    return stats.var[plan.stat.base(n, c) + s * plan.stat.s_stride] != 0.0;
  };
  // Channel by channel in parallel, each channel's sums in a fixed order;
  // then the deviations in channel order.
  std::vector<double> means(d.c), vars(d.c);  // (C)
  std::vector<char> has_values(d.c, 0);       // (C)
  if (context.constant_statistics == 0) {
    // Every value counts: each channel's runs in sample order, 8 lanes each;
    // the mean, then the biased variance from centred values.
    probe::for_each_item(d.c, [&](std::size_t c) {
      probe::LaneMoments sum, centred;
      for (std::size_t n = 0; n < d.n; ++n) sum.add(y.data() + (n * d.c + c) * S, S, 0.0);
      const double count = double(d.n * S);
      means[c] = sum.sum1() / count;
      for (std::size_t n = 0; n < d.n; ++n) centred.add(y.data() + (n * d.c + c) * S, S, means[c]);
      vars[c] = centred.sum2() / count;
      has_values[c] = 1;
    });
  } else {
    // Constant statistics leave their values out (counted).
    probe::for_each_item(d.c, [&](std::size_t c) {
      double sum = 0, count = 0;  // first pass: the mean
      for (std::size_t n = 0; n < d.n; ++n) {
        const float* run = y.data() + (n * d.c + c) * S;
        for (std::size_t s = 0; s < S; ++s)
          if (counted(n, c, s)) {
            sum += run[s];
            count += 1;
          }
      }
      if (count == 0) return;
      const double mean = sum / count;
      double sq = 0;  // second pass: the biased variance from centred values
      for (std::size_t n = 0; n < d.n; ++n) {
        const float* run = y.data() + (n * d.c + c) * S;
        for (std::size_t s = 0; s < S; ++s)
          if (counted(n, c, s)) sq += (run[s] - mean) * (run[s] - mean);
      }
      has_values[c] = 1;
      means[c] = mean;
      vars[c] = sq / count;
    });
  }
  for (std::size_t c = 0; c < d.c; ++c) {
    if (has_values[c]) result.deviation.add(means[c], vars[c]);
    else ++result.constant_channels;
  }
  return result;
}

Json ChannelStandardization::to_json() const {
  return Json{{"eps", eps},
              {"constant_channels", constant_channels},
              {"max_abs_mean", number(deviation.max_abs_mean)},
              {"max_abs_var_minus_one", number(deviation.max_abs_var_minus_one)}};
}

}  // namespace bnlab
