// One whole training step (and a second one, for the momentum) of bnlab
// train's CNN against PyTorch, for methods 1, 2 and 3: tests/fixtures/train/
// holds PyTorch's numbers (scripts/make_train_fixture.py). The norm layers run
// through bnlab's engine, so this checks the whole chain: convolutions, norm
// forward/backward, running statistics, ReLU, pooling, linear layer, loss,
// momentum SGD.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "bnlab/io/npy.hpp"
#include "bnlab/train/loss.hpp"
#include "bnlab/train/model.hpp"

namespace fs = std::filesystem;
using namespace bnlab;
using namespace bnlab::train;

namespace {

const fs::path kFixtures = fs::path(BNLAB_SOURCE_DIR) / "tests" / "fixtures" / "train";

double rel_l2(const Array<float>& a, const Array<float>& b) {
  REQUIRE(a.size() == b.size());
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double d = double(a.data()[i]) - double(b.data()[i]);
    num += d * d;
    den += double(b.data()[i]) * double(b.data()[i]);
  }
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-30);
}

Array<float> as_array(const std::vector<double>& v) {
  Array<float> a = Array<float>::from_shape({v.size()});
  for (std::size_t i = 0; i < v.size(); ++i) a.data()[i] = float(v[i]);
  return a;
}

// Fixture file names of the network's parameters, in Network::parameters() order.
std::vector<std::string> parameter_files() {
  std::vector<std::string> names;
  for (int i = 1; i <= 3; ++i) {
    names.push_back("conv" + std::to_string(i) + "_weight");
    names.push_back("norm" + std::to_string(i) + "_gamma");
    names.push_back("norm" + std::to_string(i) + "_beta");
  }
  names.push_back("linear_weight");
  names.push_back("linear_bias");
  return names;
}

}  // namespace

TEST_CASE("two SGD steps of the whole network match PyTorch (methods 1, 2, 3)") {
  for (const std::string method : {"1", "2", "3"}) {
    INFO("method " << method);
    const fs::path dir = kFixtures / ("m" + method);
    auto load = [&](const std::string& name) { return read_npy((dir / (name + ".npy")).string()); };
    NetworkSpec spec;
    spec.height = 12;
    spec.width = 12;
    Network net(spec, parse_train_method(method, "method"), 0);
    const std::vector<std::string> names = parameter_files();
    std::vector<ParamRef> params = net.parameters();
    REQUIRE(params.size() == names.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
      Array<float> value = load(names[i]);
      REQUIRE(Shape(value.shape().begin(), value.shape().end()) == Shape(params[i].value->shape().begin(), params[i].value->shape().end()));
      *params[i].value = value;
    }
    const Array<float> x = load("x");
    std::vector<std::uint8_t> labels;
    for (float l : load("labels")) labels.push_back(std::uint8_t(l));

    Sgd sgd(0.1, 0.9);
    const Array<float> logits = net.forward(x, Pass::train);
    CHECK(rel_l2(logits, load("logits")) < 1e-5);
    LossResult loss = softmax_cross_entropy(logits, labels);
    CHECK(loss.loss == Approx(load("loss")(0)).epsilon(1e-5));
    net.backward(loss.dlogits);
    for (std::size_t i = 0; i < names.size(); ++i) {
      INFO("gradient of " << names[i]);
      CHECK(rel_l2(*params[i].grad, load("d_" + names[i])) < 1e-4);
    }
    for (int i = 1; i <= 3; ++i) {
      INFO("running statistics of norm layer " << i);
      const Statistics& running = net.stages[std::size_t(i - 1)].norm.running;
      CHECK(rel_l2(as_array(running.mean), load("norm" + std::to_string(i) + "_running_mean")) < 1e-5);
      CHECK(rel_l2(as_array(running.var), load("norm" + std::to_string(i) + "_running_var")) < 1e-5);
    }
    sgd.step(net.parameters());

    LossResult loss2 = softmax_cross_entropy(net.forward(x, Pass::train), labels);
    CHECK(loss2.loss == Approx(load("step2_loss")(0)).epsilon(1e-4));
    net.backward(loss2.dlogits);
    sgd.step(net.parameters());
    for (std::size_t i = 0; i < names.size(); ++i) {
      INFO("after step 2: " << names[i]);
      CHECK(rel_l2(*params[i].value, load("step2_" + names[i])) < 1e-5);
    }
  }
}
