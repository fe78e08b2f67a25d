#pragma once
// A 2-d convolution layer without bias (a normalization follows every conv
// of the network, and its beta takes the role of the bias).
//
//   y[n,o,i,j] = sum_{c,a,b} w[o,c,a,b] * x[n,c, i*stride + a - pad, j*stride + b - pad]
// (x is zero outside the image.) Shapes:
//   x, dx: (N, C_in, H, W)      y, dy: (N, C_out, H_out, W_out)
//   w, dw: (C_out, C_in, k, k)  H_out = (H + 2*pad - k) / stride + 1
//
// The kernels lower the convolution to matrix products (im2col): per sample,
// col[(c,a,b), (i,j)] = x[n, c, i*stride + a - pad, j*stride + b - pad], so
//   y_n  = W · col_n            (C_out × K) · (K × P),  K = C_in*k*k, P = H_out*W_out
//   dW   = sum_n dy_n · col_nᵀ
//   dcol = Wᵀ · dy_n, then col2im adds dcol back onto dx (the transpose of im2col).
// The products run per sample (gemm.hpp: oneDNN, on the calling thread), and
// threads split samples; dW's sum over samples runs in sample order. So a
// sample's output never depends on the rest of the batch, and the results are
// the same bits for any thread count.
#include <cstddef>
#include <vector>

#include "bnlab/core/rng.hpp"
#include "bnlab/core/tensor.hpp"

namespace bnlab::train {

struct ConvShape {
  std::size_t in_channels = 1, out_channels = 1, kernel = 3, stride = 1, pad = 1;
  std::size_t out_extent(std::size_t in) const { return (in + 2 * pad - kernel) / stride + 1; }
  std::size_t fan_in() const { return in_channels * kernel * kernel; }
};

class Conv2d {
 public:
  // Weights uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's default).
  Conv2d(const ConvShape& shape, Rng& rng);

  // x: (N, C_in, H, W) -> (N, C_out, H_out, W_out). With keep_for_backward
  // it keeps what backward needs (every sample's im2col); without (an
  // evaluation), each thread lowers one sample at a time into a buffer that
  // stays in cache. The same products either way: the same bits.
  Array<float> forward(const Array<float>& x, bool keep_for_backward = true);
  // dy: (N, C_out, H_out, W_out). Sets dweight; returns dx (N, C_in, H, W),
  // or an empty array, shape (0), when need_dx is false (the first layer).
  Array<float> backward(const Array<float>& dy, bool need_dx);

  const ConvShape& shape() const { return shape_; }
  Array<float> weight;   // (C_out, C_in, k, k)
  Array<float> dweight;  // (C_out, C_in, k, k)

 private:
  ConvShape shape_;
  std::vector<std::size_t> input_shape_;  // (N, C_in, H, W) of the last forward
  std::vector<float> cols_;               // (N, K, P) im2col of the last forward
  std::vector<float> weight_grads_;       // (N, C_out, K) per-sample dW, kept between steps
};

}  // namespace bnlab::train
