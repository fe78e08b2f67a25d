#include "bnlab/probes/detail/probe_util.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "bnlab/core/error.hpp"
#include "bnlab/core/parallel_threshold.hpp"
#include "bnlab/core/rng.hpp"
#include "bnlab/core/simd.hpp"
#include "bnlab/probes/detail/run_sums.hpp"

// Shape legend: N batch, C channels, H, W spatial; every tensor (N, C, H, W).
namespace bnlab::probe {
namespace {

// Row-major offset of (n, c, h, w).
inline std::size_t at(const Dims& d, std::size_t n, std::size_t c, std::size_t h, std::size_t w) {
  return ((n * d.c + c) * d.h + h) * d.w + w;
}

Dims dims_of(const Array<float>& a) {
  return dims_from_shape(shape_of(a), "probe tensor");
}

// Source index along one axis of a circular shift by k: (i - k) mod extent.
std::vector<std::size_t> circular_source(std::size_t extent, std::size_t k) {
  std::vector<std::size_t> src(extent);  // (extent)
  for (std::size_t i = 0; i < extent; ++i) src[i] = (i + extent - k) % extent;
  return src;
}

}  // namespace

std::uint64_t sub_seed(std::uint64_t seed, Stream stream) {
  return seed + static_cast<std::uint64_t>(stream);  // wraps around mod 2^64
}

std::string format_number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

void require_probe_input(const MethodPlan& plan, const Array<float>& x, const std::string& probe) {
  require_shape(shape_of(x), plan.dims.to_vector(), probe + ": input");
  if (plan.elements_per_stat < 2) {
    throw Error(probe + ": method " + plan.method.id + " has " + std::to_string(plan.elements_per_stat) +
                " value per statistic on shape " + shape_to_string(plan.dims.to_vector()) +
                "; train mode needs at least 2");
  }
}

double RelL2::value() const {
  if (ref2 == 0.0) return diff2 == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
  return std::sqrt(diff2) / std::sqrt(ref2);
}

std::vector<Shift> shift_set(const Dims& dims) {
  const std::size_t H = dims.h, W = dims.w;
  const Shift candidates[] = {{1, 0}, {0, 1}, {1, 2}, {H / 2, W / 3}};
  std::vector<Shift> out;
  for (Shift s : candidates) {
    Shift r{s.dh % H, s.dw % W};
    if (r.dh == 0 && r.dw == 0) continue;
    bool seen = std::any_of(out.begin(), out.end(), [&](Shift o) { return o.dh == r.dh && o.dw == r.dw; });
    if (!seen) out.push_back(r);
  }
  return out;
}

Json shifts_json(const std::vector<Shift>& shifts) {
  Json out = Json::array();
  for (Shift s : shifts) out.push_back(Json::array({s.dh, s.dw}));
  return out;
}

namespace {

// Accumulates a relative L2 error run by run: each run (n, c) sums into its
// own partial, in parallel; the partials are then added in run order, so the
// result is the same bits whatever the thread count.
template <class RunFn>
void add_per_run(RelL2& acc, const Dims& d, std::size_t n_begin, std::size_t n_end, RunFn run) {
  std::vector<RunRelL2> partial((n_end - n_begin) * d.c);  // (runs)
  for_each_run(d, n_begin, n_end, [&](std::size_t n, std::size_t c) { run(n, c, partial[(n - n_begin) * d.c + c]); });
  for (const RunRelL2& p : partial) p.add_to(acc);
}

}  // namespace

// A circular shift by (dh, dw) moves row h' = (h - dh) mod H of the input to
// row h, rotated right by dw: out[h][w] = in[h'][(w - dw) mod W], i.e. the
// row's last dw entries first, then its first W - dw.
void circular_shift_into(const Array<float>& x, Shift shift, std::size_t n_begin, std::size_t n_end, float* out) {
  circular_shift_into(dims_of(x), x.data(), shift, n_begin, n_end, out);
}

void circular_shift_into(const Dims& d, const float* in, Shift shift, std::size_t n_begin, std::size_t n_end,
                         float* out) {
  const std::vector<std::size_t> hsrc = circular_source(d.h, shift.dh);  // (H)
  const std::size_t W = d.w, S = d.s(), dw = shift.dw;
  for_each_run(d, 0, d.n, [&](std::size_t n, std::size_t c) {
    if (n < n_begin || n >= n_end) {  // copied unshifted
      std::copy(in + at(d, n, c, 0, 0), in + at(d, n, c, 0, 0) + S, out + at(d, n, c, 0, 0));
      return;
    }
    for (std::size_t h = 0; h < d.h; ++h) {
      const float* src = in + at(d, n, c, hsrc[h], 0);
      float* dst = out + at(d, n, c, h, 0);
      for (std::size_t w = 0; w < dw; ++w) dst[w] = src[W - dw + w];  // loops: a row is too short for memmove
      for (std::size_t w = dw; w < W; ++w) dst[w] = src[w - dw];
    }
  });
}

Array<float> circular_shift(const Array<float>& x, Shift shift, std::size_t n_begin, std::size_t n_end) {
  Array<float> out = Array<float>::from_shape(shape_of(x));  // (N, C, H, W)
  circular_shift_into(x, shift, n_begin, n_end, out.data());
  return out;
}

void translate_into(const Array<float>& x, Shift shift, float* out) {
  const Dims d = dims_of(x);
  const float* in = x.data();
  const std::size_t W = d.w, dw = shift.dw;
  for_each_run(d, 0, d.n, [&](std::size_t n, std::size_t c) {
    for (std::size_t h = 0; h < d.h; ++h) {
      float* dst = out + at(d, n, c, h, 0);
      if (h < shift.dh) {
        std::fill(dst, dst + W, 0.0f);
        continue;
      }
      const float* src = in + at(d, n, c, h - shift.dh, 0);
      std::fill(dst, dst + dw, 0.0f);
      std::copy(src, src + (W - dw), dst + dw);
    }
  });
}

Array<float> translate(const Array<float>& x, Shift shift) {
  Array<float> out = Array<float>::from_shape(shape_of(x));  // (N, C, H, W)
  translate_into(x, shift, out.data());
  return out;
}

void add_shifted(RelL2& acc, const Dims& d, const float* pa, const float* pb, Shift shift, std::size_t n_begin,
                 std::size_t n_end) {
  const std::vector<std::size_t> hsrc = circular_source(d.h, shift.dh);  // (H)
  const std::size_t W = d.w, dw = shift.dw;
  add_per_run(acc, d, n_begin, n_end, [&](std::size_t n, std::size_t c, RunRelL2& part) {
    // a[h][w] against b[h'][(w - dw) mod W], w in order (see circular_shift).
    for (std::size_t h = 0; h < d.h; ++h) {
      const float* ra = pa + at(d, n, c, h, 0);
      const float* rb = pb + at(d, n, c, hsrc[h], 0);
      part.add_segment(ra, rb + (W - dw), dw);
      part.add_segment(ra + dw, rb, W - dw);
    }
  });
}

void add_shifted(RelL2& acc, const Array<float>& a, const Array<float>& b, Shift shift, std::size_t n_begin,
                 std::size_t n_end) {
  add_shifted(acc, dims_of(a), a.data(), b.data(), shift, n_begin, n_end);
}

void add_plain(RelL2& acc, const Dims& d, const float* pa, const float* pb, std::size_t n_begin, std::size_t n_end) {
  const std::size_t S = d.s();
  add_per_run(acc, d, n_begin, n_end, [&](std::size_t n, std::size_t c, RunRelL2& part) {
    const std::size_t begin = (n * d.c + c) * S;
    part.add_segment(pa + begin, pb + begin, S);
  });
}

void add_plain(RelL2& acc, const Array<float>& a, const Array<float>& b, std::size_t n_begin, std::size_t n_end) {
  add_plain(acc, dims_of(a), a.data(), b.data(), n_begin, n_end);
}

void add_translated(RelL2& acc, const Array<float>& a, const Array<float>& b, Shift shift) {
  const Dims d = dims_of(a);
  const float* pa = a.data();
  const float* pb = b.data();
  const std::size_t W = d.w, dw = shift.dw;
  add_per_run(acc, d, 0, d.n, [&](std::size_t n, std::size_t c, RunRelL2& part) {
    for (std::size_t h = shift.dh; h < d.h; ++h)
      part.add_segment(pa + at(d, n, c, h, dw), pb + at(d, n, c, h - shift.dh, 0), W - dw);
  });
}

Params<float> trained_like_params(const MethodPlan& plan, std::uint64_t seed) {
  Params<float> params;
  if (!plan.has_affine()) return params;
  params.gamma = Array<float>::from_shape(plan.param_shape);  // param_shape
  params.beta = Array<float>::from_shape(plan.param_shape);   // param_shape
  Rng rng(sub_seed(seed, Stream::trained_params));
  for (float& g : params.gamma) g = float(det_exp(0.5 * rng.normal()));
  for (float& b : params.beta) b = float(0.5 * rng.normal());
  return params;
}

std::size_t zero_variance_count(const Statistics& stats) {
  return std::size_t(std::count(stats.var.begin(), stats.var.end(), 0.0));
}

MethodPlan sample_plan(const MethodPlan& plan) {
  const Dims& d = plan.dims;
  return make_plan(plan.method, plan.affine, Dims{1, d.c, d.h, d.w});
}

// Statistic o of sample n sits at n * n_stride + o' (IndexMap: n is the
// outermost axis), o' < n_stride the statistic's index in a batch of one.
const Statistics& sample_statistics(const MethodPlan& plan, const Statistics& stats, std::size_t n,
                                    Statistics& slice) {
  const std::size_t per_sample = plan.stat.n_stride;
  if (per_sample == 0) return stats;
  if (per_sample * plan.dims.n != plan.num_stats) throw Error("internal: per-sample statistics are not sample-major");
  slice.mean.assign(stats.mean.begin() + n * per_sample, stats.mean.begin() + (n + 1) * per_sample);
  slice.var.assign(stats.var.begin() + n * per_sample, stats.var.begin() + (n + 1) * per_sample);
  return slice;
}

}  // namespace bnlab::probe
