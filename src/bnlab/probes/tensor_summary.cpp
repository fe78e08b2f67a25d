#include "bnlab/probes/tensor_summary.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "bnlab/core/simd.hpp"
#include "bnlab/probes/detail/probe_util.hpp"

// Shape legend: N batch, C channels, H, W spatial, S = H*W; z is (N, C, S).
namespace bnlab {
namespace {

using simd::Vec8d;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::size_t kMaxBlocks = 64;  // work items at most

Vec8d splat(double v) { return Vec8d{} + v; }

// A run's 8 lanes added in lane order (element s of a run went to lane s % 8).
double lane_total(Vec8d v) {
  double total = 0;
  for (int lane = 0; lane < 8; ++lane) total += v[lane];
  return total;
}

// The work items: blocks of consecutive channels, block b = channels
// [b * per_block, min(C, (b + 1) * per_block)). Each block keeps partials of
// its own: (S) location sums and 3 (N) sample sums where they are asked for,
// so there are at most as many blocks as fit in an eighth of the tensor's
// bytes (at least 1), and at most kMaxBlocks. Depends on the dims only.
struct ChannelBlocks {
  std::size_t count = 1, per_block = 1;
  ChannelBlocks(const Dims& d, bool global, bool locations) {
    const std::size_t partial_bytes = sizeof(double) * ((locations ? d.s() : 0) + (global ? 3 * d.n : 0));
    const std::size_t budget = d.count() * sizeof(float) / 8;
    std::size_t most = std::min(d.c, kMaxBlocks);
    if (partial_bytes > 0) most = std::clamp<std::size_t>(budget / partial_bytes, 1, most);
    per_block = (d.c + most - 1) / most;
    count = (d.c + per_block - 1) / per_block;
  }
  std::size_t begin(std::size_t b) const { return b * per_block; }
  std::size_t end(std::size_t b, std::size_t channels) const { return std::min(channels, begin(b) + per_block); }
};

// kGlobal: the samples, the global moments, min and max; kLocations: the locations.
template <bool kGlobal, bool kLocations>
TensorSummary summarize(const float* z, const Dims& d) {  // z: (N, C, S)
  const std::size_t N = d.n, C = d.c, S = d.s();
  const ChannelBlocks blocks(d, kGlobal, kLocations);
  const std::size_t B = blocks.count;
  TensorSummary out;
  out.channel_mean.resize(C);
  out.channel_var.resize(C);
  out.pattern_fraction.resize(C);
  std::vector<double> between(C);                          // (C) sum_hw N (m_c - mean_c)^2
  std::vector<double> sample_part(kGlobal ? B * N : 0);    // (B, N) block b's share of sample n's sum
  std::vector<double> global_part(kGlobal ? B * N : 0);    // (B, N) the same, about the global mean (pass 2)
  std::vector<double> location_part(kLocations ? B * S : 0);  // (B, S) block b's share of location s's sum
  std::vector<double> block_min(B, kInf), block_max(B, -kInf);  // (B)

  // Pass 1: the sums. Channel c: m_c(s) summed over n in order, mean_c over s in order.
  probe::for_each_item(B, [&](std::size_t b) {
    std::vector<double> pattern(S);  // (S) sum_n z[n, c, s], then m_c(s)
    Vec8d lo = splat(kInf), hi = splat(-kInf);
    for (std::size_t c = blocks.begin(b); c < blocks.end(b, C); ++c) {
      std::fill(pattern.begin(), pattern.end(), 0.0);
      for (std::size_t n = 0; n < N; ++n) {
        const float* run = z + (n * C + c) * S;  // (S)
        Vec8d sum = {};
        std::size_t s = 0;
        for (; s + 8 <= S; s += 8) {
          const Vec8d v = simd::load(Vec8d{}, run + s);
          simd::store(pattern.data() + s, simd::load(Vec8d{}, pattern.data() + s) + v);
          if constexpr (kGlobal) {
            sum += v;
            lo = simd::lesser(v, lo);  // a NaN is never below or above: skipped
            hi = simd::greater(v, hi);
          }
        }
        for (; s < S; ++s) {
          const double v = run[s];
          pattern[s] += v;
          if constexpr (kGlobal) {
            sum[s & 7] += v;
            lo[s & 7] = v < lo[s & 7] ? v : lo[s & 7];
            hi[s & 7] = v > hi[s & 7] ? v : hi[s & 7];
          }
        }
        if constexpr (kGlobal) sample_part[b * N + n] += lane_total(sum);
      }
      if constexpr (kLocations)
        for (std::size_t s = 0; s < S; ++s) location_part[b * S + s] += pattern[s];
      double mean = 0;
      for (std::size_t s = 0; s < S; ++s) {
        pattern[s] /= double(N);
        mean += pattern[s];
      }
      mean /= double(S);
      double between_c = 0;
      for (std::size_t s = 0; s < S; ++s) between_c += double(N) * (pattern[s] - mean) * (pattern[s] - mean);
      out.channel_mean[c] = mean;
      between[c] = between_c;
    }
    for (int lane = 0; lane < 8; ++lane) {
      block_min[b] = std::min(block_min[b], double(lo[lane]));
      block_max[b] = std::max(block_max[b], double(hi[lane]));
    }
  });

  // The partials in block order; the global sum over the samples in order.
  if constexpr (kGlobal) {
    out.sample_mean.assign(N, 0.0);
    double total = 0;
    for (std::size_t n = 0; n < N; ++n) {
      for (std::size_t b = 0; b < B; ++b) out.sample_mean[n] += sample_part[b * N + n];
      total += out.sample_mean[n];
      out.sample_mean[n] /= double(C * S);
    }
    out.mean = total / double(d.count());
    out.min = *std::min_element(block_min.begin(), block_min.end());
    out.max = *std::max_element(block_max.begin(), block_max.end());
    std::fill(sample_part.begin(), sample_part.end(), 0.0);  // pass 2: about the sample means
  }
  if constexpr (kLocations) {
    out.location_mean.assign(S, 0.0);
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t s = 0; s < S; ++s) out.location_mean[s] += location_part[b * S + s];
    for (double& m : out.location_mean) m /= double(N * C);
    std::fill(location_part.begin(), location_part.end(), 0.0);  // pass 2: about the location means
  }

  // Pass 2: squared deviations from the means of pass 1. Channel c's in one
  // chain over (n, s) in memory order (8 squares computed at once, added one
  // by one); the rest in lanes and block partials as in pass 1. A chain
  // waits on each addition, so G channels go side by side (G chains at once),
  // run (n, c) after run (n, c - 1) in memory.
  const double mean_g = out.mean;
  auto squares = [&]<std::size_t G>(std::size_t b, std::size_t c0) {  // channels [c0, c0 + G) of block b
    double total[G] = {};  // sum_nhw (z - mean_c)^2
    double* location_sq = kLocations ? location_part.data() + b * S : nullptr;  // (S)
    const double* location_mean = out.location_mean.data();                    // (S)
    for (std::size_t n = 0; n < N; ++n) {
      const float* runs = z + (n * C + c0) * S;  // (G, S)
      const double mean_n = kGlobal ? out.sample_mean[n] : 0.0;
      Vec8d sq_n[G] = {}, sq_g[G] = {};
      std::size_t s = 0;
      for (; s + 8 <= S; s += 8) {
        for (std::size_t j = 0; j < G; ++j) {
          const Vec8d v = simd::load(Vec8d{}, runs + j * S + s);
          const Vec8d dc = v - out.channel_mean[c0 + j], qc = dc * dc;
          for (int lane = 0; lane < 8; ++lane) total[j] += qc[lane];
          if constexpr (kGlobal) {
            const Vec8d dn = v - mean_n, dg = v - mean_g;
            sq_n[j] += dn * dn;
            sq_g[j] += dg * dg;
          }
          if constexpr (kLocations) {
            const Vec8d dl = v - simd::load(Vec8d{}, location_mean + s);
            simd::store(location_sq + s, simd::load(Vec8d{}, location_sq + s) + dl * dl);
          }
        }
      }
      for (; s < S; ++s) {
        for (std::size_t j = 0; j < G; ++j) {
          const double v = runs[j * S + s], mean_c = out.channel_mean[c0 + j];
          total[j] += (v - mean_c) * (v - mean_c);
          if constexpr (kGlobal) {
            sq_n[j][s & 7] += (v - mean_n) * (v - mean_n);
            sq_g[j][s & 7] += (v - mean_g) * (v - mean_g);
          }
          if constexpr (kLocations) location_sq[s] += (v - location_mean[s]) * (v - location_mean[s]);
        }
      }
      if constexpr (kGlobal) {
        for (std::size_t j = 0; j < G; ++j) {
          sample_part[b * N + n] += lane_total(sq_n[j]);
          global_part[b * N + n] += lane_total(sq_g[j]);
        }
      }
    }
    for (std::size_t j = 0; j < G; ++j) {
      out.channel_var[c0 + j] = total[j] / double(N * S);
      out.pattern_fraction[c0 + j] = total[j] > 0 ? between[c0 + j] / total[j] : 0.0;
    }
  };
  constexpr std::size_t kSideBySide = 4;
  probe::for_each_item(B, [&](std::size_t b) {
    std::size_t c = blocks.begin(b);
    for (; c + kSideBySide <= blocks.end(b, C); c += kSideBySide) squares.template operator()<kSideBySide>(b, c);
    for (; c < blocks.end(b, C); ++c) squares.template operator()<1>(b, c);
  });

  if constexpr (kGlobal) {
    out.sample_var.assign(N, 0.0);
    double total = 0;
    for (std::size_t n = 0; n < N; ++n) {
      for (std::size_t b = 0; b < B; ++b) {
        out.sample_var[n] += sample_part[b * N + n];
        total += global_part[b * N + n];
      }
      out.sample_var[n] /= double(C * S);
    }
    out.std = std::sqrt(total / double(d.count()));
  }
  if constexpr (kLocations) {
    out.location_var.assign(S, 0.0);
    for (std::size_t b = 0; b < B; ++b)
      for (std::size_t s = 0; s < S; ++s) out.location_var[s] += location_part[b * S + s];
    for (double& v : out.location_var) v /= double(N * C);
  }
  return out;
}

}  // namespace

TensorSummary summarize_tensor(const Array<float>& z, const Dims& d, SummaryScope scope) {
  switch (scope) {
    case SummaryScope::channels: return summarize<false, false>(z.data(), d);
    case SummaryScope::channels_and_global: return summarize<true, false>(z.data(), d);
    case SummaryScope::everything: break;
  }
  return summarize<true, true>(z.data(), d);
}

}  // namespace bnlab
