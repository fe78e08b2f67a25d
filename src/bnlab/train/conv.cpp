#include "bnlab/train/conv.hpp"

#include <algorithm>
#include <cmath>

#include "bnlab/core/error.hpp"
#include "bnlab/core/shape.hpp"
#include "bnlab/train/gemm.hpp"

namespace bnlab::train {
namespace {

struct Geometry {
  std::size_t n, c, h, w, ho, wo, k, stride, pad;
  std::size_t patch() const { return c * k * k; }  // K
  std::size_t plane() const { return ho * wo; }     // P
};

// The output columns j whose input column s = j*stride + b - pad lies in
// [0, W): j in [first, last). Outside it the window leaves the image.
struct ValidColumns {
  std::size_t first, last;
};
ValidColumns valid_columns(const Geometry& g, std::size_t b) {
  // s >= 0  <=>  j*stride >= pad - b;  s <= W - 1  <=>  j*stride <= W - 1 + pad - b.
  const std::ptrdiff_t low = std::ptrdiff_t(g.pad) - std::ptrdiff_t(b);
  const std::ptrdiff_t high = std::ptrdiff_t(g.w) - 1 + std::ptrdiff_t(g.pad) - std::ptrdiff_t(b);
  const std::ptrdiff_t stride = std::ptrdiff_t(g.stride);
  const std::ptrdiff_t first = low <= 0 ? 0 : (low + stride - 1) / stride;
  const std::ptrdiff_t last = high < 0 ? 0 : high / stride + 1;
  const std::size_t f = std::size_t(std::min<std::ptrdiff_t>(first, std::ptrdiff_t(g.wo)));
  return {f, std::max(f, std::size_t(std::min<std::ptrdiff_t>(last, std::ptrdiff_t(g.wo))))};
}

// col (K, P) of one sample x_n (C, H, W); zero where the window leaves the image.
void im2col(const float* x, const Geometry& g, float* col) {
  for (std::size_t c = 0; c < g.c; ++c) {
    for (std::size_t a = 0; a < g.k; ++a) {
      for (std::size_t b = 0; b < g.k; ++b) {
        float* row = col + ((c * g.k + a) * g.k + b) * g.plane();
        const ValidColumns cols = valid_columns(g, b);
        for (std::size_t i = 0; i < g.ho; ++i) {
          const std::ptrdiff_t r = std::ptrdiff_t(i * g.stride + a) - std::ptrdiff_t(g.pad);
          float* out = row + i * g.wo;
          if (r < 0 || r >= std::ptrdiff_t(g.h)) {
            std::fill(out, out + g.wo, 0.0f);
            continue;
          }
          // x[c, r, j*stride + b - pad], a valid column for j in [first, last)
          const float* in = x + (c * g.h + std::size_t(r)) * g.w;
          const std::size_t shift = b + cols.first * g.stride - g.pad;  // the column of j = first
          std::fill(out, out + cols.first, 0.0f);
          if (g.stride == 1) {
            std::copy(in + shift, in + shift + (cols.last - cols.first), out + cols.first);
          } else {
            for (std::size_t j = cols.first; j < cols.last; ++j) out[j] = in[shift + (j - cols.first) * g.stride];
          }
          std::fill(out + cols.last, out + g.wo, 0.0f);
        }
      }
    }
  }
}

// dx_n (C, H, W) += col2im(dcol (K, P)), the transpose of im2col. Runs in a
// fixed order: the same bits for any thread count.
void col2im_add(const float* dcol, const Geometry& g, float* dx) {
  for (std::size_t c = 0; c < g.c; ++c) {
    for (std::size_t a = 0; a < g.k; ++a) {
      for (std::size_t b = 0; b < g.k; ++b) {
        const float* row = dcol + ((c * g.k + a) * g.k + b) * g.plane();
        const ValidColumns cols = valid_columns(g, b);
        for (std::size_t i = 0; i < g.ho; ++i) {
          const std::ptrdiff_t r = std::ptrdiff_t(i * g.stride + a) - std::ptrdiff_t(g.pad);
          if (r < 0 || r >= std::ptrdiff_t(g.h)) continue;
          float* out = dx + (c * g.h + std::size_t(r)) * g.w;
          const std::size_t shift = b + cols.first * g.stride - g.pad;  // the column of j = first
          const float* in = row + i * g.wo;
          for (std::size_t j = cols.first; j < cols.last; ++j) out[shift + (j - cols.first) * g.stride] += in[j];
        }
      }
    }
  }
}

}  // namespace

Conv2d::Conv2d(const ConvShape& shape, Rng& rng) : shape_(shape) {
  weight = Array<float>::from_shape({shape.out_channels, shape.in_channels, shape.kernel, shape.kernel});
  const double bound = 1.0 / std::sqrt(double(shape.fan_in()));
  for (float& v : weight) v = float((2.0 * rng.uniform() - 1.0) * bound);
  dweight = xt::zeros<float>(weight.shape());
}

Array<float> Conv2d::forward(const Array<float>& x, bool keep_for_backward) {
  if (x.dimension() != 4 || x.shape()[1] != shape_.in_channels) {
    throw Error("conv: expected (N, " + std::to_string(shape_.in_channels) + ", H, W) input, got " +
                shape_to_string(shape_of(x)));
  }
  const Geometry g{x.shape()[0], x.shape()[1], x.shape()[2], x.shape()[3], shape_.out_extent(x.shape()[2]),
                   shape_.out_extent(x.shape()[3]), shape_.kernel, shape_.stride, shape_.pad};
  auto y = Array<float>::from_shape({g.n, shape_.out_channels, g.ho, g.wo});  // (N, C_out, H_out, W_out)
  const GemmShape product{shape_.out_channels, g.patch(), g.plane()};  // W (C_out, K) · col_n (K, P)
  const long samples = long(g.n);
  if (keep_for_backward) {
    input_shape_ = {g.n, g.c, g.h, g.w};
    cols_.resize(g.n * g.patch() * g.plane());
  } else {
    input_shape_.clear();  // nothing kept: a backward now is an error
  }
#pragma omp parallel
  {
    std::vector<float> scratch(keep_for_backward ? 0 : g.patch() * g.plane());  // (K, P), one sample's
#pragma omp for schedule(static)
    for (long n = 0; n < samples; ++n) {
      float* col = keep_for_backward ? cols_.data() + std::size_t(n) * g.patch() * g.plane() : scratch.data();  // (K, P)
      im2col(x.data() + std::size_t(n) * g.c * g.h * g.w, g, col);
      gemm(product, weight.data(), col, y.data() + std::size_t(n) * shape_.out_channels * g.plane());
    }
  }
  return y;
}

Array<float> Conv2d::backward(const Array<float>& dy, bool need_dx) {
  if (input_shape_.size() != 4) throw Error("conv: backward needs a forward that kept its input (keep_for_backward)");
  const Geometry g{input_shape_[0], input_shape_[1], input_shape_[2], input_shape_[3],
                   shape_.out_extent(input_shape_[2]), shape_.out_extent(input_shape_[3]),
                   shape_.kernel, shape_.stride, shape_.pad};
  const std::size_t out_channels = shape_.out_channels, patch = g.patch(), plane = g.plane();
  if (dy.size() != g.n * out_channels * plane) throw Error("conv: gradient shape does not match the forward");

  // dW = sum_n dy_n · col_nᵀ: (C_out, P) · (P, K) per sample, each into its
  // own slot, then summed over n in sample order in double, element by
  // element. Neither step depends on how samples are spread over threads.
  std::vector<float>& per_sample = weight_grads_;  // (N, C_out, K); every entry written below
  per_sample.resize(g.n * out_channels * patch);
  const GemmShape weight_product{out_channels, plane, patch, false, true};
  const long samples = long(g.n);
#pragma omp parallel for schedule(static)
  for (long n = 0; n < samples; ++n) {
    gemm(weight_product, dy.data() + std::size_t(n) * out_channels * plane, cols_.data() + std::size_t(n) * patch * plane,
         per_sample.data() + std::size_t(n) * out_channels * patch);
  }
  // Blocks of 256 weights: each block's totals add the samples in order
  // (the inner loop runs along the weights and vectorizes).
  const std::size_t weights = out_channels * patch, block = 256;
  const long blocks = long((weights + block - 1) / block);
#pragma omp parallel for schedule(static)
  for (long bi = 0; bi < blocks; ++bi) {
    const std::size_t first = std::size_t(bi) * block, count = std::min(block, weights - first);
    double totals[256] = {};
    for (std::size_t n = 0; n < g.n; ++n) {
      const float* partial = per_sample.data() + n * weights + first;
      for (std::size_t i = 0; i < count; ++i) totals[i] += partial[i];
    }
    for (std::size_t i = 0; i < count; ++i) dweight.data()[first + i] = float(totals[i]);
  }
  if (!need_dx) return Array<float>::from_shape({0});

  // dcol_n = Wᵀ · dy_n: (K, C_out) · (C_out, P); col2im adds it onto dx_n.
  auto dx = Array<float>::from_shape(input_shape_);  // (N, C_in, H, W)
  const GemmShape input_product{patch, out_channels, plane, true, false};
#pragma omp parallel
  {
    std::vector<float> dcol(patch * plane);  // (K, P)
#pragma omp for schedule(static)
    for (long n = 0; n < samples; ++n) {
      gemm(input_product, weight.data(), dy.data() + std::size_t(n) * out_channels * plane, dcol.data());
      float* dxn = dx.data() + std::size_t(n) * g.c * g.h * g.w;
      std::fill(dxn, dxn + g.c * g.h * g.w, 0.0f);
      col2im_add(dcol.data(), g, dxn);
    }
  }
  return dx;
}

}  // namespace bnlab::train
