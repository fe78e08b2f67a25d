#pragma once
// Sums of the probes whose bits do not depend on the thread count: RunRelL2
// (one run's share of a relative L2 error; a run is one (n, c) plane of
// S = H*W contiguous elements) and LaneMoments (one statistic's moments),
// each in 8 interleaved lanes added in lane order; callers add the shares in
// a fixed order. Squares are added with one fma each (simd::fma: one
// rounding, the same bits on every ISA; since 2026-12-08, about 7% off the
// invariance probe on the AVX2 path). transformed_forward.cpp,
// probe_invariance.cpp and probe_output.cpp use them.
//
// Internal header: included by the probes' .cpp files only.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "bnlab/core/simd.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/probes/detail/probe_util.hpp"

namespace bnlab::probe {

// The coefficients of L positions' normalization, folded (normalize_fold,
// engine.hpp): the output of a value v at position o is
// fma(v - shift[o], a[o], b[o]).  (L) each
struct Folds {
  std::vector<float> shift, a, b;
};

// One run's share of a relative L2 error, in 8 interleaved lanes: the k-th
// pair a run visits goes to lane k % 8, and the lanes are added in lane order
// at the end. Eight independent chains instead of one keep the additions from
// waiting on each other; the order is fixed, so the bits are too. Where a
// stretch starts at lane 0, eight pairs go at once (one Vec8d: lane j takes
// pair j, the same additions in the same order as one at a time).
class RunRelL2 {
 public:
  // Pairs (a[i], b[i]) for i in [0, len), in that order.
  void add_segment(const float* a, const float* b, std::size_t len) {
    std::size_t i = 0;
    for (; i < len && (count_ & 7) != 0; ++i) add_one(a[i], b[i]);
    for (; i + 8 <= len; i += 8, count_ += 8) {
      const simd::Vec8d vb = simd::load(simd::Vec8d{}, b + i);
      const simd::Vec8d diff = simd::load(simd::Vec8d{}, a + i) - vb;
      diff2_ = simd::fma(diff, diff, diff2_);
      ref2_ = simd::fma(vb, vb, ref2_);
    }
    for (; i < len; ++i) add_one(a[i], b[i]);
  }
  // Pairs (y[i], b[i]) for i in [0, len), y the engine's unit-parameter
  // normalization of v[i] under one statistic (normalize_fold(mean, rstd, 0),
  // then fma(v - shift, a, b): engine.hpp), computed as the pairs are added:
  // the same values and additions as normalizing into a buffer and then
  // add_segment.
  void add_normalized(const float* v, double mean, double rstd, const float* b, std::size_t len) {
    const NormalizeFold<float> f = normalize_fold<float>(mean, rstd, 0.0);
    add_computed([&](std::size_t i) { return std::fma(v[i] - f.shift, f.a, f.b); }, b, len);
  }
  // Pairs (y[i], b[i]) with coefficients per position, folded beforehand
  // (Folds): y[i] = fma(v[i] - shift[i], a[i], b[i]).
  void add_folded(const float* v, const Folds& folds, const float* b, std::size_t len) {
    const float* shift = folds.shift.data();
    const float* scale = folds.a.data();
    const float* offset = folds.b.data();
    add_computed([&](std::size_t i) { return std::fma(v[i] - shift[i], scale[i], offset[i]); }, b, len);
  }
  void add_to(RelL2& acc) const {
    for (int lane = 0; lane < 8; ++lane) {
      acc.diff2 += diff2_[lane];
      acc.ref2 += ref2_[lane];
    }
  }

 private:
  // Pairs (value(i), b[i]) for i in [0, len), in that order: add_segment
  // of the values, computed a chunk at a time into a buffer in L1 (a loop
  // of independent values, which the compiler vectorizes; computed eight at
  // a time as the pairs are added, they were scalar code).
  template <class Value>
  void add_computed(Value value, const float* b, std::size_t len) {
    constexpr std::size_t kChunk = 256;
    float y[kChunk];  // (kChunk) value(i0 + k)
    for (std::size_t i0 = 0; i0 < len; i0 += kChunk) {
      const std::size_t count = std::min(kChunk, len - i0);
      for (std::size_t k = 0; k < count; ++k) y[k] = value(i0 + k);
      add_segment(y, b + i0, count);
    }
  }
  void add_one(float a, float b) {
    double diff = double(a) - double(b);
    diff2_[count_ & 7] = std::fma(diff, diff, double(diff2_[count_ & 7]));
    ref2_[count_ & 7] = std::fma(double(b), double(b), double(ref2_[count_ & 7]));
    ++count_;
  }
  simd::Vec8d diff2_ = {}, ref2_ = {};
  std::size_t count_ = 0;
};

// One statistic's moments about a pivot k, sum (v - k) and sum (v - k)^2,
// in 8 interleaved lanes (RunRelL2's scheme): the j-th value goes to lane j % 8, the
// lanes are added in lane order at the end. Fixed order, so fixed bits.
class LaneMoments {
 public:
  void add(const float* v, std::size_t len, double k) {
    std::size_t i = 0;
    for (; i < len && (count_ & 7) != 0; ++i) add_one(double(v[i]) - k);
    const simd::Vec8d pivot = simd::Vec8d{} + k;
    for (; i + 8 <= len; i += 8, count_ += 8) {
      const simd::Vec8d dev = simd::load(simd::Vec8d{}, v + i) - pivot;
      sum1_ += dev;
      sum2_ = simd::fma(dev, dev, sum2_);
    }
    for (; i < len; ++i) add_one(double(v[i]) - k);
  }
  double sum1() const { return in_lane_order(sum1_); }
  double sum2() const { return in_lane_order(sum2_); }

 private:
  void add_one(double dev) {
    sum1_[count_ & 7] += dev;
    sum2_[count_ & 7] = std::fma(dev, dev, double(sum2_[count_ & 7]));
    ++count_;
  }
  static double in_lane_order(const simd::Vec8d& lanes) {
    double total = 0.0;
    for (int lane = 0; lane < 8; ++lane) total += lanes[lane];
    return total;
  }
  simd::Vec8d sum1_ = {}, sum2_ = {};
  std::size_t count_ = 0;
};

}  // namespace bnlab::probe
