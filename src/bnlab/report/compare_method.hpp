#pragma once
// Everything `bnlab compare` measured for one method, as typed probe results:
// the verdict and the table read these fields; to_json (compare.cpp) writes
// the report's "methods" block from them.
#include <cstddef>
#include <optional>

#include "bnlab/engine/method.hpp"
#include "bnlab/probes/probes.hpp"

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

}  // namespace bnlab
