#pragma once
// Synthetic feature maps, deterministic from (shape, distribution, seed).
//   x: (N, C, H, W), N batch, C channels, H, W spatial; float32, row-major.
//
// Distributions (the generative formulas are spelled out in synth.cpp):
//   normal     x = z, z ~ N(0, 1) i.i.d.: no structure at all (a control).
//   conv-like  what pre-normalization conv activations look like:
//              x[n,c,h,w] = offset_c + scale_c * (pattern_c[h,w] + noise_{n,c}[h,w])
//              with per-channel scales spanning three decades (max/min = 1000),
//              per-channel offsets, a smooth spatial mean pattern shared by
//              every sample, and spatially correlated per-sample noise.
//   offset     x = 1e4 + z: mean 1e4, std 1, for the numerics of the variance.
//
// Every random number comes from one bnlab::Rng(seed) in a fixed order, so the
// bytes are the same on every machine. All per-channel parameters are drawn
// before any sample, and samples are drawn in order n = 0, 1, ...: a tensor
// with batch N is the first N samples of the same spec with a larger batch.
#include <cstdint>
#include <string>

#include "bnlab/core/shape.hpp"
#include "bnlab/core/tensor.hpp"

namespace bnlab {

enum class Distribution { normal, conv_like, offset };
inline constexpr Distribution kDistributions[] = {Distribution::normal, Distribution::conv_like, Distribution::offset};

// "normal", "conv-like", "offset". Throws Error naming `what` and the value,
// listing the valid names:  --dist: unknown distribution "foo" (valid: normal, conv-like, offset)
Distribution parse_distribution(const std::string& text, const std::string& what);
std::string to_string(Distribution dist);  // "normal", "conv-like", "offset"
std::string describe(Distribution dist);   // one sentence for --help and reports

struct SynthSpec {
  Dims dims;
  Distribution dist = Distribution::conv_like;
  std::uint64_t seed = 0;
  std::string what = "--shape";  // the option or key that chose dims, for errors
};

// x: (N, C, H, W). Throws Error when an extent is 0, or (naming spec.what and
// the bytes) when the tensor would not fit in the machine's memory.
Array<float> synthesize(const SynthSpec& spec);

}  // namespace bnlab
