#include "bnlab/train/linear.hpp"

#include <cmath>

#include "bnlab/core/error.hpp"
#include "bnlab/core/shape.hpp"

namespace bnlab::train {

Linear::Linear(std::size_t in_features, std::size_t out_features, Rng& rng) {
  weight = Array<float>::from_shape({out_features, in_features});
  bias = Array<float>::from_shape({out_features});
  const double bound = 1.0 / std::sqrt(double(in_features));
  for (float& v : weight) v = float((2.0 * rng.uniform() - 1.0) * bound);
  for (float& v : bias) v = float((2.0 * rng.uniform() - 1.0) * bound);
  dweight = xt::zeros<float>(weight.shape());
  dbias = xt::zeros<float>(bias.shape());
}

Array<float> Linear::forward(const Array<float>& x) {
  const std::size_t out = weight.shape()[0], in = weight.shape()[1];
  if (x.dimension() != 2 || x.shape()[1] != in) {
    throw Error("linear: expected (N, " + std::to_string(in) + ") input, got " +
                shape_to_string(shape_of(x)));
  }
  input_ = x;
  const std::size_t batch = x.shape()[0];
  auto y = Array<float>::from_shape({batch, out});  // (N, Out)
  for (std::size_t n = 0; n < batch; ++n) {
    for (std::size_t o = 0; o < out; ++o) {
      double sum = bias(o);
      for (std::size_t i = 0; i < in; ++i) sum += double(weight(o, i)) * double(x(n, i));
      y(n, o) = float(sum);
    }
  }
  return y;
}

Array<float> Linear::backward(const Array<float>& dy) {
  const std::size_t out = weight.shape()[0], in = weight.shape()[1], batch = input_.shape()[0];
  if (dy.dimension() != 2 || dy.shape()[0] != batch || dy.shape()[1] != out) {
    throw Error("linear: gradient shape does not match the forward");
  }
  for (std::size_t o = 0; o < out; ++o) {
    double db = 0;
    for (std::size_t n = 0; n < batch; ++n) db += dy(n, o);
    dbias(o) = float(db);
    for (std::size_t i = 0; i < in; ++i) {
      double dw = 0;
      for (std::size_t n = 0; n < batch; ++n) dw += double(dy(n, o)) * double(input_(n, i));
      dweight(o, i) = float(dw);
    }
  }
  auto dx = Array<float>::from_shape({batch, in});  // (N, In)
  for (std::size_t n = 0; n < batch; ++n) {
    for (std::size_t i = 0; i < in; ++i) {
      double sum = 0;
      for (std::size_t o = 0; o < out; ++o) sum += double(dy(n, o)) * double(weight(o, i));
      dx(n, i) = float(sum);
    }
  }
  return dx;
}

}  // namespace bnlab::train
