// The layers of `bnlab train` against plain float64 references written here
// from the definitions, and their gradients against central finite
// differences of those references (in double).
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <vector>

#include "bnlab/core/rng.hpp"
#include "bnlab/train/activation.hpp"
#include "bnlab/train/conv.hpp"
#include "bnlab/train/linear.hpp"
#include "bnlab/train/loss.hpp"
#include "bnlab/train/norm_layer.hpp"
#include "bnlab/train/optimizer.hpp"
#include "bnlab/train/schedule.hpp"
#include "bnlab/train/train_method.hpp"
#include "support/test_support.hpp"

using namespace bnlab;
using namespace bnlab::train;
using testing::normals;
using testing::rel_l2;
using testing::to_array;
using testing::to_doubles;

namespace {

// Central differences of f at v (in double): df/dv[i] = (f(v + h e_i) - f(v - h e_i)) / 2h.
std::vector<double> finite_differences(std::vector<double> v, const std::function<double(const std::vector<double>&)>& f,
                                       double h) {
  std::vector<double> grad(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const double saved = v[i];
    v[i] = saved + h;
    const double up = f(v);
    v[i] = saved - h;
    const double down = f(v);
    v[i] = saved;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// y[n,o,i,j] = sum_{c,a,b} w[o,c,a,b] x[n,c,i*s+a-p,j*s+b-p], in double, from the definition.
std::vector<double> conv_reference(const std::vector<double>& x, const std::vector<double>& w, std::size_t n,
                                   std::size_t ci, std::size_t h, std::size_t wd, const ConvShape& cs) {
  const std::size_t ho = cs.out_extent(h), wo = cs.out_extent(wd), k = cs.kernel, co = cs.out_channels;
  std::vector<double> y(n * co * ho * wo, 0.0);
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t o = 0; o < co; ++o)
      for (std::size_t i = 0; i < ho; ++i)
        for (std::size_t j = 0; j < wo; ++j) {
          double sum = 0;
          for (std::size_t c = 0; c < ci; ++c)
            for (std::size_t a = 0; a < k; ++a)
              for (std::size_t b = 0; b < k; ++b) {
                const long r = long(i * cs.stride + a) - long(cs.pad), q = long(j * cs.stride + b) - long(cs.pad);
                if (r < 0 || q < 0 || r >= long(h) || q >= long(wd)) continue;
                sum += w[((o * ci + c) * k + a) * k + b] * x[((s * ci + c) * h + std::size_t(r)) * wd + std::size_t(q)];
              }
          y[((s * co + o) * ho + i) * wo + j] = sum;
        }
  return y;
}

}  // namespace

TEST_CASE("conv forward matches the float64 reference; dx and dW match finite differences") {
  struct Case {
    std::size_t n, ci, co, h, w, stride;
  };
  for (const Case& t : {Case{2, 3, 5, 7, 6, 1}, Case{3, 4, 6, 8, 9, 2}, Case{1, 1, 4, 5, 5, 2}, Case{2, 2, 3, 1, 1, 1}}) {
    INFO("n " << t.n << " ci " << t.ci << " co " << t.co << " h " << t.h << " w " << t.w << " stride " << t.stride);
    Rng rng(7);
    const ConvShape cs{t.ci, t.co, 3, t.stride, 1};
    Conv2d conv(cs, rng);
    const auto x = testing::rounded_to_float(normals(t.n * t.ci * t.h * t.w, 11));
    const auto w = to_doubles(conv.weight);
    const Array<float> y = conv.forward(to_array<float>(x, {t.n, t.ci, t.h, t.w}));
    const auto expected = conv_reference(x, w, t.n, t.ci, t.h, t.w, cs);
    REQUIRE(y.size() == expected.size());
    CHECK(rel_l2(y.data(), expected) < 1e-6);

    // L = sum(y * g): its gradients are dx and dW for the upstream gradient g.
    const auto g = testing::rounded_to_float(normals(expected.size(), 13));
    const Array<float> dx = conv.backward(to_array<float>(g, Shape(y.shape().begin(), y.shape().end())), true);
    auto loss_of_x = [&](const std::vector<double>& v) { return dot(conv_reference(v, w, t.n, t.ci, t.h, t.w, cs), g); };
    auto loss_of_w = [&](const std::vector<double>& v) { return dot(conv_reference(x, v, t.n, t.ci, t.h, t.w, cs), g); };
    CHECK(rel_l2(dx.data(), finite_differences(x, loss_of_x, 1e-3)) < 1e-5);
    CHECK(rel_l2(conv.dweight.data(), finite_differences(w, loss_of_w, 1e-3)) < 1e-5);
    CHECK(conv.backward(to_array<float>(g, Shape(y.shape().begin(), y.shape().end())), false).size() == 0);
  }
}

TEST_CASE("conv results are the same bits whatever the batch composition") {
  // Each sample's output depends on that sample only: the same image alone
  // or inside a batch gives identical bits (no cross-sample reordering).
  Rng rng(3);
  Conv2d conv(ConvShape{2, 4, 3, 2, 1}, rng);
  const auto x = normals(5 * 2 * 9 * 9, 5);
  const Array<float> batch = conv.forward(to_array<float>(x, {5, 2, 9, 9}));
  const std::vector<double> third(x.begin() + 2 * 2 * 81, x.begin() + 3 * 2 * 81);
  const Array<float> alone = conv.forward(to_array<float>(third, {1, 2, 9, 9}));
  for (std::size_t i = 0; i < alone.size(); ++i) REQUIRE(alone.data()[i] == batch.data()[2 * alone.size() + i]);
}

TEST_CASE("linear forward matches the float64 reference; gradients match finite differences") {
  Rng rng(1);
  const std::size_t n = 4, in = 7, out = 3;
  Linear layer(in, out, rng);
  const auto x = testing::rounded_to_float(normals(n * in, 2));
  const auto w = to_doubles(layer.weight), b = to_doubles(layer.bias);
  auto reference = [&](const std::vector<double>& xv, const std::vector<double>& wv, const std::vector<double>& bv) {
    std::vector<double> y(n * out);
    for (std::size_t s = 0; s < n; ++s)
      for (std::size_t o = 0; o < out; ++o) {
        y[s * out + o] = bv[o];
        for (std::size_t i = 0; i < in; ++i) y[s * out + o] += wv[o * in + i] * xv[s * in + i];
      }
    return y;
  };
  const Array<float> y = layer.forward(to_array<float>(x, {n, in}));
  CHECK(rel_l2(y.data(), reference(x, w, b)) < 1e-6);
  const auto g = testing::rounded_to_float(normals(n * out, 3));
  const Array<float> dx = layer.backward(to_array<float>(g, {n, out}));
  CHECK(rel_l2(dx.data(), finite_differences(x, [&](const auto& v) { return dot(reference(v, w, b), g); }, 1e-3)) < 1e-6);
  CHECK(rel_l2(layer.dweight.data(), finite_differences(w, [&](const auto& v) { return dot(reference(x, v, b), g); }, 1e-3)) < 1e-6);
  CHECK(rel_l2(layer.dbias.data(), finite_differences(b, [&](const auto& v) { return dot(reference(x, w, v), g); }, 1e-3)) < 1e-6);
}

TEST_CASE("global average pool and ReLU match their references and finite differences") {
  const std::size_t n = 2, c = 3, h = 4, w = 5;
  // Values kept away from 0, where ReLU has no derivative.
  auto x = testing::rounded_to_float(normals(n * c * h * w, 4));
  for (double& v : x) v = double(float(v + (v >= 0 ? 0.05 : -0.05)));
  const auto g_pool = testing::rounded_to_float(normals(n * c, 6));
  auto pool_ref = [&](const std::vector<double>& v) {
    std::vector<double> y(n * c, 0.0);
    for (std::size_t r = 0; r < n * c; ++r) {
      for (std::size_t s = 0; s < h * w; ++s) y[r] += v[r * h * w + s];
      y[r] /= double(h * w);
    }
    return y;
  };
  GlobalAveragePool pool;
  CHECK(rel_l2(pool.forward(to_array<float>(x, {n, c, h, w})).data(), pool_ref(x)) < 1e-7);
  const Array<float> dpool = pool.backward(to_array<float>(g_pool, {n, c}));
  CHECK(rel_l2(dpool.data(), finite_differences(x, [&](const auto& v) { return dot(pool_ref(v), g_pool); }, 1e-3)) < 1e-7);

  auto relu_ref = [](std::vector<double> v) {
    for (double& e : v) e = e > 0 ? e : 0;
    return v;
  };
  const auto g = testing::rounded_to_float(normals(x.size(), 8));
  Relu relu;
  CHECK(rel_l2(relu.forward(to_array<float>(x, {n, c, h, w})).data(), relu_ref(x)) == 0.0);
  const Array<float> drelu = relu.backward(to_array<float>(g, {n, c, h, w}));
  CHECK(rel_l2(drelu.data(), finite_differences(x, [&](const auto& v) { return dot(relu_ref(v), g); }, 1e-3)) < 1e-9);
}

TEST_CASE("softmax cross-entropy matches the float64 reference; dlogits match finite differences") {
  const std::size_t n = 5, k = 10;
  auto z = testing::rounded_to_float(normals(n * k, 9, 0.0, 3.0));
  z[7] += 80.0;  // a large logit: the max shift keeps exp finite (80 + z is exact in float here)
  z[7] = double(float(z[7]));
  const std::vector<std::uint8_t> labels{0, 3, 9, 9, 4};
  auto reference = [&](const std::vector<double>& v) {
    double total = 0;
    for (std::size_t s = 0; s < n; ++s) {
      double m = v[s * k];
      for (std::size_t j = 1; j < k; ++j) m = std::max(m, v[s * k + j]);
      double sum = 0;
      for (std::size_t j = 0; j < k; ++j) sum += std::exp(v[s * k + j] - m);
      total += m + std::log(sum) - v[s * k + labels[s]];
    }
    return total / double(n);
  };
  LossResult r = softmax_cross_entropy(to_array<float>(z, {n, k}), labels);
  CHECK(r.loss == Approx(reference(z)).epsilon(1e-12));
  CHECK(rel_l2(r.dlogits.data(), finite_differences(z, reference, 1e-5)) < 1e-6);
  // Predictions: the largest logit of each row.
  std::size_t correct = 0;
  for (std::size_t s = 0; s < n; ++s) {
    std::size_t best = 0;
    for (std::size_t j = 1; j < k; ++j) best = z[s * k + j] > z[s * k + best] ? j : best;
    correct += best == labels[s];
  }
  CHECK(r.correct == correct);
  CHECK_THROWS_WITH(softmax_cross_entropy(to_array<float>(z, {n, k}), {0, 1}), Catch::Contains("expected (N, K) logits"));
}

TEST_CASE("SGD with momentum follows PyTorch's update over several steps") {
  Array<float> p = to_array<float>({1.0, -2.0}, {2});
  Array<float> g = to_array<float>({0.5, 0.25}, {2});
  Sgd sgd(0.1, 0.9);
  double v0 = 0, v1 = 0, p0 = 1.0, p1 = -2.0;
  for (int step = 0; step < 3; ++step) {
    sgd.step({{"p", &p, &g}});
    v0 = 0.9 * v0 + 0.5;
    v1 = 0.9 * v1 + 0.25;
    p0 -= 0.1 * v0;
    p1 -= 0.1 * v1;
    CHECK(p(0) == Approx(p0).epsilon(1e-6));
    CHECK(p(1) == Approx(p1).epsilon(1e-6));
  }
}

TEST_CASE("norm layer: running statistics, eval mode and another H x W") {
  const auto x = normals(4 * 3 * 5 * 5, 21, 2.0, 3.0);
  const Array<float> input = to_array<float>(x, {4, 3, 5, 5});
  NormLayer bn(parse_train_method("3", "m"), 3, 5, 5, 1e-5, 0.1);
  // batch_stats leaves the running statistics alone; train moves them by momentum.
  bn.forward(input, Pass::batch_stats);
  CHECK(bn.running.mean == std::vector<double>(3, 0.0));
  bn.forward(input, Pass::train);
  const MethodPlan plan = make_plan(parse_method("3", "m"), AffineMode::natural, Dims{4, 3, 5, 5});
  const Statistics batch = batch_statistics(plan, input);
  for (std::size_t c = 0; c < 3; ++c) {
    CHECK(bn.running.mean[c] == Approx(0.1 * batch.mean[c]).epsilon(1e-12));
    CHECK(bn.running.var[c] == Approx(0.9 + 0.1 * batch.var[c] * 100.0 / 99.0).epsilon(1e-12));
  }
  // Eval mode normalizes with the running statistics: y = (x - rm) / sqrt(rv + eps).
  const Array<float> y = bn.forward(input, Pass::eval);
  CHECK(y(1, 2, 3, 4) == Approx((x[((1 * 3 + 2) * 5 + 3) * 5 + 4] - bn.running.mean[2]) /
                                std::sqrt(bn.running.var[2] + 1e-5)).epsilon(1e-5));
  CHECK_THROWS_WITH(bn.backward(to_array<float>(x, {4, 3, 5, 5})), Catch::Contains("backward needs a batch-statistics forward"));

  // Methods whose parameters or running statistics live on the H x W grid cannot change resolution.
  CHECK(!bn.other_size_problem(9, 9));
  CHECK(NormLayer(parse_train_method("1", "m"), 3, 5, 5, 1e-5, 0.1).other_size_problem(9, 9)->find("gamma and beta have shape (5, 5)") != std::string::npos);
  CHECK(NormLayer(parse_train_method("2", "m"), 3, 5, 5, 1e-5, 0.1).other_size_problem(9, 9)->find("(3, 5, 5)") != std::string::npos);
  CHECK(NormLayer(parse_train_method("ln", "m"), 3, 5, 5, 1e-5, 0.1).other_size_problem(9, 9));
  CHECK(!NormLayer(parse_train_method("in", "m"), 3, 5, 5, 1e-5, 0.1).other_size_problem(9, 9));
  CHECK(!NormLayer(parse_train_method("gn:3", "m"), 3, 5, 5, 1e-5, 0.1).other_size_problem(9, 9));
  CHECK_THROWS_WITH(NormLayer(parse_train_method("1", "m"), 3, 5, 5, 1e-5, 0.1).forward(to_array<float>(normals(2 * 3 * 9 * 9, 1), {2, 3, 9, 9}), Pass::eval),
                    Catch::Contains("gamma and beta have shape"));
}

TEST_CASE("norm layer: population statistics (PreciseBN) are the plain average of the batches' statistics") {
  // Three batches of different content; after begin_population() the running
  // statistics are the mean of the batch means and of the unbiased batch
  // variances, computed here in float64 from the definition, whatever the
  // running statistics were before (here: moved by a training step first).
  const std::size_t n = 4, c = 3, h = 5, w = 5, m = n * h * w;
  NormLayer bn(parse_train_method("3", "m"), c, h, w, 1e-5, 0.1);
  bn.forward(to_array<float>(normals(n * c * h * w, 90, 7.0, 2.0), {n, c, h, w}), Pass::train);
  std::vector<double> mean_sum(c, 0.0), var_sum(c, 0.0);
  bn.begin_population();
  for (int b = 0; b < 3; ++b) {
    const auto x = testing::rounded_to_float(normals(n * c * h * w, 91 + b, 1.5 * b, 1.0 + b));
    bn.forward(to_array<float>(x, {n, c, h, w}), Pass::population);
    for (std::size_t ch = 0; ch < c; ++ch) {
      double sum = 0;
      for (std::size_t s = 0; s < n; ++s)
        for (std::size_t i = 0; i < h * w; ++i) sum += x[(s * c + ch) * h * w + i];
      const double mean = sum / double(m);
      double squares = 0;
      for (std::size_t s = 0; s < n; ++s)
        for (std::size_t i = 0; i < h * w; ++i) squares += (x[(s * c + ch) * h * w + i] - mean) * (x[(s * c + ch) * h * w + i] - mean);
      mean_sum[ch] += mean;
      var_sum[ch] += squares / double(m - 1);  // unbiased, as PyTorch stores it
    }
  }
  for (std::size_t ch = 0; ch < c; ++ch) {
    INFO("channel " << ch);
    CHECK(bn.running.mean[ch] == Approx(mean_sum[ch] / 3).epsilon(1e-12));
    CHECK(bn.running.var[ch] == Approx(var_sum[ch] / 3).epsilon(1e-12));
  }
  // A population pass leaves nothing for a backward.
  CHECK_THROWS_WITH(bn.backward(to_array<float>(normals(n * c * h * w, 95), {n, c, h, w})),
                    Catch::Contains("backward needs a batch-statistics forward"));
}

TEST_CASE("norm layer `none`: a per-channel scale and bias; gradients match finite differences") {
  const std::size_t n = 2, c = 3, h = 4, w = 5;
  NormLayer affine(parse_train_method("none", "m"), c, h, w, 1e-5, 0.1);
  CHECK(affine.running.mean.empty());
  CHECK(!affine.other_size_problem(9, 9));  // nothing tied to H x W
  affine.gamma = to_array<float>({1.5, -0.5, 2.0}, {c});
  affine.beta = to_array<float>({0.25, 1.0, -3.0}, {c});
  const auto x = testing::rounded_to_float(normals(n * c * h * w, 7));
  auto reference = [&](const std::vector<double>& xv, const std::vector<double>& g, const std::vector<double>& b) {
    std::vector<double> y(xv.size());
    for (std::size_t i = 0; i < xv.size(); ++i) y[i] = g[(i / (h * w)) % c] * xv[i] + b[(i / (h * w)) % c];
    return y;
  };
  const auto gv = to_doubles(affine.gamma), bv = to_doubles(affine.beta);
  for (Pass pass : {Pass::train, Pass::eval}) {  // the same map in every pass
    const Array<float> y = affine.forward(to_array<float>(x, {n, c, h, w}), pass);
    CHECK(rel_l2(y.data(), reference(x, gv, bv)) < 1e-7);
  }
  affine.forward(to_array<float>(x, {n, c, h, w}), Pass::train);
  const auto dy = testing::rounded_to_float(normals(n * c * h * w, 8));
  const Array<float> dx = affine.backward(to_array<float>(dy, {n, c, h, w}));
  CHECK(rel_l2(dx.data(), finite_differences(x, [&](const auto& v) { return dot(reference(v, gv, bv), dy); }, 1e-3)) < 1e-6);
  CHECK(rel_l2(affine.dgamma.data(), finite_differences(gv, [&](const auto& v) { return dot(reference(x, v, bv), dy); }, 1e-3)) < 1e-6);
  CHECK(rel_l2(affine.dbeta.data(), finite_differences(bv, [&](const auto& v) { return dot(reference(x, gv, v), dy); }, 1e-3)) < 1e-6);
}

TEST_CASE("learning-rate schedule: linear warm-up, then constant or cosine to 0") {
  // warm-up of 4 steps to lr 0.2, then 8 more steps
  CHECK(learning_rate(LrSchedule::cosine, 0.2, 4, 0, 12) == Approx(0.05));
  CHECK(learning_rate(LrSchedule::cosine, 0.2, 4, 3, 12) == Approx(0.2));
  CHECK(learning_rate(LrSchedule::cosine, 0.2, 4, 4, 12) == Approx(0.2));           // t = 0
  CHECK(learning_rate(LrSchedule::cosine, 0.2, 4, 8, 12) == Approx(0.1));           // t = 1/2
  CHECK(learning_rate(LrSchedule::cosine, 0.2, 4, 11, 12) == Approx(0.2 * (1 + std::cos(M_PI * 7 / 8)) / 2));
  CHECK(learning_rate(LrSchedule::constant, 0.2, 4, 11, 12) == 0.2);
  CHECK(learning_rate(LrSchedule::cosine, 0.2, 0, 0, 12) == 0.2);                   // no warm-up
  CHECK(parse_lr_schedule("cosine", "k") == LrSchedule::cosine);
  CHECK_THROWS_WITH(parse_lr_schedule("step", "--lr-schedule"),
                    "--lr-schedule: unknown learning-rate schedule \"step\" (valid: constant, cosine)");
}

TEST_CASE("train methods: none beside the engine's methods, aliases, duplicates") {
  const auto list = parse_train_method_list("None, 3,ln", "--methods");
  REQUIRE(list.size() == 3);
  CHECK(list[0].id == "none");
  CHECK(list[0].column == "none");
  CHECK(!list[0].norm);
  CHECK(!list[0].batch_dependent());
  CHECK(list[1].id == "3");
  CHECK(list[1].column == "M3");
  CHECK(list[1].batch_dependent());
  CHECK(!list[2].batch_dependent());
  CHECK_THROWS_WITH(parse_train_method_list("none,identity", "--methods"), "--methods: method none is listed twice");
  CHECK_THROWS_WITH(parse_train_method_list("3,,1", "--methods"), Catch::Contains("empty method name"));
}
