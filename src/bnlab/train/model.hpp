#pragma once
// The small CNN of `bnlab train`, with one normalization method throughout:
//   x (N, 1, 28, 28)
//   conv3x3 1->16, stride 1, pad 1  -> norm -> ReLU    (N, 16, 28, 28)
//   conv3x3 16->32, stride 2, pad 1 -> norm -> ReLU    (N, 32, 14, 14)
//   conv3x3 32->32, stride 2, pad 1 -> norm -> ReLU    (N, 32, 7, 7)
//   global average pool                                (N, 32)
//   linear 32->10                                      (N, 10) logits
// The convolutions have no bias: the norm's beta follows each one. The norm
// layers' parameter shapes follow the 28x28 training resolution.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bnlab/train/activation.hpp"
#include "bnlab/train/conv.hpp"
#include "bnlab/train/linear.hpp"
#include "bnlab/train/norm_layer.hpp"
#include "bnlab/train/optimizer.hpp"

namespace bnlab::train {

struct NetworkSpec {
  std::size_t height = 28, width = 28, in_channels = 1, classes = 10;
  std::vector<std::size_t> channels{16, 32, 32};  // one conv + norm + ReLU stage each
  std::vector<std::size_t> strides{1, 2, 2};
  double eps = 1e-5, norm_momentum = 0.1;
};

class Network {
 public:
  // Initial weights drawn from Rng(seed), layer by layer in forward order.
  Network(const NetworkSpec& spec, const TrainMethod& method, std::uint64_t seed);

  Array<float> forward(const Array<float>& x, Pass pass);  // (N, 1, H, W) -> (N, classes)
  void backward(const Array<float>& dlogits);              // after a Pass::train forward

  std::vector<ParamRef> parameters();  // every trainable array, forward order
  // Every norm layer's running statistics, forward order (empty entries for
  // methods without them); settable, to evaluate with other statistics.
  std::vector<Statistics> running_statistics() const;
  void set_running_statistics(const std::vector<Statistics>& statistics);
  void begin_population();  // NormLayer::begin_population on every layer
  std::size_t parameter_count();
  // Why the network cannot evaluate an h x w input, or nullopt.
  std::optional<std::string> other_size_problem(std::size_t h, std::size_t w) const;

  struct Stage {
    Conv2d conv;
    NormLayer norm;
    Relu relu;
  };
  std::vector<Stage> stages;
  GlobalAveragePool pool;
  std::unique_ptr<Linear> head;

 private:
  NetworkSpec spec_;
};

}  // namespace bnlab::train
