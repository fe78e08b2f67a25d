#pragma once
// Helpers shared by the probes (probe_*.cpp): random streams, JSON numbers,
// the relative L2 error, the shift set, trained-like parameters. The probes
// compute transformed inputs and their errors with
// probes/detail/transformed_forward.hpp (sums with fixed bits: run_sums.hpp).
//
// Shapes: gamma, beta: plan.param_shape; statistics: (num_stats).
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

// Trained-like parameters in plan.param_shape (empty for affine none),
// drawn from Rng(sub_seed(seed, Stream::trained_params)):
//   gamma = exp(0.5 z)  (log-normal: positive, median 1, about 0.6 .. 1.6),
//   beta  = 0.5 z'      with z, z' ~ N(0, 1),
// every entry its own draw, so they vary along every parameter axis. Draw
// order: all gamma entries row-major, then all beta entries.
Params<float> trained_like_params(const MethodPlan& plan, std::uint64_t seed);

// Number of statistics with zero variance.
std::size_t zero_variance_count(const Statistics& stats);

// The plan of a batch of one sample (probe_samples: sample 0 normalized alone).
MethodPlan sample_plan(const MethodPlan& plan);

}  // namespace bnlab::probe
