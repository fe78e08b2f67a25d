#pragma once
// ReLU and global average pooling, the parameter-free layers of the network.
#include "bnlab/core/tensor.hpp"

namespace bnlab::train {

// y = max(x, 0); dx = dy where y > 0, else 0 (the subgradient 0 at x = 0, as PyTorch).
class Relu {
 public:
  // Any shape; keeps y and returns it (valid until the next forward: the
  // next layer reads it in place, no copy).
  const Array<float>& forward(const Array<float>& x);
  Array<float> backward(const Array<float>& dy);  // same shape as y

 private:
  Array<float> output_;
};

// y[n,c] = 1/(H*W) sum_{h,w} x[n,c,h,w]; dx[n,c,h,w] = dy[n,c] / (H*W).
//   x, dx: (N, C, H, W)   y, dy: (N, C)
class GlobalAveragePool {
 public:
  Array<float> forward(const Array<float>& x);
  Array<float> backward(const Array<float>& dy);

 private:
  Shape input_shape_;  // (N, C, H, W)
};

}  // namespace bnlab::train
