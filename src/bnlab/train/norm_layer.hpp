#pragma once
// A normalization layer for any method (1, 2, 3, ln, in, gn:G), run by bnlab's
// own engine: forward, backward and running statistics all come from
// bnlab/engine/engine.hpp, so the network trains with exactly the kernels
// `bnlab compare` measures. gamma and beta take the method's natural shape
// (Method 1: (H, W); 2 and ln: (C, H, W); 3, in, gn: (C)), fixed by the
// feature-map size the layer is built for. For `none` (train_method.hpp) the
// layer is y = gamma * x + beta per channel, gamma, beta: (C), no statistics.
//   x, y, dx, dy: (N, C, H, W)
#include <optional>
#include <string>

#include "bnlab/core/shape.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/train/train_method.hpp"

namespace bnlab::train {

// How a forward pass normalizes.
//   train:       batch statistics, running statistics updated (a training step)
//   batch_stats: batch statistics, running statistics left alone (train-mode evaluation)
//   eval:        running statistics (eval mode); methods without running
//                statistics (ln, in, gn) use their per-sample statistics
//   population:  batch statistics, and the running statistics become the
//                average of the batch statistics seen since
//                begin_population() (PreciseBN, below)
enum class Pass { train, batch_stats, eval, population };

class NormLayer {
 public:
  // c, h, w: the feature map the parameters are shaped for.
  NormLayer(const TrainMethod& method, std::size_t c, std::size_t h, std::size_t w, double eps, double momentum);

  Array<float> forward(const Array<float>& x, Pass pass);
  Array<float> forward(Array<float>&& x, Pass pass);  // keeps x for backward without a copy
  // After a train or batch_stats forward: sets dgamma, dbeta, returns dx.
  Array<float> backward(const Array<float>& dy);

  // Why this layer cannot run on an h × w feature map, or nullopt if it can
  // (in eval mode: parameters and running statistics must not have H, W axes).
  std::optional<std::string> other_size_problem(std::size_t h, std::size_t w) const;

  // Population statistics (PreciseBN: Wu & Johnson 2021, "Rethinking 'Batch'
  // in BatchNorm"; fvcore's update_bn_stats, torch.optim.swa_utils.update_bn):
  // after begin_population(), the i-th Pass::population forward updates the
  // running statistics with momentum 1/i, so they are the plain average of
  // the i batches' means and unbiased variances, whatever they were before.
  void begin_population() { population_batches_ = 0; }

  const TrainMethod& method() const { return method_; }
  Array<float> gamma, beta;    // natural parameter shape
  Array<float> dgamma, dbeta;  // natural parameter shape
  Statistics running;          // (num_stats) mean 0, var 1 at the start, as PyTorch

 private:
  MethodPlan plan_for(const Array<float>& x) const;

  Array<float> affine_forward(Array<float>&& x);  // `none`
  Array<float> affine_backward(const Array<float>& dy);

  TrainMethod method_;
  Dims built_for_;  // (1, C, H, W)
  double eps_, momentum_;
  Array<float> input_;   // (N, C, H, W) of the last batch-statistics forward
  Statistics batch_;     // its statistics
  std::optional<MethodPlan> plan_;
  std::size_t population_batches_ = 0;
};

}  // namespace bnlab::train
