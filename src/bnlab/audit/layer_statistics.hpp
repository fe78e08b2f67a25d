#pragma once
// What `bnlab audit` measures on one BatchNorm2d layer of a dump, in float64.
// The derivation of each number is beside its code (layer_statistics.cpp) and
// in docs/audit.md.
#include <cstddef>
#include <vector>

#include "bnlab/audit/dump.hpp"

namespace bnlab::audit {

// Per channel c of a layer's input x (N, C, H, W): n = N*H*W values per statistic.
struct ChannelStatistics {
  double batch_mean = 0, batch_var = 0;  // over the N*H*W values; the variance biased, as train mode uses it
  double population_var = 0;             // unbiased (n / (n-1)): what PyTorch stores as running_var
  double mean_shift = 0;                 // (batch mean - running mean) / sqrt(batch var + eps)
  double std_ratio = 0;                  // sqrt(running var + eps) / sqrt(batch var + eps)
  double mean_standard_error = 0;        // of the batch mean, in batch std (NaN when N = 1)
  double var_relative_standard_error = 0;  // of the batch variance, relative to it (NaN when N = 1 or dead)
  double batch_for_1pct_mean = 0;        // batch size for a mean standard error of 1% of the batch std
  double batch_for_1pct_var = 0;         // batch size for a variance standard error of 1% of the variance
  double precise_bn_images = 0;          // images for a population mean within 0.1 batch std (one standard error)
  bool dead = false;                     // batch or running variance below dead_variance_fraction_of_eps()*eps
  bool zero_gamma = false;               // |weight| <= zero_gamma_threshold()
};

struct LayerStatistics {
  std::size_t batch = 0, channels = 0, values_per_statistic = 0;
  std::vector<ChannelStatistics> channel;
  double eval_train_gap = 0;  // ||y_eval - y_train|| / ||y_train|| over the whole layer (NaN without running statistics)
};

// Measures `layer` (a BatchNorm2d; without running statistics the mean
// shift, std ratio and gap are NaN).
LayerStatistics measure_layer(const DumpLayer& layer);

}  // namespace bnlab::audit
