#include "bnlab/train/model.hpp"

#include "bnlab/core/error.hpp"

namespace bnlab::train {

Network::Network(const NetworkSpec& spec, const TrainMethod& method, std::uint64_t seed) : spec_(spec) {
  if (spec.channels.size() != spec.strides.size() || spec.channels.empty()) {
    throw Error("network: channels and strides must be non-empty lists of the same length");
  }
  Rng rng(seed);
  std::size_t in = spec.in_channels, h = spec.height, w = spec.width;
  stages.reserve(spec.channels.size());
  for (std::size_t i = 0; i < spec.channels.size(); ++i) {
    ConvShape shape{in, spec.channels[i], 3, spec.strides[i], 1};
    Conv2d conv(shape, rng);
    h = shape.out_extent(h);
    w = shape.out_extent(w);
    stages.push_back(Stage{std::move(conv), NormLayer(method, spec.channels[i], h, w, spec.eps, spec.norm_momentum), Relu{}});
    in = spec.channels[i];
  }
  head = std::make_unique<Linear>(in, spec.classes, rng);
}

Array<float> Network::forward(const Array<float>& x, Pass pass) {
  const Array<float>* a = &x;  // each stage reads the previous one's output in place
  // Only a training step runs a backward: the other passes (evaluations) keep nothing.
  const bool keep = pass == Pass::train;
  for (Stage& stage : stages) a = &stage.relu.forward(stage.norm.forward(stage.conv.forward(*a, keep), pass));
  return head->forward(pool.forward(*a));
}

void Network::backward(const Array<float>& dlogits) {
  Array<float> g = pool.backward(head->backward(dlogits));
  for (std::size_t i = stages.size(); i-- > 0;) {
    g = stages[i].conv.backward(stages[i].norm.backward(stages[i].relu.backward(g)), i > 0);
  }
}

std::vector<ParamRef> Network::parameters() {
  std::vector<ParamRef> params;
  for (Stage& stage : stages) {
    params.push_back({"conv.weight", &stage.conv.weight, &stage.conv.dweight});
    params.push_back({"norm.gamma", &stage.norm.gamma, &stage.norm.dgamma});
    params.push_back({"norm.beta", &stage.norm.beta, &stage.norm.dbeta});
  }
  params.push_back({"linear.weight", &head->weight, &head->dweight});
  params.push_back({"linear.bias", &head->bias, &head->dbias});
  return params;
}

std::vector<Statistics> Network::running_statistics() const {
  std::vector<Statistics> out;
  for (const Stage& stage : stages) out.push_back(stage.norm.running);
  return out;
}

void Network::set_running_statistics(const std::vector<Statistics>& statistics) {
  if (statistics.size() != stages.size()) throw Error("network: one set of running statistics per norm layer expected");
  for (std::size_t i = 0; i < stages.size(); ++i) stages[i].norm.running = statistics[i];
}

void Network::begin_population() {
  for (Stage& stage : stages) stage.norm.begin_population();
}

std::size_t Network::parameter_count() {
  std::size_t count = 0;
  for (const ParamRef& p : parameters()) count += p.value->size();
  return count;
}

std::optional<std::string> Network::other_size_problem(std::size_t h, std::size_t w) const {
  std::size_t layer_h = h, layer_w = w;
  for (std::size_t i = 0; i < stages.size(); ++i) {
    layer_h = stages[i].conv.shape().out_extent(layer_h);
    layer_w = stages[i].conv.shape().out_extent(layer_w);
    if (auto problem = stages[i].norm.other_size_problem(layer_h, layer_w)) {
      return "norm layer " + std::to_string(i + 1) + ": " + *problem;
    }
  }
  return std::nullopt;
}

}  // namespace bnlab::train
