#pragma once
// A normalization layer for any method (1, 2, 3, ln, in, gn:G), run by bnlab's
// own engine: forward, backward and running statistics all come from
// bnlab/engine/engine.hpp, so the network trains with exactly the kernels
// `bnlab compare` measures. gamma and beta take the method's natural shape
// (Method 1: (H, W); 2 and ln: (C, H, W); 3, in, gn: (C)), fixed by the
// feature-map size the layer is built for.
//   x, y, dx, dy: (N, C, H, W)
#include <optional>
#include <string>

#include "bnlab/core/shape.hpp"
#include "bnlab/engine/engine.hpp"

namespace bnlab::train {

// How a forward pass normalizes.
//   train:       batch statistics, running statistics updated (a training step)
//   batch_stats: batch statistics, running statistics left alone (train-mode evaluation)
//   eval:        running statistics (eval mode); methods without running
//                statistics (ln, in, gn) use their per-sample statistics
enum class Pass { train, batch_stats, eval };

class NormLayer {
 public:
  // c, h, w: the feature map the parameters are shaped for.
  NormLayer(const Method& method, std::size_t c, std::size_t h, std::size_t w, double eps, double momentum);

  Array<float> forward(const Array<float>& x, Pass pass);
  // After a train or batch_stats forward: sets dgamma, dbeta, returns dx.
  Array<float> backward(const Array<float>& dy);

  // Why this layer cannot run on an h × w feature map, or nullopt if it can
  // (in eval mode: parameters and running statistics must not have H, W axes).
  std::optional<std::string> other_size_problem(std::size_t h, std::size_t w) const;

  const Method& method() const { return method_; }
  Array<float> gamma, beta;    // natural parameter shape
  Array<float> dgamma, dbeta;  // natural parameter shape
  Statistics running;          // (num_stats) mean 0, var 1 at the start, as PyTorch

 private:
  MethodPlan plan_for(const Array<float>& x) const;

  Method method_;
  Dims built_for_;  // (1, C, H, W)
  double eps_, momentum_;
  Array<float> input_;   // (N, C, H, W) of the last batch-statistics forward
  Statistics batch_;     // its statistics
  std::optional<MethodPlan> plan_;
};

}  // namespace bnlab::train
