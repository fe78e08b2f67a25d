#pragma once
// Helpers shared by the probes (probe_*.cpp): random streams, JSON numbers,
// relative L2 errors, spatial shifts, trained-like parameters.
//
// Shapes (legend: N batch, C channels, H, W spatial):
//   x, a, b: (N, C, H, W), float32, row-major.
//   gamma, beta: plan.param_shape.
// Shifts and relative L2 errors run in parallel over the runs (n, c); each
// run sums into its own partial (8 fixed lanes) and the partials are added in
// run order, so the sums are the same bits whatever the thread count.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/engine/engine.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/core/tensor.hpp"

namespace bnlab::probe {

using Json = nlohmann::ordered_json;
using Notes = std::vector<std::string>;

// f(i) for i in [0, count), in parallel: for work items that each write
// only their own results (a channel's sums, a sample's), each summed in its
// own fixed order, so the bits do not depend on the thread count.
template <class F>
void for_each_item(std::size_t count, F f) {
  const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(count);
#pragma omp parallel for schedule(dynamic)
  for (std::ptrdiff_t i = 0; i < n; ++i) f(static_cast<std::size_t>(i));
}

// Random streams: stream k draws from bnlab::Rng(seed + k) (mt19937_64, the
// 53-bit uniform, the polar normal of rng.hpp). Stream 0 is left to whoever
// synthesizes the input from the same seed.
enum class Stream : std::uint64_t {
  dy = 1,               // upstream gradient dy ~ N(0, 1), (N, C, H, W) row-major
  fd_coordinates = 2,   // the coordinates of the finite-difference check
  trained_params = 3,   // trained-like gamma, beta
  channel_rescale = 4,  // per-channel factors a_c and offsets b_c
};
std::uint64_t sub_seed(std::uint64_t seed, Stream stream);

// "1e-05": a double for a note (printf %g).
std::string format_number(double v);

// A JSON double, or null when v is NaN or infinite (JSON has no NaN).
Json number(double v);

// Throws Error unless x matches the plan and train mode is defined
// (plan.elements_per_stat >= 2), naming the probe.
void require_probe_input(const MethodPlan& plan, const Array<float>& x, const std::string& probe);

// Relative L2 error ||a - b|| / ||b||, accumulated in double term by term.
// ||b|| = 0 gives 0 when a = b too, else infinity (reported as null).
struct RelL2 {
  double diff2 = 0.0, ref2 = 0.0;
  void add(double a, double b) {
    double d = a - b;
    diff2 += d * d;
    ref2 += b * b;
  }
  double value() const;
};

// A spatial shift by (dh, dw) rows and columns, 0 <= dh < H, 0 <= dw < W.
struct Shift {
  std::size_t dh = 0, dw = 0;
};

// The fixed shift set of the invariance probes: (1, 0), (0, 1), (1, 2) and
// (H/2, W/3) (integer division), each reduced mod (H, W); (0, 0) and
// repeats are dropped, order kept. Empty when H = W = 1.
std::vector<Shift> shift_set(const Dims& dims);
Json shifts_json(const std::vector<Shift>& shifts);  // [[dh, dw], ...]

// Circular shift of samples [n_begin, n_end); the other samples are copied:
//   out[n, c, (h + dh) % H, (w + dw) % W] = x[n, c, h, w].      out: (N, C, H, W)
Array<float> circular_shift(const Array<float>& x, Shift shift, std::size_t n_begin, std::size_t n_end);
// The same into a caller's buffer of x's size (not x itself).  out: (N, C, H, W)
void circular_shift_into(const Array<float>& x, Shift shift, std::size_t n_begin, std::size_t n_end, float* out);
// The same on a tensor of dims d at x (e.g. one sample: d = (1, C, H, W)).
void circular_shift_into(const Dims& d, const float* x, Shift shift, std::size_t n_begin, std::size_t n_end,
                         float* out);

// Zero-filled (non-circular) translation of every sample:
//   out[n, c, h, w] = x[n, c, h - dh, w - dw] if h >= dh and w >= dw, else 0.   out: (N, C, H, W)
Array<float> translate(const Array<float>& x, Shift shift);
void translate_into(const Array<float>& x, Shift shift, float* out);  // out: x's size, not x itself

// The comparisons below read a and b as tensors of dims d ((N, C, H, W) row-
// major); the Array overloads take d from a. Called on one sample at a time
// (d = (1, C, H, W), pointers at that sample), in sample order, they add the
// same partials in the same order as one call over the samples: the same bits.

// acc += a[n] against shift(b[n]) for the samples n in [n_begin, n_end):
//   a[n, c, h, w] against b[n, c, (h - dh) mod H, (w - dw) mod W].
void add_shifted(RelL2& acc, const Array<float>& a, const Array<float>& b, Shift shift, std::size_t n_begin,
                 std::size_t n_end);
void add_shifted(RelL2& acc, const Dims& d, const float* a, const float* b, Shift shift, std::size_t n_begin,
                 std::size_t n_end);

// acc += a[n] against b[n] for the samples n in [n_begin, n_end).
void add_plain(RelL2& acc, const Array<float>& a, const Array<float>& b, std::size_t n_begin, std::size_t n_end);
void add_plain(RelL2& acc, const Dims& d, const float* a, const float* b, std::size_t n_begin, std::size_t n_end);

// acc += a against translate(b) on the region that stays inside the plane:
//   a[n, c, h, w] against b[n, c, h - dh, w - dw] for h >= dh, w >= dw.
void add_translated(RelL2& acc, const Array<float>& a, const Array<float>& b, Shift shift);

// A reference output computed one sample at a time, so that it never takes a
// tensor of the input's size: for each sample n in order, out (C, H, W) =
// normalize(x[n]) with `stats` and `params` at eps (the engine's normalize on
// the plan of a batch of one; per-sample statistics, e.g. ln's, are sliced to
// sample n), then visit(n, out). Elementwise like the engine's pass over the
// whole tensor, so the same bits.  x: (N, C, H, W)
template <class Visit>
void for_each_normalized_sample(const MethodPlan& plan, const Array<float>& x, const Statistics& stats,
                                const Params<float>& params, double eps, Visit visit);

// Trained-like parameters// Trained-like parameters in plan.param_shape (empty for affine none),
// drawn from Rng(sub_seed(seed, Stream::trained_params)):
//   gamma = exp(0.5 z)  (log-normal: positive, median 1, about 0.6 .. 1.6),
//   beta  = 0.5 z'      with z, z' ~ N(0, 1),
// every entry its own draw, so they vary along every parameter axis. Draw
// order: all gamma entries row-major, then all beta entries.
Params<float> trained_like_params(const MethodPlan& plan, std::uint64_t seed);

// Number of statistics with zero variance.
std::size_t zero_variance_count(const Statistics& stats);

// for_each_normalized_sample's pieces: the plan of a batch of one sample, and
// the statistics of sample n (all of them when they do not depend on n).
MethodPlan sample_plan(const MethodPlan& plan);
const Statistics& sample_statistics(const MethodPlan& plan, const Statistics& stats, std::size_t n,
                                    Statistics& slice);

template <class Visit>
void for_each_normalized_sample(const MethodPlan& plan, const Array<float>& x, const Statistics& stats,
                                const Params<float>& params, double eps, Visit visit) {
  const std::size_t sample = plan.dims.c * plan.dims.s();
  std::vector<float> out(sample);  // (C, H, W)
  if (plan.stat.n_stride == 0) {  // the same statistics for every sample: prepared once
    const FixedNormalize<float> fixed(plan, stats, params, eps);
    for (std::size_t n = 0; n < plan.dims.n; ++n) {
      fixed.apply(x.data() + n * sample, 1, out.data());
      visit(n, static_cast<const float*>(out.data()));
    }
    return;
  }
  const MethodPlan one = sample_plan(plan);
  Statistics slice;
  for (std::size_t n = 0; n < plan.dims.n; ++n) {
    normalize_into(one, x.data() + n * sample, sample_statistics(plan, stats, n, slice), params, eps, out.data());
    visit(n, static_cast<const float*>(out.data()));
  }
}

}  // namespace bnlab::probe
