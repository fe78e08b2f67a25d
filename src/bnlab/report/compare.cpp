#include "bnlab/report/compare.hpp"

#include <algorithm>
#include <cmath>
#include <future>
#include <optional>

#include "bnlab/core/error.hpp"
#include "bnlab/core/size.hpp"
#include "bnlab/engine/constant_statistic.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/io/notes.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/probes/probes.hpp"
#include "bnlab/probes/tensor_summary.hpp"
#include "bnlab/synth/synth.hpp"

namespace bnlab {
namespace {

using Json = nlohmann::ordered_json;

// What the input looks like before any normalization: global moments and the
// spread of per-channel standard deviations (what Method 1 mixes together),
// from the input's summary (summarize_tensor's two parallel passes over x).
InputSummary describe_input(const TensorSummary& summary) {
  double std_min = INFINITY, std_max = 0;
  for (double var : summary.channel_var) {
    std_min = std::min(std_min, std::sqrt(var));
    std_max = std::max(std_max, std::sqrt(var));
  }
  return InputSummary{.mean = summary.mean,
                      .std = summary.std,
                      .min = summary.min,
                      .max = summary.max,
                      .channel_std_min = std_min,
                      .channel_std_max = std_max};
}

Json strings(const std::vector<std::string>& v) { return Json(v); }

// A method's result before any probe: its plan, and whether train mode is
// defined (a statistic pooling a single value is degenerate: nothing is measured).
CompareMethod plan_method(const Method& method, const Dims& dims) {
  CompareMethod m;
  m.method = method;
  m.plan = make_plan(method, AffineMode::natural, dims);
  m.degenerate = m.plan.elements_per_stat < 2;
  return m;
}

bool some_probe_needs(ProbeNeed need) {
  for (const CompareProbe& probe : compare_probes())
    if (probe.need == need) return true;
  return false;
}

// Runs every probe of one need on one method, in the rows' order.
void run_probes(ProbeNeed need, const ProbeInputs& inputs, CompareMethod& m, Progress* progress) {
  for (const CompareProbe& probe : compare_probes()) {
    if (probe.need != need) continue;
    step(progress, "method " + m.method.id + ": " + probe.name);
    probe.measure(inputs, m);
  }
}

// Every probe of every method (compare_method.hpp's rows), need by need in
// the order of ProbeNeed, with one MethodContext per method (batch statistics
// once, then the base output) and one tensor of the input's size beside the
// input at any time, whose memory passes from need to need (fresh memory
// costs a page fault per 4 KiB):
//   output_memory      every method's output probe writes its y there;
//   statistics         then the same memory takes dy (drawn once: it does not
//                      depend on the method; a sequential pass of the random
//                      generator, on a thread of its own while every method's
//                      statistics-only probes run);
//   upstream_gradient  every method's probes that read dy (the gradients
//                      probe computes dx where it reads it);
//   base               dy's memory becomes the method's base f(x), which every
//                      probe of this need compares against; they compute f of a
//                      transformed input from x as they compare it
//                      (probes/detail/transformed_forward.hpp) and write no
//                      tensor of the input's size; the base's memory passes to
//                      the next method.
// Each probe is deterministic and writes only its own method's result: the
// order of the needs changes nothing in the report.
// x_summary: x's channels (summarize_tensor), which the output probe reads.
void measure_methods(std::vector<CompareMethod>& results, const Array<float>& x, const TensorSummary& x_summary,
                     const CompareConfig& config, Progress* progress) {
  std::vector<std::optional<MethodContext>> contexts(results.size());  // (methods), batch statistics only
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].degenerate) continue;
    contexts[i] = method_context(results[i].plan, x);
    results[i].constant_statistics = contexts[i]->constant_statistics;
  }
  if (std::none_of(contexts.begin(), contexts.end(), [](const auto& c) { return c.has_value(); })) return;
  auto each_measured = [&](auto&& work) {
    for (std::size_t i = 0; i < results.size(); ++i)
      if (!results[i].degenerate) work(results[i], *contexts[i]);
  };
  Array<float> memory;  // (N, C, H, W): y, then dy, then each method's base
  each_measured([&](CompareMethod& m, MethodContext& context) {
    run_probes(ProbeNeed::output_memory, {.context = context, .x = x, .x_summary = x_summary, .config = config,
                                          .output_memory = &memory},
               m, progress);
  });
  {
    const bool draw_dy = some_probe_needs(ProbeNeed::upstream_gradient);
    if (draw_dy && shape_of(memory) != shape_of(x)) memory = Array<float>::from_shape(shape_of(x));
    Array<float>& dy = memory;  // (N, C, H, W)
    std::future<void> dy_drawn;
    if (draw_dy)
      dy_drawn = std::async(std::launch::async, [&dy, seed = config.seed] { fill_upstream_gradient(dy, seed); });
    try {
      each_measured([&](CompareMethod& m, MethodContext& context) {
        run_probes(ProbeNeed::statistics, {.context = context, .x = x, .x_summary = x_summary, .config = config}, m,
                   progress);
      });
    } catch (...) {
      if (draw_dy) dy_drawn.wait();  // the thread writes into memory: it must finish before the memory goes
      throw;
    }
    if (draw_dy) dy_drawn.get();
    each_measured([&](CompareMethod& m, MethodContext& context) {
      run_probes(ProbeNeed::upstream_gradient,
                 {.context = context, .x = x, .x_summary = x_summary, .config = config, .dy = &dy}, m, progress);
    });
  }
  if (!some_probe_needs(ProbeNeed::base)) return;
  each_measured([&](CompareMethod& m, MethodContext& context) {
    compute_base(context, x, std::move(memory));
    run_probes(ProbeNeed::base, {.context = context, .x = x, .x_summary = x_summary, .config = config}, m, progress);
    memory = std::move(context.base);
  });
}

// Every method of `config` fits `dims` (gn:G: G divides C): else Error.
void check_methods_fit(const CompareConfig& config, const Dims& dims) {
  for (const std::string& id : config.methods) make_plan(parse_method(id, "methods"), AffineMode::natural, dims);
}

Json method_json(const CompareMethod& m) {
  const MethodPlan& plan = m.plan;
  Json j;
  j["title"] = m.method.title;
  j["role"] = m.method.role == MethodRole::candidate ? "candidate" : "reference";
  j["reduce_axes"] = strings(plan.reduce_axes());
  j["stat_axes"] = strings(plan.stat_axes());
  j["param_axes"] = strings(plan.param_axes());
  j["stat_shape"] = plan.stat_shape;
  j["param_shape"] = plan.param_shape;
  j["num_statistics"] = plan.num_stats;
  j["elements_per_statistic"] = plan.elements_per_stat;
  j["num_parameters"] = plan.num_params;
  j["has_running_statistics"] = m.method.batch_dependent();
  j["degenerate"] = m.degenerate;
  j["constant_statistics"] = m.constant_statistics;
  if (m.degenerate) {
    j["notes"] = {"each statistic pools a single value (shape " + shape_to_string(plan.dims.to_vector()) +
                  "): the batch variance is 0, every xhat is 0 and the output is beta everywhere; train mode "
                  "is undefined (PyTorch refuses it too), so nothing else is measured"};
  }
  for (const CompareProbe& probe : compare_probes()) {  // the probes' blocks, in the rows' order
    if (m.degenerate && probe.left_out_when_degenerate) continue;
    j[probe.key] = probe.to_json(m);
  }
  return j;
}

}  // namespace

Array<float> load_compare_input(const CompareConfig& config) {
  if (config.input) return read_feature_map(*config.input, parse_data_layout(config.layout, "layout"));
  return synthesize(SynthSpec{config.shape, parse_distribution(config.dist, "dist"), config.seed});
}

CompareResult compare(const CompareConfig& config, const Array<float>& x, Progress* progress) {
  CompareResult result;
  result.config = config;
  result.dims = dims_from_shape(shape_of(x), config.input.value_or("input"));
  // The probes hold two input-sized tensors at once (measure_methods: the
  // input and one more; measured peak on 64x256x56x56 2.4x the input for
  // Methods 1 and 3, 2.8x with Method 2's per-statistic buffers, probes.hpp):
  // refuse up front, naming the bytes and the input, rather than fail deep
  // inside a probe.
  constexpr std::size_t kPeakInputCopies = 3;  // 2 tensors, and the slack above them
  const std::string asked_by = config.input.value_or("--shape");
  require_memory(checked_byte_size(x.size(), kPeakInputCopies * sizeof(float), asked_by), asked_by,
                 "compare's probes (2 tensors of the input's size at once, and per-statistic buffers)");
  // Validate every method against the shape before measuring anything.
  std::vector<Method> methods;
  for (const std::string& id : config.methods) {
    methods.push_back(parse_method(id, "methods"));
    const MethodPlan plan = make_plan(methods.back(), AffineMode::natural, result.dims);
    // eps = 0 with a constant statistic would report 0/0 as null: refused.
    if (config.eps == 0.0 && plan.elements_per_stat >= 2) {
      if (auto statistic = find_zero_variance_statistic(plan, batch_statistics(plan, x).var, 0.0)) {
        throw Error("eps 0: " + *statistic + " of method " + plan.method.id +
                    " has batch variance 0 in the input, so its output is 0/0; give eps > 0 (e.g. the default 1e-5)");
      }
    }
  }
  if (result.dims.n == 1) note(kBatchOfOneNote);
  for (const Method& method : methods) result.methods.push_back(plan_method(method, result.dims));
  if (progress) {
    std::size_t measured = 0;
    for (const CompareMethod& m : result.methods) measured += m.degenerate ? 0 : 1;
    progress->add_steps(1 + compare_probes().size() * measured);  // one step per probe of a method
  }
  step(progress, "input summary");
  // x's summary once: the report's input block and every output probe's input channels.
  const TensorSummary x_summary = summarize_tensor(x, result.dims, SummaryScope::channels_and_global);
  result.input = describe_input(x_summary);
  result.input_maps = probe_input_maps(x);
  measure_methods(result.methods, x, x_summary, config, progress);
  result.verdict = judge_methods(result.methods);
  return result;
}

Json compare_report_opening(const char* schema, const std::string& question, Json input,
                            const CompareConfig& config) {
  Json report;
  report["schema"] = schema;
  report["question"] = question;
  report["input"] = std::move(input);
  report["config"] = to_json(config);
  return report;
}

Json to_json(const CompareResult& result) {
  const CompareConfig& config = result.config;
  Json input;
  input["source"] = config.source();
  input["shape"] = result.dims.to_vector();
  if (config.input) {
    input["path"] = config.input_as_written.value_or(*config.input);
    input["layout"] = config.layout;
  } else {
    input["dist"] = config.dist;
    input["seed"] = config.seed;
  }
  const InputSummary& in = result.input;
  input["summary"] = Json{{"mean", in.mean}, {"std", in.std}, {"min", in.min}, {"max", in.max},
                          {"channel_std_min", in.channel_std_min}, {"channel_std_max", in.channel_std_max}};
  input["maps"] = result.input_maps.to_json();
  if (result.dims.n == 1) input["notes"] = {kBatchOfOneNote};
  Json report = compare_report_opening(kCompareSchema, std::string(kCompareQuestion) + "?", std::move(input), config);
  Json blocks = Json::object();
  for (const CompareMethod& m : result.methods) blocks[m.method.id] = method_json(m);
  report["methods"] = blocks;
  report["verdict"] = result.verdict.to_json(result.methods);
  return report;
}

Json build_compare_report(const CompareConfig& config, const Array<float>& x) { return to_json(compare(config, x)); }

CompareResult run_compare_result(const CompareConfig& config, Progress* progress) {
  step(progress, config.input ? "reading " + *config.input : "synthesizing the input");
  // A note about the input read (its layout) follows only once every method
  // fits its shape: when one does not (gn:3 on 16 channels), the error is
  // the only line.
  HeldNotes notes;
  const Array<float> x = load_compare_input(config);  // (N, C, H, W)
  check_methods_fit(config, dims_from_shape(shape_of(x), config.input.value_or("input")));
  notes.release();
  return compare(config, x, progress);
}

Json run_compare(const CompareConfig& config) { return to_json(run_compare_result(config)); }

}  // namespace bnlab
