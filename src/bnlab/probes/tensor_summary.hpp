#pragma once
// summarize_tensor: the moments of an (N, C, H, W) tensor that the output
// probe reports for its output and input and compare reports for its input,
// in two passes over the tensor (the sums, then the squared deviations from
// the means of the first), channels in parallel.
//
// Shapes (legend: N batch, C channels, H, W spatial, S = H*W):
//   z: (N, C, H, W) float32, row-major; every sum is taken in double.
//
// Definitions (biased variances, from centred values):
//   channel c   mean_c, var_c over (N, H, W); pattern fraction
//     m_c(h, w) = mean_n z[n, c, h, w]        the batch-mean spatial pattern
//     f_c = sum_hw N (m_c - mean_c)^2 / sum_nhw (z - mean_c)^2
//   (0 for a constant channel); mean_c = mean_hw m_c(h, w).
//   sample n    mean, var over (C, H, W); location (h, w): over (N, C);
//   global      mean, std over every element, min, max (a NaN is skipped by
//               min and max, not by the moments).
//
// Determinism: each channel's sums run in one fixed order (m_c(s) over n,
// mean_c over s, the squared deviations over (n, s) in memory order); the
// other sums go through partials of fixed blocks of channels (a run's share
// in 8 lanes, a block's runs in channel order) added in block order, so the
// bits do not depend on the thread count. The partials take at most an
// eighth of the tensor's bytes (for a tiny tensor, one block's: (S) and
// 3 (N) doubles, about what the results take).
#include <cstddef>
#include <vector>

#include "bnlab/core/shape.hpp"
#include "bnlab/core/tensor.hpp"

namespace bnlab {

// What summarize_tensor computes beside the channels (which it always does).
enum class SummaryScope {
  channels,              // channel_* and pattern_fraction only
  channels_and_global,   // and sample_*, mean, std, min, max
  everything,            // and location_*
};

struct TensorSummary {
  std::vector<double> channel_mean, channel_var, pattern_fraction;  // (C)
  std::vector<double> sample_mean, sample_var;                      // (N); empty for SummaryScope::channels
  std::vector<double> location_mean, location_var;                  // (S); only for SummaryScope::everything
  double mean = 0, std = 0, min = 0, max = 0;                        // 0 for SummaryScope::channels
};

TensorSummary summarize_tensor(const Array<float>& z, const Dims& d, SummaryScope scope);  // z: (N, C, H, W)

}  // namespace bnlab
