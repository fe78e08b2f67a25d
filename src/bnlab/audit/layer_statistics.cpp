#include "bnlab/audit/layer_statistics.hpp"

#include <cmath>
#include <limits>

#include "bnlab/audit/findings.hpp"

namespace bnlab::audit {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Sample standard deviation (N - 1 denominator) of values; NaN for fewer than two.
double sample_std(const std::vector<double>& values) {
  const std::size_t n = values.size();
  if (n < 2) return kNaN;
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(n);
  double sum = 0;
  for (double v : values) sum += (v - mean) * (v - mean);
  return std::sqrt(sum / static_cast<double>(n - 1));
}
}  // namespace

LayerStatistics measure_layer(const DumpLayer& layer) {
  const auto& shape = layer.input.shape();
  LayerStatistics result;
  result.batch = shape[0];
  result.channels = shape[1];
  const std::size_t plane = shape[2] * shape[3];
  const std::size_t N = result.batch;
  result.values_per_statistic = N * plane;
  const double n = static_cast<double>(result.values_per_statistic);
  const double dN = static_cast<double>(N);
  const float* x = layer.input.data();
  const bool has_running = layer.running_mean.has_value();
  const double eps = layer.eps;
  const double dead_below = dead_variance_fraction_of_eps() * eps;

  double gap_sum = 0, train_sum = 0;  // sums of (y_eval - y_train)^2 and y_train^2
  std::vector<double> sample_mean(N), sample_centered_square(N);
  result.channel.resize(result.channels);
  for (std::size_t c = 0; c < result.channels; ++c) {
    ChannelStatistics& s = result.channel[c];
    auto at = [&](std::size_t i, std::size_t k) { return static_cast<double>(x[(i * result.channels + c) * plane + k]); };
    // Two passes (mean, then centered squares): no cancellation when the mean is large against the spread.
    double sum = 0;
    for (std::size_t i = 0; i < N; ++i) {
      double sample_sum = 0;
      for (std::size_t k = 0; k < plane; ++k) sample_sum += at(i, k);
      sample_mean[i] = sample_sum / static_cast<double>(plane);
      sum += sample_sum;
    }
    s.batch_mean = sum / n;
    double squares = 0;
    for (std::size_t i = 0; i < N; ++i) {
      double sample_squares = 0;
      for (std::size_t k = 0; k < plane; ++k) sample_squares += (at(i, k) - s.batch_mean) * (at(i, k) - s.batch_mean);
      sample_centered_square[i] = sample_squares / static_cast<double>(plane);
      squares += sample_squares;
    }
    s.batch_var = squares / n;
    s.population_var = n > 1 ? squares / (n - 1) : 0.0;
    const double batch_std = std::sqrt(s.batch_var + eps);  // what train mode divides by

    // Standard error of the batch mean: the batch mean is the mean of the N per-sample means m_i
    // (each over H*W values), so SE = sd(m_i) / sqrt(N), with sd the sample std of the m_i. Values
    // inside one image are correlated; the per-sample spread accounts for that, N*H*W would not.
    const double sd_means = sample_std(sample_mean);
    s.mean_standard_error = sd_means / std::sqrt(dN) / batch_std;
    // Standard error of the batch variance: var = mean_i q_i - mean^2 with q_i the per-sample second
    // moments; centered at the batch mean, the delta method's gradient is (1, -2*0), so to first order
    // SE(var) = sd(q_i) / sqrt(N) with q_i the per-sample mean of (x - batch mean)^2.
    const bool dead_batch = s.batch_var < dead_below;
    s.var_relative_standard_error =
        dead_batch ? kNaN : sample_std(sample_centered_square) / std::sqrt(dN) / s.batch_var;
    // Batch size for 1%: SE scales as 1/sqrt(batch), so SE(B) = SE(N) * sqrt(N / B) = 0.01 gives
    // B = N * (SE(N) / 0.01)^2 (SE relative: in batch std for the mean, in units of the variance for it).
    s.batch_for_1pct_mean = dN * std::pow(s.mean_standard_error / 0.01, 2);
    s.batch_for_1pct_var = dN * std::pow(s.var_relative_standard_error / 0.01, 2);
    // PreciseBN: a mean recalibrated over K images has standard error sd(m_i) / sqrt(K); within 0.1 batch
    // std needs K = (sd(m_i) / (0.1 * batch std))^2 images (at least one).
    s.precise_bn_images = std::ceil(std::pow(sd_means / (0.1 * batch_std), 2));
    if (s.precise_bn_images < 1) s.precise_bn_images = 1;

    const double gamma = layer.weight ? (*layer.weight)[c] : 1.0;
    const double beta = layer.bias ? (*layer.bias)[c] : 0.0;
    s.zero_gamma = layer.weight.has_value() && std::abs(gamma) <= zero_gamma_threshold();
    s.dead = dead_batch || (has_running && (*layer.running_var)[c] < dead_below);
    if (!has_running) {
      s.mean_shift = s.std_ratio = kNaN;
      continue;
    }
    const double running_mean = (*layer.running_mean)[c];
    const double running_std = std::sqrt((*layer.running_var)[c] + eps);  // what eval mode divides by
    s.mean_shift = (s.batch_mean - running_mean) / batch_std;
    s.std_ratio = running_std / batch_std;
    // The outputs of the dumped activations: train mode normalizes with the batch's statistics,
    // eval mode with the running ones; the same gamma and beta.
    for (std::size_t i = 0; i < N; ++i) {
      for (std::size_t k = 0; k < plane; ++k) {
        const double y_train = gamma * (at(i, k) - s.batch_mean) / batch_std + beta;
        const double y_eval = gamma * (at(i, k) - running_mean) / running_std + beta;
        gap_sum += (y_eval - y_train) * (y_eval - y_train);
        train_sum += y_train * y_train;
      }
    }
  }
  if (!has_running) result.eval_train_gap = kNaN;
  else if (train_sum > 0) result.eval_train_gap = std::sqrt(gap_sum / train_sum);
  else result.eval_train_gap = gap_sum > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  return result;
}

}  // namespace bnlab::audit
