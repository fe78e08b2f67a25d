#pragma once
// Everything `bnlab compare` measured for one method, as typed probe results
// (the verdict and the table read these fields), and the probes that fill
// them: one row each in compare_probes() below, which measure_methods
// (compare.cpp) runs and to_json writes in the report's "methods" block.
//
// Adding a probe (docs/architecture.md has the recipe): its own file in
// probes/ (a result type with to_json, a function that measures it), then a
// field here and its row in compare_probes(). Nothing else changes: the
// measuring order, the progress steps, the memory handed from probe to probe
// and the report's keys all follow the rows.
#include <array>
#include <cstddef>
#include <optional>

#include <nlohmann/json.hpp>

#include "bnlab/core/tensor.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/probes/method_context.hpp"
#include "bnlab/probes/probes.hpp"
#include "bnlab/probes/tensor_summary.hpp"
#include "bnlab/report/compare_config.hpp"

namespace bnlab {

struct CompareMethod {
  Method method;
  MethodPlan plan;
  // A statistic pools a single value (e.g. Method 2 with N = 1): train mode is
  // undefined and no probe runs.
  bool degenerate = false;
  // Statistics of the input with zero variance (a dead channel for Method 3):
  // left out of every judgement, counted in the verdict.
  std::size_t constant_statistics = 0;
  std::optional<OutputProbe> output;
  std::optional<GradientsProbe> gradients;
  std::optional<InvarianceProbe> invariance;
  std::optional<SamplesProbe> samples;
  std::optional<BatchSizeProbe> batch_size;
  std::optional<ChannelStandardization> channel_standardization;
  std::optional<MapsProbe> maps;  // the HTML report's figures 3 to 5
};

// What a probe needs beside x and the config: it decides when the probe runs.
// measure_methods runs the probes need by need, in the order below, every method's
// probes of one need before the next (each need's memory is the one tensor of
// the input's size that compare holds beside x, handed from need to need):
enum class ProbeNeed {
  output_memory,      // a tensor of x's shape to write the method's output into (scratch)
  statistics,         // the context's batch statistics only (runs while dy is drawn)
  upstream_gradient,  // dy ~ N(0, 1) of the config's seed, (N, C, H, W), the same for every method
  base,               // context.base = f(x) at kEpsConstantSafe (method_context.hpp)
};

// What a probe reads. context.base is filled only for ProbeNeed::base.
struct ProbeInputs {
  const MethodContext& context;
  const Array<float>& x;           // (N, C, H, W)
  const TensorSummary& x_summary;  // x's channels and global moments
  const CompareConfig& config;
  Array<float>* output_memory = nullptr;  // (N, C, H, W), for ProbeNeed::output_memory only
  const Array<float>* dy = nullptr;       // (N, C, H, W), for ProbeNeed::upstream_gradient only
};

struct CompareProbe {
  const char* name;  // the progress step ("method 3: <name>")
  const char* key;   // its block in the report's method ("methods"."3"."<key>")
  ProbeNeed need;
  void (*measure)(const ProbeInputs&, CompareMethod&);    // fills its field
  nlohmann::ordered_json (*to_json)(const CompareMethod&);  // its block; null when it did not run
  bool left_out_when_degenerate = false;  // no key at all for a degenerate method (else null)
};

template <class Probe>
nlohmann::ordered_json json_or_null(const std::optional<Probe>& probe) {
  return probe ? probe->to_json() : nlohmann::ordered_json(nullptr);
}

// Every probe, in the order of the report's keys.
inline const std::array<CompareProbe, 7>& compare_probes() {
  using Json = nlohmann::ordered_json;
  static const std::array<CompareProbe, 7> probes = {{
      {"output", "output", ProbeNeed::output_memory,
       [](const ProbeInputs& in, CompareMethod& m) {
         m.output = probe_output(in.context, in.x, in.x_summary, in.config.eps, *in.output_memory);
       },
       [](const CompareMethod& m) -> Json { return json_or_null(m.output); }},
      {"gradients", "gradients", ProbeNeed::upstream_gradient,
       [](const ProbeInputs& in, CompareMethod& m) {
         m.gradients = probe_gradients(in.context, in.x, in.config.eps, in.config.seed, *in.dy);
       },
       [](const CompareMethod& m) -> Json { return json_or_null(m.gradients); }},
      {"invariance", "invariance", ProbeNeed::base,
       [](const ProbeInputs& in, CompareMethod& m) { m.invariance = probe_invariance(in.context, in.x, in.config.seed); },
       [](const CompareMethod& m) -> Json { return json_or_null(m.invariance); }},
      {"samples", "samples", ProbeNeed::base,
       [](const ProbeInputs& in, CompareMethod& m) { m.samples = probe_samples(in.context, in.x); },
       [](const CompareMethod& m) -> Json { return json_or_null(m.samples); }},
      {"batch size", "batch_size", ProbeNeed::statistics,
       [](const ProbeInputs& in, CompareMethod& m) { m.batch_size = probe_batch_size(in.context, in.x, in.config.eps); },
       [](const CompareMethod& m) -> Json { return json_or_null(m.batch_size); }},
      // For the verdict, at the eps of the invariance probes (kEpsConstantSafe):
      // the configured eps shrinks a low-variance channel's variance to
      // var / (var + eps), which is eps's doing, not the axes'. Constant input
      // channels are left out.
      {"channel standardization", "channel_standardization", ProbeNeed::base,
       [](const ProbeInputs& in, CompareMethod& m) {
         m.channel_standardization = probe_channel_standardization(in.context);
       },
       [](const CompareMethod& m) -> Json { return json_or_null(m.channel_standardization); }, true},
      {"maps", "maps", ProbeNeed::base,
       [](const ProbeInputs& in, CompareMethod& m) { m.maps = probe_maps(in.context, in.x); },
       [](const CompareMethod& m) -> Json { return json_or_null(m.maps); }},
  }};
  return probes;
}

}  // namespace bnlab
