#include "bnlab/train/activation.hpp"

#include "bnlab/core/error.hpp"

namespace bnlab::train {

const Array<float>& Relu::forward(const Array<float>& x) {
  if (output_.shape() != x.shape()) output_ = Array<float>::from_shape(x.shape());
  const float* in = x.data();
  float* out = output_.data();
  for (std::size_t i = 0; i < x.size(); ++i) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
  return output_;
}

Array<float> Relu::backward(const Array<float>& dy) {
  if (dy.size() != output_.size()) throw Error("relu: gradient shape does not match the forward");
  auto dx = Array<float>::from_shape(dy.shape());
  const float* y = output_.data();
  const float* g = dy.data();
  float* out = dx.data();
  for (std::size_t i = 0; i < dy.size(); ++i) out[i] = y[i] > 0.0f ? g[i] : 0.0f;
  return dx;
}

Array<float> GlobalAveragePool::forward(const Array<float>& x) {
  if (x.dimension() != 4) throw Error("global average pool: expected an (N, C, H, W) input");
  input_shape_ = shape_of(x);
  const std::size_t rows = x.shape()[0] * x.shape()[1], plane = x.shape()[2] * x.shape()[3];
  auto y = Array<float>::from_shape({x.shape()[0], x.shape()[1]});  // (N, C)
  for (std::size_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (std::size_t s = 0; s < plane; ++s) sum += x.data()[r * plane + s];
    y.data()[r] = float(sum / double(plane));
  }
  return y;
}

Array<float> GlobalAveragePool::backward(const Array<float>& dy) {
  const std::size_t rows = input_shape_[0] * input_shape_[1], plane = input_shape_[2] * input_shape_[3];
  if (dy.size() != rows) throw Error("global average pool: gradient shape does not match the forward");
  auto dx = Array<float>::from_shape(input_shape_);  // (N, C, H, W)
  for (std::size_t r = 0; r < rows; ++r) {
    const float share = float(double(dy.data()[r]) / double(plane));
    for (std::size_t s = 0; s < plane; ++s) dx.data()[r * plane + s] = share;
  }
  return dx;
}

}  // namespace bnlab::train
