#pragma once
// Softmax cross-entropy, averaged over the batch:
//   p[n,k] = exp(z[n,k] - m_n) / sum_j exp(z[n,j] - m_n),  m_n = max_j z[n,j]
//   loss   = -1/N sum_n log p[n, label_n]
//          =  1/N sum_n (log sum_j exp(z[n,j] - m_n) - (z[n,label_n] - m_n))
//   dz[n,k] = (p[n,k] - [k == label_n]) / N
// z, dz: (N, K) logits; labels: N class indices in [0, K).
#include <cstdint>
#include <vector>

#include "bnlab/core/tensor.hpp"

namespace bnlab::train {

struct LossResult {
  double loss = 0;       // mean over the batch
  std::size_t correct = 0;  // samples whose largest logit is the label (first on ties)
  Array<float> dlogits;  // (N, K)
};

LossResult softmax_cross_entropy(const Array<float>& logits, const std::vector<std::uint8_t>& labels);

// Index of the largest logit of each row (the first one on ties). logits: (N, K).
std::vector<std::size_t> predictions(const Array<float>& logits);

}  // namespace bnlab::train
