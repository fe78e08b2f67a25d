#include "bnlab/train/loss.hpp"

#include <cmath>

#include "bnlab/core/error.hpp"

namespace bnlab::train {

std::vector<std::size_t> predictions(const Array<float>& logits) {
  const std::size_t batch = logits.shape()[0], classes = logits.shape()[1];
  std::vector<std::size_t> best(batch, 0);
  for (std::size_t n = 0; n < batch; ++n) {
    for (std::size_t k = 1; k < classes; ++k) {
      if (logits(n, k) > logits(n, best[n])) best[n] = k;
    }
  }
  return best;
}

LossResult softmax_cross_entropy(const Array<float>& logits, const std::vector<std::uint8_t>& labels) {
  if (logits.dimension() != 2 || logits.shape()[0] != labels.size()) {
    throw Error("softmax cross-entropy: expected (N, K) logits for " + std::to_string(labels.size()) + " labels");
  }
  const std::size_t batch = logits.shape()[0], classes = logits.shape()[1];
  LossResult result;
  result.dlogits = Array<float>::from_shape({batch, classes});
  std::vector<std::size_t> best = predictions(logits);
  double total = 0;
  std::vector<double> e(classes);
  for (std::size_t n = 0; n < batch; ++n) {
    const std::size_t label = labels[n];
    if (label >= classes) throw Error("softmax cross-entropy: label " + std::to_string(label) + " out of range");
    const double m = logits(n, best[n]);
    double sum = 0;
    for (std::size_t k = 0; k < classes; ++k) sum += e[k] = std::exp(double(logits(n, k)) - m);
    total += std::log(sum) - (double(logits(n, label)) - m);
    for (std::size_t k = 0; k < classes; ++k) {
      result.dlogits(n, k) = float((e[k] / sum - (k == label ? 1.0 : 0.0)) / double(batch));
    }
    result.correct += best[n] == label;
  }
  result.loss = total / double(batch);
  return result;
}

}  // namespace bnlab::train
