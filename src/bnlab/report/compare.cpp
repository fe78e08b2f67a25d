#include "bnlab/report/compare.hpp"

#include <algorithm>
#include <cmath>

#include "bnlab/core/error.hpp"
#include "bnlab/engine/constant_statistic.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/probes/probes.hpp"
#include "bnlab/synth/synth.hpp"
#include "bnlab/report/verdict.hpp"

namespace bnlab {
namespace {

using Json = nlohmann::ordered_json;

// What the input looks like before any normalization: global moments and the
// spread of per-channel standard deviations (what Method 1 mixes together).
Json describe_input(const Array<float>& x, const Dims& d) {  // x: (N, C, H, W)
  const std::size_t S = d.s();
  std::vector<double> channel_sum(d.c, 0.0), channel_sq(d.c, 0.0);  // (C)
  double lo = x.data()[0], hi = x.data()[0];
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t c = 0; c < d.c; ++c) {
      const float* run = x.data() + (n * d.c + c) * S;
      for (std::size_t s = 0; s < S; ++s) {
        channel_sum[c] += run[s];
        lo = std::min(lo, double(run[s]));
        hi = std::max(hi, double(run[s]));
      }
    }
  const double per_channel = double(d.n * S);
  double total = 0;
  for (double s : channel_sum) total += s;
  const double mean = total / double(d.count());
  // Second pass: squared deviations from the channel means and from the global mean.
  double global_sq = 0;
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t c = 0; c < d.c; ++c) {
      const float* run = x.data() + (n * d.c + c) * S;
      const double mc = channel_sum[c] / per_channel;
      for (std::size_t s = 0; s < S; ++s) {
        channel_sq[c] += (run[s] - mc) * (run[s] - mc);
        global_sq += (run[s] - mean) * (run[s] - mean);
      }
    }
  double std_min = INFINITY, std_max = 0;
  for (std::size_t c = 0; c < d.c; ++c) {
    double s = std::sqrt(channel_sq[c] / per_channel);
    std_min = std::min(std_min, s);
    std_max = std::max(std_max, s);
  }
  return Json{{"mean", mean},
              {"std", std::sqrt(global_sq / double(d.count()))},
              {"min", lo},
              {"max", hi},
              {"channel_std_min", std_min},
              {"channel_std_max", std_max}};
}

Json strings(const std::vector<std::string>& v) { return Json(v); }

// Everything measured for one method.
Json method_block(const Method& method, const Dims& dims, const Array<float>& x, const CompareConfig& config) {
  MethodPlan plan = make_plan(method, AffineMode::natural, dims);
  Json m;
  m["title"] = method.title;
  m["reduce_axes"] = strings(plan.reduce_axes());
  m["stat_axes"] = strings(plan.stat_axes());
  m["param_axes"] = strings(plan.param_axes());
  m["stat_shape"] = plan.stat_shape;
  m["param_shape"] = plan.param_shape;
  m["num_statistics"] = plan.num_stats;
  m["elements_per_statistic"] = plan.elements_per_stat;
  m["num_parameters"] = plan.num_params;
  m["has_running_statistics"] = method.batch_dependent();
  if (plan.elements_per_stat < 2) {
    m["degenerate"] = true;
    m["notes"] = {"each statistic pools a single value (shape " + shape_to_string(dims.to_vector()) +
                  "): the batch variance is 0, every xhat is 0 and the output is beta everywhere; train mode "
                  "is undefined (PyTorch refuses it too), so nothing else is measured"};
    m["output"] = nullptr;
    m["gradients"] = nullptr;
    m["invariance"] = nullptr;
    m["batch_size"] = nullptr;
    return m;
  }
  m["degenerate"] = false;
  m["output"] = probe_output(plan, x, config.eps);
  m["gradients"] = probe_gradients(plan, x, config.eps, config.seed);
  m["invariance"] = probe_invariance(plan, x, config.eps, config.seed);
  m["batch_size"] = probe_batch_size(plan, x, config.eps);
  // Channel standardization for the verdict, at the eps the invariance probes
  // used (0 unless a statistic is constant): the configured eps shrinks the
  // variance of a low-variance channel to var / (var + eps), which is eps's
  // doing, not the axes'.
  double eps_used = m["invariance"].value("eps_used", config.eps);
  const Json& at_eps = eps_used == config.eps ? m["output"] : probe_output(plan, x, eps_used);
  m["channel_standardization"] = {{"eps", eps_used},
                                  {"max_abs_mean", at_eps["per_channel"]["max_abs_mean"]},
                                  {"max_abs_var_minus_one", at_eps["per_channel"]["max_abs_var_minus_one"]}};
  return m;
}

}  // namespace

Array<float> load_compare_input(const CompareConfig& config) {
  if (config.input) return read_feature_map(*config.input, parse_data_layout(config.layout, "layout"));
  return synthesize(SynthSpec{config.shape, parse_distribution(config.dist, "dist"), config.seed});
}

Json build_compare_report(const CompareConfig& config, const Array<float>& x) {
  Dims dims = dims_from_shape(Shape(x.shape().begin(), x.shape().end()), config.input.value_or("input"));
  // Validate every method against the shape before measuring anything.
  std::vector<Method> methods;
  for (const std::string& id : config.methods) {
    methods.push_back(parse_method(id, "methods"));
    const MethodPlan plan = make_plan(methods.back(), AffineMode::natural, dims);
    // eps = 0 with a constant statistic would report 0/0 as null: refused.
    if (config.eps == 0.0 && plan.elements_per_stat >= 2) {
      if (auto statistic = find_zero_variance_statistic(plan, batch_statistics(plan, x).var, 0.0)) {
        throw Error("eps 0: " + *statistic + " of method " + plan.method.id +
                    " has batch variance 0 in the input, so its output is 0/0; give eps > 0 (e.g. the default 1e-5)");
      }
    }
  }

  Json report;
  report["schema"] = kCompareSchema;
  report["question"] =
      "Over which axes should batch normalization of an (N, C, H, W) feature map take its mean and variance?";
  Json input;
  input["source"] = config.source();
  input["shape"] = dims.to_vector();
  if (config.input) {
    input["path"] = *config.input;
    input["layout"] = config.layout;
  } else {
    input["dist"] = config.dist;
    input["seed"] = config.seed;
  }
  input["summary"] = describe_input(x, dims);
  report["input"] = input;
  report["config"] = to_json(config);

  Json blocks = Json::object();
  std::vector<std::string> ids;
  for (const Method& method : methods) {
    ids.push_back(method.id);
    blocks[method.id] = method_block(method, dims, x, config);
  }
  report["methods"] = blocks;
  report["verdict"] = build_verdict(blocks, ids);
  return report;
}

Json run_compare(const CompareConfig& config) { return build_compare_report(config, load_compare_input(config)); }

}  // namespace bnlab
