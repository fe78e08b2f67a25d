#pragma once
// SGD with momentum, PyTorch's form (torch.optim.SGD, dampening 0, no
// Nesterov, no weight decay):
//   v <- momentum * v + g      (v starts at 0, so the first step sets v = g)
//   p <- p - lr * v
#include <cstddef>
#include <vector>

#include "bnlab/core/tensor.hpp"

namespace bnlab::train {

// One trainable array and its gradient, owned by a layer.
struct ParamRef {
  const char* name;
  Array<float>* value;
  const Array<float>* grad;
};

class Sgd {
 public:
  Sgd(double lr, double momentum) : lr_(lr), momentum_(momentum) {}
  void step(const std::vector<ParamRef>& params);
  // The learning rate of the next steps (a schedule sets it before each step).
  void set_lr(double lr) { lr_ = lr; }

 private:
  double lr_, momentum_;
  std::vector<std::vector<float>> velocity_;  // one per parameter, in order
};

}  // namespace bnlab::train
