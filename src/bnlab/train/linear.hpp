#pragma once
// A fully connected layer: y[n,o] = sum_i w[o,i] * x[n,i] + b[o].
//   x, dx: (N, In)   y, dy: (N, Out)   w, dw: (Out, In)   b, db: (Out)
// Gradients: dx[n,i] = sum_o dy[n,o] w[o,i]; dw[o,i] = sum_n dy[n,o] x[n,i];
// db[o] = sum_n dy[n,o]. Sums run in double, in a fixed order.
#include <cstddef>

#include "bnlab/core/rng.hpp"
#include "bnlab/core/tensor.hpp"

namespace bnlab::train {

class Linear {
 public:
  // w and b uniform in [-1/sqrt(In), 1/sqrt(In)) (PyTorch's default).
  Linear(std::size_t in_features, std::size_t out_features, Rng& rng);

  Array<float> forward(const Array<float>& x);   // (N, In) -> (N, Out); keeps x
  Array<float> backward(const Array<float>& dy);  // sets dweight, dbias; returns dx (N, In)

  Array<float> weight, dweight;  // (Out, In)
  Array<float> bias, dbias;      // (Out)

 private:
  Array<float> input_;  // (N, In)
};

}  // namespace bnlab::train
