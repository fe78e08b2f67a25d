// The engine against the plain float64 reference of reference.hpp: every
// method x train/eval x affine mode, gradients against finite differences,
// the identities of DESIGN.md §1, running statistics, awkward shapes.
#include <catch2/catch.hpp>

#include <omp.h>

#include <cstring>

#include "bnlab/engine/engine.hpp"
#include "bnlab/core/error.hpp"
#include "reference.hpp"
#include "test_helpers.hpp"

using namespace bnlab;
using testing::normals;
using testing::to_array;

namespace {

const std::vector<std::string> kMethods = {"1", "2", "3", "ln", "in", "gn:2"};
const std::vector<std::string> kAffines = {"natural", "channel", "none"};
// Awkward shapes: odd sizes, C not a multiple of 4, N = 1 (for batch-free methods), H = W = 1.
const std::vector<Dims> kShapes = {{3, 6, 5, 7}, {2, 2, 1, 1}, {5, 10, 3, 2}, {4, 6, 9, 1}};

ref::Dims ref_dims(const Dims& d) { return {d.n, d.c, d.h, d.w}; }

struct Case {
  MethodPlan plan;
  ref::Spec spec;
  ref::Dims rd;
  std::vector<double> x, gamma, beta, dy;  // float-representable values
};

Case make_case(const std::string& method, const std::string& affine, const Dims& dims, std::uint64_t seed,
               double offset = 0.0) {
  Case k{make_plan(parse_method(method, "test"), parse_affine_mode(affine, "test"), dims),
         ref::spec_for(method, affine), ref_dims(dims), {}, {}, {}, {}};
  k.x = testing::rounded_to_float(normals(dims.count(), seed, offset, 2.0));
  k.dy = testing::rounded_to_float(normals(dims.count(), seed + 1));
  if (affine != "none") {
    k.gamma = testing::rounded_to_float(testing::uniforms(k.plan.num_params, seed + 2, 0.5, 1.5));
    k.beta = testing::rounded_to_float(normals(k.plan.num_params, seed + 3));
  }
  return k;
}

template <class T>
Params<T> params_of(const Case& k) {
  Params<T> p;
  if (!k.gamma.empty()) {
    p.gamma = to_array<T>(k.gamma, k.plan.param_shape);
    p.beta = to_array<T>(k.beta, k.plan.param_shape);
  }
  return p;
}

bool same_bytes(const Array<float>& a, const Array<float>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("the method table gives DESIGN.md's statistic and parameter shapes") {
  Dims d{2, 6, 4, 5};
  auto shapes = [&](const std::string& id) {
    MethodPlan l = make_plan(parse_method(id, "test"), AffineMode::natural, d);
    return std::make_pair(l.stat_shape, l.param_shape);
  };
  using S = std::vector<std::size_t>;
  CHECK(shapes("1") == std::make_pair(S{4, 5}, S{4, 5}));
  CHECK(shapes("2") == std::make_pair(S{6, 4, 5}, S{6, 4, 5}));
  CHECK(shapes("3") == std::make_pair(S{6}, S{6}));
  CHECK(shapes("bn") == std::make_pair(S{6}, S{6}));
  CHECK(shapes("ln") == std::make_pair(S{2}, S{6, 4, 5}));
  CHECK(shapes("in") == std::make_pair(S{2, 6}, S{6}));
  CHECK(shapes("gn:3") == std::make_pair(S{2, 3}, S{6}));
  CHECK(make_plan(parse_method("3", "t"), AffineMode::channel, d).param_shape == S{6});
  CHECK(make_plan(parse_method("1", "t"), AffineMode::channel, d).param_shape == S{6});
  CHECK(make_plan(parse_method("3", "t"), AffineMode::none, d).num_params == 0);
  CHECK(make_plan(parse_method("3", "t"), AffineMode::natural, d).elements_per_stat == 2 * 4 * 5);
  CHECK(make_plan(parse_method("1", "t"), AffineMode::natural, d).elements_per_stat == 2 * 6);
}

TEST_CASE("method names are parsed strictly") {
  REQUIRE_THROWS_WITH(parse_method("4", "--methods"), Catch::Contains("--methods") && Catch::Contains("\"4\"") &&
                                                          Catch::Contains("1, 2, 3, bn, ln, in, gn:G"));
  REQUIRE_THROWS_WITH(parse_method("gn:0", "--method"), Catch::Contains("gn:0"));
  REQUIRE_THROWS_WITH(parse_method("gn:x", "--method"), Catch::Contains("gn:x"));
  REQUIRE_THROWS_WITH(parse_method_list("1,3,bn", "--methods"), Catch::Contains("twice"));
  REQUIRE_THROWS_WITH(make_plan(parse_method("gn:4", "t"), AffineMode::natural, Dims{2, 6, 3, 3}),
                      Catch::Contains("C=6") && Catch::Contains("G=4"));
  CHECK(parse_method_list("1,2,3,ln,in,gn:2", "m").size() == 6);
}

TEST_CASE("train-mode forward matches the float64 reference for every method, affine mode and shape") {
  for (const Dims& dims : kShapes)
    for (const auto& method : kMethods)
      for (const auto& affine : kAffines) {
        if (method == "gn:2" && dims.c % 2) continue;
        Case k = make_case(method, affine, dims, 11);
        if (k.plan.elements_per_stat < 2) continue;
        INFO("method " << method << " affine " << affine << " shape " << shape_to_string(dims.to_vector()));
        Statistics batch;
        Array<float> y = forward_train(k.plan, to_array<float>(k.x, dims.to_vector()), params_of<float>(k), 1e-5, &batch);
        ref::Stats rs = ref::batch_stats(k.spec, k.rd, k.x);
        std::vector<double> ry = ref::forward(k.spec, k.rd, k.x, rs, k.gamma, k.beta, 1e-5);
        double err = testing::rel_l2(y.data(), ry);
        INFO("y rel_l2=" << err);
        CHECK(err < 1e-6);
        CHECK(testing::rel_l2(batch.mean, rs.mean) < 1e-12);
        CHECK(testing::rel_l2(batch.var, rs.var) < 1e-12);
      }
}

TEST_CASE("eval-mode forward uses the given running statistics") {
  for (const Dims& dims : kShapes)
    for (const std::string method : {"1", "2", "3"})
      for (const auto& affine : kAffines) {
        Case k = make_case(method, affine, dims, 21);
        INFO("method " << method << " affine " << affine << " shape " << shape_to_string(dims.to_vector()));
        ref::Stats running{normals(k.plan.num_stats, 5), testing::uniforms(k.plan.num_stats, 6, 0.2, 3.0)};
        Statistics rs{running.mean, running.var};
        Array<float> y = forward_eval(k.plan, to_array<float>(k.x, dims.to_vector()), params_of<float>(k), rs, 1e-5);
        std::vector<double> ry = ref::forward(k.spec, k.rd, k.x, running, k.gamma, k.beta, 1e-5);
        double err = testing::rel_l2(y.data(), ry);
        INFO("y rel_l2=" << err);
        CHECK(err < 1e-6);
      }
}

TEST_CASE("eval mode is refused for methods without batch statistics") {
  for (const std::string method : {"ln", "in", "gn:2"}) {
    Case k = make_case(method, "natural", Dims{2, 4, 3, 3}, 1);
    Statistics rs{std::vector<double>(k.plan.num_stats, 0.0), std::vector<double>(k.plan.num_stats, 1.0)};
    REQUIRE_THROWS_WITH(forward_eval(k.plan, to_array<float>(k.x, {2, 4, 3, 3}), params_of<float>(k), rs, 1e-5),
                        Catch::Contains("eval mode applies only to methods 1, 2, 3"));
  }
}

TEST_CASE("gradients match central finite differences of the float64 reference (train and eval)") {
  const double eps = 1e-3;  // a visible eps, so that its place in the formula is checked too
  for (const Dims& dims : {Dims{3, 4, 3, 2}, Dims{2, 2, 1, 1}, Dims{2, 6, 1, 5}})
    for (const auto& method : kMethods)
      for (const auto& affine : kAffines)
        for (Mode mode : {Mode::train, Mode::eval}) {
          Case k = make_case(method, affine, dims, 31);
          if (mode == Mode::eval && !k.plan.method.batch_dependent()) continue;
          if (mode == Mode::train && k.plan.elements_per_stat < 2) continue;
          INFO("method " << method << " affine " << affine << " mode " << (mode == Mode::train ? "train" : "eval")
                         << " shape " << shape_to_string(dims.to_vector()));
          ref::Stats fixed{normals(k.plan.num_stats, 7), testing::uniforms(k.plan.num_stats, 8, 0.5, 2.0)};
          ref::Stats used = mode == Mode::train ? ref::batch_stats(k.spec, k.rd, k.x) : fixed;
          Statistics stats{used.mean, used.var};
          // The engine in double, so that finite differences can judge it tightly.
          Gradients<double> g = backward(k.plan, mode, to_array<double>(k.x, dims.to_vector()),
                                         to_array<double>(k.dy, dims.to_vector()), params_of<double>(k), stats, eps);
          std::vector<double> fd(dims.count());
          for (std::size_t i = 0; i < fd.size(); ++i)
            fd[i] = ref::fd_dx(k.spec, k.rd, k.x, k.gamma, k.beta, k.dy, eps, i, mode == Mode::train, &fixed);
          double err = testing::rel_l2(g.dx.data(), fd);
          INFO("dx vs finite differences: rel_l2=" << err);
          CHECK(err < 1e-7);
          if (affine != "none") {
            // dgamma and dbeta: L = sum(y * dy) is linear in gamma and beta, so
            // the reference sums are exact derivatives.
            std::vector<double> rdg, rdb;
            ref::param_grads(k.spec, k.rd, k.x, used, k.dy, eps, rdg, rdb);
            CHECK(testing::rel_l2(g.dgamma.data(), rdg) < 1e-12);
            CHECK(testing::rel_l2(g.dbeta.data(), rdb) < 1e-12);
          }
          // The float engine agrees with the double one.
          Gradients<float> gf = backward(k.plan, mode, to_array<float>(k.x, dims.to_vector()),
                                         to_array<float>(k.dy, dims.to_vector()), params_of<float>(k), stats, eps);
          CHECK(testing::rel_l2(gf.dx.data(), testing::to_doubles(g.dx)) < 1e-6);
        }
}

TEST_CASE("backward identities: sum_S dx = 0 for any eps; sum_S dx * xhat = 0 when eps = 0 and gamma is constant on S") {
  Dims dims{4, 6, 5, 3};
  for (const auto& method : kMethods)
    for (const auto& affine : kAffines)
      for (double eps : {0.0, 0.1}) {
        Case k = make_case(method, affine, dims, 41);
        INFO("method " << method << " affine " << affine << " eps " << eps);
        Statistics stats;
        Array<double> x = to_array<double>(k.x, dims.to_vector());
        forward_train(k.plan, x, params_of<double>(k), eps, &stats);
        Gradients<double> g = backward(k.plan, Mode::train, x, to_array<double>(k.dy, dims.to_vector()),
                                       params_of<double>(k), stats, eps);
        std::vector<double> sum_dx(k.plan.num_stats, 0.0), sum_dx_xhat(k.plan.num_stats, 0.0), scale(k.plan.num_stats, 0.0);
        ref::for_each(k.rd, [&](auto n, auto c, auto h, auto w, auto i) {
          std::size_t key = ref::stat_key(k.spec, k.rd, n, c, h, w);
          double xhat = (k.x[i] - stats.mean[key]) / std::sqrt(stats.var[key] + eps);
          sum_dx[key] += g.dx.data()[i];
          sum_dx_xhat[key] += g.dx.data()[i] * xhat;
          scale[key] += std::abs(g.dx.data()[i]);
        });
        bool gamma_constant_on_s = k.plan.params_constant_per_stat();
        for (std::size_t o = 0; o < k.plan.num_stats; ++o) {
          INFO("statistic " << o << " sum dx=" << sum_dx[o] << " sum dx*xhat=" << sum_dx_xhat[o] << " scale=" << scale[o]);
          CHECK(std::abs(sum_dx[o]) <= 1e-12 * scale[o]);
          if (eps == 0.0 && gamma_constant_on_s) CHECK(std::abs(sum_dx_xhat[o]) <= 1e-12 * scale[o]);
        }
      }
}

TEST_CASE("running statistics follow PyTorch: momentum and the unbiased batch variance") {
  for (const std::string method : {"1", "2", "3"}) {
    Dims dims{3, 4, 2, 5};
    Case k = make_case(method, "natural", dims, 51);
    Statistics batch = batch_statistics(k.plan, to_array<float>(k.x, dims.to_vector()));
    Statistics running{normals(k.plan.num_stats, 9), testing::uniforms(k.plan.num_stats, 10, 0.5, 2.0)};
    Statistics updated = update_running(k.plan, running, batch, 0.25);
    ref::Stats rs = ref::batch_stats(k.spec, k.rd, k.x);
    double m = double(k.plan.elements_per_stat);
    for (std::size_t o = 0; o < k.plan.num_stats; ++o) {
      CHECK(updated.mean[o] == Approx(0.75 * running.mean[o] + 0.25 * rs.mean[o]).epsilon(1e-12));
      CHECK(updated.var[o] == Approx(0.75 * running.var[o] + 0.25 * rs.var[o] * m / (m - 1)).epsilon(1e-12));
    }
  }
}

TEST_CASE("data with a large common offset (mean 1e4, std 1) normalizes exactly") {
  Dims dims{8, 5, 7, 9};
  for (const auto& method : kMethods) {
    if (method == "gn:2") continue;  // C = 5
    Case k = make_case(method, "none", dims, 61, 1e4);
    for (auto& v : k.x) v = double(float(1e4 + (v - 1e4) / 2.0));  // std 1 around 1e4, float-representable
    Statistics batch;
    Array<float> y = forward_train(k.plan, to_array<float>(k.x, dims.to_vector()), Params<float>{}, 1e-5, &batch);
    std::vector<double> ry = ref::forward_train(k.spec, k.rd, k.x, {}, {}, 1e-5);
    double err = testing::max_abs_diff(y.data(), ry);
    INFO("method " << method << " max_abs_err=" << err);
    // float output of values of order 1: half an ulp is 6e-8; allow a few.
    CHECK(err < 5e-7);
  }
}

TEST_CASE("train mode with one value per statistic is refused, as PyTorch does") {
  Case k = make_case("2", "natural", Dims{1, 3, 4, 4}, 1);
  REQUIRE_THROWS_WITH(forward_train(k.plan, to_array<float>(k.x, {1, 3, 4, 4}), params_of<float>(k), 1e-5, nullptr),
                      Catch::Contains("more than one value per statistic") && Catch::Contains("(1, 3, 4, 4)"));
  Case k3 = make_case("3", "natural", Dims{1, 3, 1, 1}, 1);
  REQUIRE_THROWS(forward_train(k3.plan, to_array<float>(k3.x, {1, 3, 1, 1}), params_of<float>(k3), 1e-5, nullptr));
}

TEST_CASE("wrong shapes of input, gamma and running statistics name what is wrong") {
  Case k = make_case("3", "natural", Dims{2, 4, 3, 3}, 1);
  Params<float> p = params_of<float>(k);
  p.gamma = to_array<float>({1, 1, 1}, {3});
  REQUIRE_THROWS_WITH(forward_train(k.plan, to_array<float>(k.x, {2, 4, 3, 3}), p, 1e-5, nullptr),
                      Catch::Contains("gamma") && Catch::Contains("expected shape (4,)") && Catch::Contains("got (3,)"));
  REQUIRE_THROWS_WITH(forward_train(k.plan, to_array<float>(std::vector<double>(72, 0.0), {2, 4, 9, 1}), params_of<float>(k), 1e-5, nullptr),
                      Catch::Contains("input") && Catch::Contains("(2, 4, 3, 3)"));
  Statistics short_stats{{0, 0}, {1, 1}};
  REQUIRE_THROWS_WITH(forward_eval(k.plan, to_array<float>(k.x, {2, 4, 3, 3}), params_of<float>(k), short_stats, 1e-5),
                      Catch::Contains("running statistics") && Catch::Contains("(4,)"));
}

TEST_CASE("results are bit-identical whatever the thread count") {
  Dims dims{16, 8, 33, 37};  // several chunks per run and several blocks per group
  for (const auto& method : kMethods) {
    Case k = make_case(method, "natural", dims, 71);
    Array<float> x = to_array<float>(k.x, dims.to_vector());
    Array<float> dy = to_array<float>(k.dy, dims.to_vector());
    auto run = [&](int threads) {
      omp_set_num_threads(threads);
      Statistics batch;
      Array<float> y = forward_train(k.plan, x, params_of<float>(k), 1e-5, &batch);
      Gradients<float> g = backward(k.plan, Mode::train, x, dy, params_of<float>(k), batch, 1e-5);
      return std::make_tuple(y, g.dx, g.dgamma, batch.mean, batch.var);
    };
    auto one = run(1);
    auto three = run(3);
    omp_set_num_threads(omp_get_num_procs());
    INFO("method " << method);
    CHECK(same_bytes(std::get<0>(one), std::get<0>(three)));
    CHECK(same_bytes(std::get<1>(one), std::get<1>(three)));
    CHECK(same_bytes(std::get<2>(one), std::get<2>(three)));
    CHECK(std::get<3>(one) == std::get<3>(three));
    CHECK(std::get<4>(one) == std::get<4>(three));
  }
}
