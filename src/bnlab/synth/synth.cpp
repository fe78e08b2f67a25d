#include "bnlab/synth/synth.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <utility>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/core/rng.hpp"

// Same bytes everywhere: no contraction of a*b+c into FMA (see rng.hpp).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

// Shape legend: N batch, C channels, H, W spatial, S = H*W (one plane).
namespace bnlab {
namespace {

constexpr double kLn10 = 2.30258509299404568402;

// conv-like: the generative model.
//
//   x[n,c,h,w] = offset_c + scale_c * (pattern_c[h,w] + noise_{n,c}[h,w])
//
//   scale_c    = 10^e, the exponents e evenly spaced over [-1.5, 1.5] (so the
//                largest scale is 1000x the smallest; C = 1: e = 0, scale 1)
//                and dealt to the channels by a seeded shuffle.
//   offset_c   = 2 * scale_c * z_c,  z_c ~ N(0, 1): a per-channel bias.
//   pattern_c  = sum_{k=1,2} a_k cos(2 pi (fh_k h/H + fw_k w/W + phi_k)): the
//                mean spatial pattern shared by every sample (Method 2
//                erases it). Two distinct low-frequency modes (fh, fw) from
//                kModes (integer frequencies: periodic under circular shifts),
//                amplitudes a_k ~ U[0.5, 1), phases phi_k ~ U[0, 1) turns,
//                so its RMS over the plane is in [0.5, 1): comparable to
//                the noise.
//   noise_nc   = the circular 3x3 box average of white noise z ~ N(0, 1) on the
//                (H, W) plane, times 3 to restore unit variance: spatially
//                correlated (neighbours correlate 2/3), one field per (n, c).
//                An axis shorter than 3 averages over all its (distinct)
//                pixels instead, so every extent >= 1 works.
//
// Draw order (one Rng(seed)): (1) the shuffle of the scales (Fisher-Yates,
// i = C-1 .. 1, one below(i+1) each); (2) z_c for c = 0 .. C-1; (3) for each
// channel: mode 1, a_1, phi_1, mode 2, a_2, phi_2; (4) for n = 0 .. N-1, for
// c = 0 .. C-1: the H*W white-noise values of noise_nc in row-major order.
// Normals come from one stream of polar pairs (Rng::normal caches the second).
//
// Computed as x = base_c[s] + gain_c * box_sum[s], base_c = offset_c +
// scale_c * pattern_c, gain_c = scale_c / sqrt(taps): the same formula, and
// per element only adds and one multiply.
constexpr std::array<std::pair<int, int>, 12> kModes{{
    {0, 1}, {0, 2}, {1, -2}, {1, -1}, {1, 0}, {1, 1}, {1, 2}, {2, -2}, {2, -1}, {2, 0}, {2, 1}, {2, 2}}};

// The pixels a box filter of radius 1 averages along one axis of `extent`,
// with circular wrap: (extent * taps) source indices, taps = 3, or `extent`
// when the axis is shorter than 3 (then every pixel once, no duplicates).
struct AxisTaps {
  std::size_t taps = 1;
  std::vector<std::size_t> source;  // (extent, taps)
};

AxisTaps box_taps(std::size_t extent) {
  AxisTaps t;
  t.taps = extent >= 3 ? 3 : extent;
  t.source.resize(extent * t.taps);
  for (std::size_t i = 0; i < extent; ++i) {
    for (std::size_t j = 0; j < t.taps; ++j) {
      t.source[i * t.taps + j] = extent >= 3 ? (i + extent - 1 + j) % extent : j;
    }
  }
  return t;
}

void fill_conv_like(const Dims& d, Rng& rng, float* x) {
  const std::size_t C = d.c, H = d.h, W = d.w, S = d.s();

  // (1) scale_c: (C)
  std::vector<std::size_t> rank(C);
  std::iota(rank.begin(), rank.end(), std::size_t{0});
  for (std::size_t i = C; i-- > 1;) std::swap(rank[i], rank[rng.below(i + 1)]);
  std::vector<double> scale(C);
  for (std::size_t c = 0; c < C; ++c) {
    double e = C == 1 ? 0.0 : -1.5 + 3.0 * static_cast<double>(rank[c]) / static_cast<double>(C - 1);
    scale[c] = det_exp(e * kLn10);
  }

  // (2) offset_c: (C)
  std::vector<double> z(C);
  rng.fill_normal(z.data(), C);

  // (3) base_c = offset_c + scale_c * pattern_c: (C, S)
  std::vector<double> base(C * S);
  for (std::size_t c = 0; c < C; ++c) {
    double offset = 2.0 * scale[c] * z[c];
    std::size_t m1 = rng.below(kModes.size());
    double a1 = 0.5 + 0.5 * rng.uniform();
    double phi1 = rng.uniform();
    std::size_t m2 = rng.below(kModes.size() - 1);
    if (m2 >= m1) ++m2;  // distinct modes: their waves are orthogonal, never cancel
    double a2 = 0.5 + 0.5 * rng.uniform();
    double phi2 = rng.uniform();
    const auto [fh1, fw1] = kModes[m1];
    const auto [fh2, fw2] = kModes[m2];
    for (std::size_t h = 0; h < H; ++h) {
      double th1 = static_cast<double>(fh1) * static_cast<double>(h) / static_cast<double>(H);
      double th2 = static_cast<double>(fh2) * static_cast<double>(h) / static_cast<double>(H);
      for (std::size_t w = 0; w < W; ++w) {
        double tw1 = static_cast<double>(fw1) * static_cast<double>(w) / static_cast<double>(W);
        double tw2 = static_cast<double>(fw2) * static_cast<double>(w) / static_cast<double>(W);
        double pattern = a1 * det_cos_turns(th1 + tw1 + phi1) + a2 * det_cos_turns(th2 + tw2 + phi2);
        base[c * S + h * W + w] = offset + scale[c] * pattern;
      }
    }
  }

  // (4) the samples. white, row_sum, box_sum: (S) scratch planes.
  const AxisTaps th = box_taps(H), tw = box_taps(W);
  const double rnorm = 1.0 / std::sqrt(static_cast<double>(th.taps * tw.taps));
  std::vector<double> white(S), row_sum(S), box_sum(S);
  for (std::size_t n = 0; n < d.n; ++n) {
    for (std::size_t c = 0; c < C; ++c) {
      rng.fill_normal(white.data(), S);
      // along w
      for (std::size_t h = 0; h < H; ++h) {
        const double* in = white.data() + h * W;
        double* out = row_sum.data() + h * W;
        for (std::size_t w = 0; w < W; ++w) {
          const std::size_t* src = tw.source.data() + w * tw.taps;
          double sum = 0.0;
          for (std::size_t j = 0; j < tw.taps; ++j) sum += in[src[j]];
          out[w] = sum;
        }
      }
      // along h
      for (std::size_t h = 0; h < H; ++h) {
        const std::size_t* src = th.source.data() + h * th.taps;
        double* out = box_sum.data() + h * W;
        for (std::size_t w = 0; w < W; ++w) out[w] = row_sum[src[0] * W + w];
        for (std::size_t j = 1; j < th.taps; ++j) {
          const double* in = row_sum.data() + src[j] * W;
          for (std::size_t w = 0; w < W; ++w) out[w] += in[w];
        }
      }
      const double gain = scale[c] * rnorm;
      const double* b = base.data() + c * S;
      float* y = x + (n * C + c) * S;
      for (std::size_t s = 0; s < S; ++s) y[s] = static_cast<float>(b[s] + gain * box_sum[s]);
    }
  }
}

// normal (shift 0) and offset (shift 1e4): x = shift + z, z in row-major order.
void fill_shifted_normal(const Dims& d, Rng& rng, double shift, float* x) {
  const std::size_t S = d.s();
  std::vector<double> z(S);  // one (H, W) plane at a time
  for (std::size_t plane = 0; plane < d.n * d.c; ++plane) {
    rng.fill_normal(z.data(), S);
    float* y = x + plane * S;
    for (std::size_t s = 0; s < S; ++s) y[s] = static_cast<float>(shift + z[s]);
  }
}

}  // namespace

Distribution parse_distribution(const std::string& text, const std::string& what) {
  std::string name = text;  // case-insensitive, like every enumeration of the CLI
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (name == "normal") return Distribution::normal;
  if (name == "conv-like") return Distribution::conv_like;
  if (name == "offset") return Distribution::offset;
  throw Error(what + ": unknown distribution \"" + text + "\" (valid: normal, conv-like, offset)");
}

std::string to_string(Distribution dist) {
  switch (dist) {
    case Distribution::normal: return "normal";
    case Distribution::conv_like: return "conv-like";
    case Distribution::offset: return "offset";
  }
  return "?";
}

std::string describe(Distribution dist) {
  switch (dist) {
    case Distribution::normal:
      return "i.i.d. standard normal N(0, 1): no channel, spatial or batch structure (a control).";
    case Distribution::conv_like:
      return "conv-like activations: per-channel scales spanning three decades (x1000) and offsets, "
             "a smooth spatial mean pattern shared by all samples, and spatially correlated "
             "per-sample noise.";
    case Distribution::offset:
      return "N(0, 1) plus a common offset of 1e4 (mean 1e4, std 1): exposes one-pass float "
             "variance formulas.";
  }
  return "?";
}

Array<float> synthesize(const SynthSpec& spec) {
  const Dims& d = spec.dims;
  if (d.n == 0 || d.c == 0 || d.h == 0 || d.w == 0) {
    throw Error("synth: shape " + shape_to_string(d.to_vector()) + ": every extent must be >= 1");
  }
  Array<float> x = allocate_floats(d.to_vector(), spec.what, "the synthesized float32 tensor");  // (N, C, H, W)
  Rng rng(spec.seed);
  switch (spec.dist) {
    case Distribution::normal: fill_shifted_normal(d, rng, 0.0, x.data()); break;
    case Distribution::offset: fill_shifted_normal(d, rng, 1e4, x.data()); break;
    case Distribution::conv_like: fill_conv_like(d, rng, x.data()); break;
  }
  return x;
}

}  // namespace bnlab
