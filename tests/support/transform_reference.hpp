#pragma once
// Plain references for the invariance probe's transforms (the library
// computes them fused, in probes/detail/transformed_forward): a transformed
// input written out, and the relative L2 errors that pair an output with a
// reference at the source positions, summed term by term in double.
//
// Shapes (legend: N batch, C channels, H, W spatial): x, a, b, out: (N, C, H, W).
#include <cstddef>

#include "bnlab/core/shape.hpp"
#include "bnlab/core/tensor.hpp"
#include "bnlab/probes/detail/probe_util.hpp"

namespace testing {

inline bnlab::Dims dims_of(const bnlab::Array<float>& a) { return bnlab::dims_from_shape(bnlab::shape_of(a), "a"); }

// out[n, c, (h + dh) % H, (w + dw) % W] = x[n, c, h, w] for n in [n_begin, n_end); the other samples copied.
inline bnlab::Array<float> circular_shift(const bnlab::Array<float>& x, bnlab::probe::Shift s, std::size_t n_begin,
                                          std::size_t n_end) {
  const bnlab::Dims d = dims_of(x);
  bnlab::Array<float> out = bnlab::Array<float>::from_shape(d.to_vector());
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t c = 0; c < d.c; ++c)
      for (std::size_t h = 0; h < d.h; ++h)
        for (std::size_t w = 0; w < d.w; ++w) {
          const bool moved = n >= n_begin && n < n_end;
          out(n, c, moved ? (h + s.dh) % d.h : h, moved ? (w + s.dw) % d.w : w) = x(n, c, h, w);
        }
  return out;
}

// out[n, c, h, w] = x[n, c, h - dh, w - dw] where h >= dh and w >= dw, else 0.
inline bnlab::Array<float> translate(const bnlab::Array<float>& x, bnlab::probe::Shift s) {
  const bnlab::Dims d = dims_of(x);
  bnlab::Array<float> out = bnlab::Array<float>::from_shape(d.to_vector());
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t c = 0; c < d.c; ++c)
      for (std::size_t h = 0; h < d.h; ++h)
        for (std::size_t w = 0; w < d.w; ++w)
          out(n, c, h, w) = h >= s.dh && w >= s.dw ? x(n, c, h - s.dh, w - s.dw) : 0.0f;
  return out;
}

// acc += a[n, c, h, w] against b[n, c, (h - dh) mod H, (w - dw) mod W], n in [n_begin, n_end).
inline void add_shifted(bnlab::probe::RelL2& acc, const bnlab::Array<float>& a, const bnlab::Array<float>& b,
                        bnlab::probe::Shift s, std::size_t n_begin, std::size_t n_end) {
  const bnlab::Dims d = dims_of(a);
  for (std::size_t n = n_begin; n < n_end; ++n)
    for (std::size_t c = 0; c < d.c; ++c)
      for (std::size_t h = 0; h < d.h; ++h)
        for (std::size_t w = 0; w < d.w; ++w)
          acc.add(a(n, c, h, w), b(n, c, (h + d.h - s.dh) % d.h, (w + d.w - s.dw) % d.w));
}

// acc += a[n] against b[n], n in [n_begin, n_end).
inline void add_plain(bnlab::probe::RelL2& acc, const bnlab::Array<float>& a, const bnlab::Array<float>& b,
                      std::size_t n_begin, std::size_t n_end) {
  add_shifted(acc, a, b, bnlab::probe::Shift{}, n_begin, n_end);
}

// acc += a[n, c, h, w] against b[n, c, h - dh, w - dw] where h >= dh and w >= dw.
inline void add_translated(bnlab::probe::RelL2& acc, const bnlab::Array<float>& a, const bnlab::Array<float>& b,
                           bnlab::probe::Shift s) {
  const bnlab::Dims d = dims_of(a);
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t c = 0; c < d.c; ++c)
      for (std::size_t h = s.dh; h < d.h; ++h)
        for (std::size_t w = s.dw; w < d.w; ++w) acc.add(a(n, c, h, w), b(n, c, h - s.dh, w - s.dw));
}

}  // namespace testing
