#include "bnlab/train/optimizer.hpp"

#include "bnlab/core/error.hpp"

namespace bnlab::train {

void Sgd::step(const std::vector<ParamRef>& params) {
  if (velocity_.empty()) {
    for (const ParamRef& p : params) velocity_.emplace_back(p.value->size(), 0.0f);
  }
  if (velocity_.size() != params.size()) throw Error("sgd: the parameter list changed between steps");
  const float lr = float(lr_), momentum = float(momentum_);
  for (std::size_t i = 0; i < params.size(); ++i) {
    float* value = params[i].value->data();
    const float* grad = params[i].grad->data();
    std::vector<float>& v = velocity_[i];
    if (v.size() != params[i].value->size() || params[i].grad->size() != v.size()) {
      throw Error(std::string("sgd: ") + params[i].name + ": gradient size does not match the parameter");
    }
    for (std::size_t j = 0; j < v.size(); ++j) {
      v[j] = momentum * v[j] + grad[j];
      value[j] -= lr * v[j];
    }
  }
}

}  // namespace bnlab::train
