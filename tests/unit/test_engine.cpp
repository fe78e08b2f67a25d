// The engine against the plain float64 reference engine (engine/reference.hpp):
// every method x train/eval x affine mode; the reference's own gradients
// against finite differences, and the order of its statistics and parameters
// against the method table's shapes (README); the backward identities, running
// statistics, awkward shapes.
#include <catch2/catch.hpp>

#include <omp.h>

#include <cstring>
#include <functional>

#include "bnlab/core/error.hpp"
#include "bnlab/engine/detail/fuse_threshold.hpp"
#include "bnlab/engine/detail/reduce.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/engine/reference.hpp"
#include "support/test_support.hpp"

using namespace bnlab;
using testing::normals;
using testing::to_array;

namespace {

const std::vector<std::string> kMethods = {"1", "2", "3", "ln", "in", "gn:2"};
const std::vector<std::string> kAffines = {"natural", "channel", "none"};
// Awkward shapes: odd sizes, C not a multiple of 4, N = 1 (for batch-free methods), H = W = 1.
const std::vector<Dims> kShapes = {{3, 6, 5, 7}, {2, 2, 1, 1}, {5, 10, 3, 2}, {4, 6, 9, 1}};

struct Case {
  MethodPlan plan;
  std::vector<double> x, gamma, beta, dy;  // float-representable values
  Array<double> x64() const { return to_array<double>(x, plan.dims.to_vector()); }    // (N, C, H, W)
  Array<double> dy64() const { return to_array<double>(dy, plan.dims.to_vector()); }  // (N, C, H, W)
};

Case make_case(const std::string& method, const std::string& affine, const Dims& dims, std::uint64_t seed,
               double offset = 0.0) {
  Case k{make_plan(parse_method(method, "test"), parse_affine_mode(affine, "test"), dims), {}, {}, {}, {}};
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

// Central finite difference of L = sum(y * dy) with respect to x[i], y from the
// reference forward in train mode (batch statistics) or with `fixed` statistics (eval).
double fd_dx(const Case& k, Mode mode, const Statistics& fixed, double eps, std::size_t i, double step = 1e-5) {
  const Params<double> params = params_of<double>(k);
  auto loss = [&](const std::vector<double>& xv) {
    Array<double> x = to_array<double>(xv, k.plan.dims.to_vector());
    Array<double> y = mode == Mode::train ? reference::forward_train(k.plan, x, params, eps, nullptr)
                                          : reference::normalize(k.plan, x, fixed, params, eps);
    double l = 0;
    for (std::size_t j = 0; j < k.dy.size(); ++j) l += y.data()[j] * k.dy[j];
    return l;
  };
  std::vector<double> x = k.x;
  x[i] = k.x[i] + step;
  const double up = loss(x);
  x[i] = k.x[i] - step;
  const double down = loss(x);
  return (up - down) / (2 * step);
}

}  // namespace

TEST_CASE("the method table gives the README's statistic and parameter shapes") {
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

TEST_CASE("both engines order statistics and parameters as the README's shapes say") {
  // x = the row-major index of the element's statistic in the README's statistic
  // shape, so that mean[k] = k exactly when statistic k is where the shape says.
  const Dims d{2, 6, 3, 4};
  struct Expect {
    std::string method;
    std::function<double(std::size_t, std::size_t, std::size_t, std::size_t)> stat;  // (n, c, h, w) -> index
    std::function<double(std::size_t, std::size_t, std::size_t)> param;  // (c, h, w) -> natural parameter index
  };
  const std::vector<Expect> expects = {
      {"1", [&](auto, auto, auto h, auto w) { return double(h * d.w + w); },
       [&](auto, auto h, auto w) { return double(h * d.w + w); }},
      {"2", [&](auto, auto c, auto h, auto w) { return double((c * d.h + h) * d.w + w); },
       [&](auto c, auto h, auto w) { return double((c * d.h + h) * d.w + w); }},
      {"3", [&](auto, auto c, auto, auto) { return double(c); }, [&](auto c, auto, auto) { return double(c); }},
      {"ln", [&](auto n, auto, auto, auto) { return double(n); },
       [&](auto c, auto h, auto w) { return double((c * d.h + h) * d.w + w); }},
      {"in", [&](auto n, auto c, auto, auto) { return double(n * d.c + c); },
       [&](auto c, auto, auto) { return double(c); }},
      {"gn:3", [&](auto n, auto c, auto, auto) { return double(n * 3 + c / 2); },
       [&](auto c, auto, auto) { return double(c); }},
  };
  for (const Expect& e : expects) {
    INFO("method " << e.method);
    MethodPlan plan = make_plan(parse_method(e.method, "test"), AffineMode::natural, d);
    std::vector<double> x(d.count()), expected_y(d.count());
    std::size_t i = 0;
    for (std::size_t n = 0; n < d.n; ++n)
      for (std::size_t c = 0; c < d.c; ++c)
        for (std::size_t h = 0; h < d.h; ++h)
          for (std::size_t w = 0; w < d.w; ++w, ++i) {
            x[i] = e.stat(n, c, h, w) + ((n + c + h + w) % 2 ? 0.5 : -0.5);  // balanced around it: the mean is the index
            expected_y[i] = e.param(c, h, w);                  // gamma = 0, beta[p] = p: y is the parameter index
          }
    std::vector<double> index(plan.num_stats);
    for (std::size_t k = 0; k < index.size(); ++k) index[k] = double(k);
    std::vector<double> param_index(plan.num_params);
    for (std::size_t p = 0; p < param_index.size(); ++p) param_index[p] = double(p);
    Params<double> params{to_array<double>(std::vector<double>(plan.num_params, 0.0), plan.param_shape),
                          to_array<double>(param_index, plan.param_shape)};
    Statistics fast, ref;
    Array<double> y_fast = forward_train(plan, to_array<double>(x, d.to_vector()), params, 1e-5, &fast);
    Array<double> y_ref = reference::forward_train(plan, to_array<double>(x, d.to_vector()), params, 1e-5, &ref);
    CHECK(testing::max_abs_diff(fast.mean, index) < 1e-12);
    CHECK(testing::max_abs_diff(ref.mean, index) < 1e-12);
    CHECK(testing::max_abs_diff(y_fast.data(), expected_y) == 0.0);
    CHECK(testing::max_abs_diff(y_ref.data(), expected_y) == 0.0);
  }
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
        Statistics rs;
        Array<double> ry = reference::forward_train(k.plan, k.x64(), params_of<double>(k), 1e-5, &rs);
        double err = testing::rel_l2(y.data(), testing::to_doubles(ry));
        INFO("y rel_l2=" << err);
        CHECK(err < 1e-6);
        CHECK(testing::rel_l2(batch.mean, rs.mean) < 1e-12);
        CHECK(testing::rel_l2(batch.var, rs.var) < 1e-12);
      }
}

TEST_CASE("into a caller's buffer, in place: the Array versions' bits, and the float64 reference") {
  for (const Dims& dims : kShapes)
    for (const auto& method : kMethods)
      for (const auto& affine : kAffines) {
        if (method == "gn:2" && dims.c % 2) continue;
        Case k = make_case(method, affine, dims, 13);
        if (k.plan.elements_per_stat < 2) continue;
        INFO("method " << method << " affine " << affine << " shape " << shape_to_string(dims.to_vector()));
        const Array<float> x = to_array<float>(k.x, dims.to_vector());    // (N, C, H, W)
        const Array<float> dy = to_array<float>(k.dy, dims.to_vector());  // (N, C, H, W)
        const Params<float> params = params_of<float>(k);
        Statistics batch;
        const Array<float> y = forward_train(k.plan, x, params, 1e-5, &batch);  // (N, C, H, W)
        Array<float> xy = x;  // (N, C, H, W): x, then y in place
        const Statistics batch_in_place = forward_train_into(k.plan, xy.data(), params, 1e-5, xy.data());
        CHECK(same_bytes(xy, y));
        CHECK(batch_in_place.mean == batch.mean);
        CHECK(batch_in_place.var == batch.var);
        const Array<double> ry = reference::forward_train(k.plan, k.x64(), params_of<double>(k), 1e-5, nullptr);
        CHECK(testing::rel_l2(xy.data(), testing::to_doubles(ry)) < 1e-6);

        xy = x;
        normalize_into(k.plan, xy.data(), batch, params, 1e-5, xy.data());
        CHECK(same_bytes(xy, normalize(k.plan, x, batch, params, 1e-5)));
        CHECK(same_bytes(xy, y));  // train mode is normalize with the batch statistics

        const Gradients<float> g = backward(k.plan, Mode::train, x, dy, params, batch, 1e-5);
        Array<float> dydx = dy;  // (N, C, H, W): dy, then dx in place
        const Gradients<float> gi = backward_into(k.plan, Mode::train, x.data(), dydx.data(), params, batch, 1e-5,
                                                  dydx.data());
        CHECK(same_bytes(dydx, g.dx));
        CHECK(shape_of(gi.dx).empty());
        if (affine != "none") {
          CHECK(same_bytes(gi.dgamma, g.dgamma));
          CHECK(same_bytes(gi.dbeta, g.dbeta));
        }
        const Gradients<double> r = reference::backward(k.plan, Mode::train, k.x64(), k.dy64(), params_of<double>(k),
                                                        reference::batch_statistics(k.plan, k.x64()), 1e-5);
        CHECK(testing::rel_l2(dydx.data(), testing::to_doubles(r.dx)) < 1e-6);
      }
}

// backward's dx rebuilt element by element from backward_terms (what compare's
// gradients probe does instead of storing dx): the same bits as backward_into,
// whether the engine fuses its sums with the dx pass or not (the fused
// traversals switched on for every size, and left at their default), in
// train and eval mode, for every affine mode.
template <class T>
void check_terms_rebuild_backward(const Case& k, Mode mode, const Statistics& stats) {
  const Dims& dims = k.plan.dims;
  const Array<T> x = to_array<T>(k.x, dims.to_vector());    // (N, C, H, W)
  const Array<T> dy = to_array<T>(k.dy, dims.to_vector());  // (N, C, H, W)
  const Params<T> params = params_of<T>(k);
  const Gradients<T> g = backward(k.plan, mode, x, dy, params, stats, 1e-5);
  const BackwardTerms terms = backward_terms(k.plan, mode, x.data(), dy.data(), params, stats, 1e-5);
  const std::size_t S = dims.s();
  std::size_t differing = 0;
  for (std::size_t i = 0; i < dims.count(); ++i) {
    const std::size_t run = i / S, s = i % S, n = run / dims.c, c = run % dims.c;
    const std::size_t o = k.plan.stat.base(n, c) + s * k.plan.stat.s_stride;
    const double gamma =
        k.gamma.empty() ? 1.0 : double(params.gamma.data()[k.plan.param.base(n, c) + s * k.plan.param.s_stride]);
    const T rebuilt = dx_element<T>(terms, o, stats.mean[o], gamma, x.data()[i], dy.data()[i]);
    if (std::memcmp(&rebuilt, &g.dx.data()[i], sizeof(T)) != 0) ++differing;
  }
  CHECK(differing == 0);
  REQUIRE(terms.dgamma_sum.size() == k.plan.num_params);
  if (!k.gamma.empty()) {
    for (std::size_t p = 0; p < k.plan.num_params; ++p) {
      CHECK(T(terms.dgamma_sum[p]) == g.dgamma.data()[p]);
      CHECK(T(terms.dbeta_sum[p]) == g.dbeta.data()[p]);
    }
  }
}

TEST_CASE("backward_terms and dx_element rebuild backward's dx, dgamma, dbeta bit for bit") {
  std::vector<Dims> shapes = kShapes;
  shapes.push_back(Dims{4, 16, 8, 8});  // 16 channels: enough groups for the fused traversals
  const bool fuse_everywhere = GENERATE(false, true);
  struct Restore {  // the default size, even when a REQUIRE ends the case
    std::size_t saved = detail::fuse_min_elements();
    ~Restore() { detail::set_fuse_min_elements_for_tests(saved); }
  } restore;
  if (fuse_everywhere) detail::set_fuse_min_elements_for_tests(0);
  for (const Dims& dims : shapes)
    for (const auto& method : kMethods)
      for (const auto& affine : kAffines)
        for (Mode mode : {Mode::train, Mode::eval}) {
          if (method == "gn:2" && dims.c % 2) continue;
          const Case k = make_case(method, affine, dims, 17);
          if (mode == Mode::eval && !k.plan.method.batch_dependent()) continue;
          if (mode == Mode::train && k.plan.elements_per_stat < 2) continue;
          INFO("method " << method << " affine " << affine << " mode " << (mode == Mode::train ? "train" : "eval")
                         << " shape " << shape_to_string(dims.to_vector()));
          const Statistics stats = mode == Mode::train
                                       ? batch_statistics(k.plan, k.x64())
                                       : Statistics{normals(k.plan.num_stats, 7),
                                                    testing::uniforms(k.plan.num_stats, 8, 0.5, 2.0)};
          INFO("fused traversals for every size: " << fuse_everywhere);
          check_terms_rebuild_backward<float>(k, mode, stats);
          check_terms_rebuild_backward<double>(k, mode, stats);
        }
}

TEST_CASE("FixedNormalize: a few samples at a time, the bits of normalize on the whole batch and the float64 reference") {
  for (const Dims& dims : kShapes)
    for (const std::string method : {"1", "2", "3"})
      for (const auto& affine : kAffines) {
        Case k = make_case(method, affine, dims, 17);
        INFO("method " << method << " affine " << affine << " shape " << shape_to_string(dims.to_vector()));
        const Array<float> x = to_array<float>(k.x, dims.to_vector());  // (N, C, H, W)
        const Statistics rs{normals(k.plan.num_stats, 3), testing::uniforms(k.plan.num_stats, 4, 0.2, 3.0)};
        const Array<float> whole = normalize(k.plan, x, rs, params_of<float>(k), 1e-5);  // (N, C, H, W)
        const FixedNormalize<float> fixed(k.plan, rs, params_of<float>(k), 1e-5);
        Array<float> pieces = x;  // (N, C, H, W), normalized in place: sample 0 alone, then the rest at once
        const std::size_t sample = dims.c * dims.s();
        fixed.apply(pieces.data(), 1, pieces.data());
        fixed.apply(pieces.data() + sample, dims.n - 1, pieces.data() + sample);
        CHECK(same_bytes(pieces, whole));
        const Array<double> ry = reference::forward_eval(k.plan, k.x64(), params_of<double>(k), rs, 1e-5);
        CHECK(testing::rel_l2(pieces.data(), testing::to_doubles(ry)) < 1e-6);
      }
  // Per-sample statistics (an N axis) are refused.
  Case ln = make_case("ln", "natural", Dims{2, 4, 3, 3}, 1);
  const Statistics rs{std::vector<double>(ln.plan.num_stats, 0.0), std::vector<double>(ln.plan.num_stats, 1.0)};
  CHECK_THROWS_AS(FixedNormalize<float>(ln.plan, rs, params_of<float>(ln), 1e-5), Error);
}

TEST_CASE("eval-mode forward uses the given running statistics") {
  for (const Dims& dims : kShapes)
    for (const std::string method : {"1", "2", "3"})
      for (const auto& affine : kAffines) {
        Case k = make_case(method, affine, dims, 21);
        INFO("method " << method << " affine " << affine << " shape " << shape_to_string(dims.to_vector()));
        Statistics rs{normals(k.plan.num_stats, 5), testing::uniforms(k.plan.num_stats, 6, 0.2, 3.0)};
        Array<float> y = forward_eval(k.plan, to_array<float>(k.x, dims.to_vector()), params_of<float>(k), rs, 1e-5);
        Array<double> ry = reference::forward_eval(k.plan, k.x64(), params_of<double>(k), rs, 1e-5);
        double err = testing::rel_l2(y.data(), testing::to_doubles(ry));
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
    REQUIRE_THROWS_WITH(reference::forward_eval(k.plan, k.x64(), params_of<double>(k), rs, 1e-5),
                        Catch::Contains("eval mode applies only to methods 1, 2, 3"));
  }
}

TEST_CASE("gradients: the reference against central finite differences, the engine against the reference") {
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
          Statistics fixed{normals(k.plan.num_stats, 7), testing::uniforms(k.plan.num_stats, 8, 0.5, 2.0)};
          Statistics used = mode == Mode::train ? reference::batch_statistics(k.plan, k.x64()) : fixed;
          Gradients<double> r = reference::backward(k.plan, mode, k.x64(), k.dy64(), params_of<double>(k), used, eps);
          std::vector<double> fd(dims.count());
          for (std::size_t i = 0; i < fd.size(); ++i) fd[i] = fd_dx(k, mode, fixed, eps, i);
          double err_ref = testing::rel_l2(r.dx.data(), fd);
          INFO("reference dx vs finite differences: rel_l2=" << err_ref);
          CHECK(err_ref < 1e-7);
          // The engine in double agrees with the reference to rounding.
          Gradients<double> g = backward(k.plan, mode, k.x64(), k.dy64(), params_of<double>(k), used, eps);
          double err_dx = testing::rel_l2(g.dx.data(), testing::to_doubles(r.dx));
          INFO("engine dx vs reference: rel_l2=" << err_dx);
          CHECK(err_dx < 1e-12);
          if (affine != "none") {
            // L = sum(y * dy) is linear in gamma and beta: the reference's sums are exact derivatives.
            CHECK(testing::rel_l2(g.dgamma.data(), testing::to_doubles(r.dgamma)) < 1e-12);
            CHECK(testing::rel_l2(g.dbeta.data(), testing::to_doubles(r.dbeta)) < 1e-12);
          } else {
            CHECK(shape_of(r.dgamma).empty());  // no parameters: default (0-d) arrays, as the engine returns
            CHECK(shape_of(g.dgamma).empty());
          }
          // The float engine agrees with the double one.
          Gradients<float> gf = backward(k.plan, mode, to_array<float>(k.x, dims.to_vector()),
                                         to_array<float>(k.dy, dims.to_vector()), params_of<float>(k), used, eps);
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
        const MethodPlan bare = make_plan(k.plan.method, AffineMode::none, dims);
        Array<double> xhat = reference::normalize(bare, x, stats, Params<double>{}, eps);  // (N, C, H, W)
        const IndexMap& stat = k.plan.stat;
        for (std::size_t run = 0, i = 0; run < dims.n * dims.c; ++run)
          for (std::size_t s = 0; s < dims.s(); ++s, ++i) {
            std::size_t key = stat.base(run / dims.c, run % dims.c) + s * stat.s_stride;
            sum_dx[key] += g.dx.data()[i];
            sum_dx_xhat[key] += g.dx.data()[i] * xhat.data()[i];
            scale[key] += std::abs(g.dx.data()[i]);
          }
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
    Statistics rs = reference::batch_statistics(k.plan, k.x64());
    Statistics ref_updated = reference::update_running(k.plan, running, rs, 0.25);
    double m = double(k.plan.elements_per_stat);
    for (std::size_t o = 0; o < k.plan.num_stats; ++o) {
      CHECK(updated.mean[o] == Approx(0.75 * running.mean[o] + 0.25 * rs.mean[o]).epsilon(1e-12));
      CHECK(updated.var[o] == Approx(0.75 * running.var[o] + 0.25 * rs.var[o] * m / (m - 1)).epsilon(1e-12));
      CHECK(ref_updated.mean[o] == Approx(updated.mean[o]).epsilon(1e-12));
      CHECK(ref_updated.var[o] == Approx(updated.var[o]).epsilon(1e-12));
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
    Array<double> ry = reference::forward_train(k.plan, k.x64(), Params<double>{}, 1e-5, nullptr);
    double err = testing::max_abs_diff(y.data(), testing::to_doubles(ry));
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
  REQUIRE_THROWS_WITH(reference::forward_train(k.plan, k.x64(), params_of<double>(k), 1e-5, nullptr),
                      Catch::Contains("more than one value per statistic"));
}

TEST_CASE("wrong shapes of input, gamma and running statistics name what is wrong") {
  Case k = make_case("3", "natural", Dims{2, 4, 3, 3}, 1);
  Params<float> p = params_of<float>(k);
  p.gamma = to_array<float>({1, 1, 1}, {3});
  REQUIRE_THROWS_WITH(forward_train(k.plan, to_array<float>(k.x, {2, 4, 3, 3}), p, 1e-5, nullptr),
                      Catch::Contains("gamma") && Catch::Contains("expected shape (4,)") && Catch::Contains("got (3,)"));
  Params<double> p64 = params_of<double>(k);
  p64.gamma = to_array<double>({1, 1, 1}, {3});
  REQUIRE_THROWS_WITH(reference::forward_train(k.plan, k.x64(), p64, 1e-5, nullptr),
                      "gamma: expected shape (4,), got (3,)");  // the reference makes the same checks
  REQUIRE_THROWS_WITH(forward_train(k.plan, to_array<float>(std::vector<double>(72, 0.0), {2, 4, 9, 1}), params_of<float>(k), 1e-5, nullptr),
                      Catch::Contains("input") && Catch::Contains("(2, 4, 3, 3)"));
  Statistics short_stats{{0, 0}, {1, 1}};
  REQUIRE_THROWS_WITH(forward_eval(k.plan, to_array<float>(k.x, {2, 4, 3, 3}), params_of<float>(k), short_stats, 1e-5),
                      Catch::Contains("running statistics") && Catch::Contains("(4,)"));
  REQUIRE_THROWS_WITH(reference::forward_eval(k.plan, k.x64(), params_of<double>(k), short_stats, 1e-5),
                      Catch::Contains("running statistics") && Catch::Contains("(4,)"));
  REQUIRE_THROWS_WITH(reference::backward(k.plan, Mode::train, k.x64(), to_array<double>(k.dy, {2, 4, 9, 1}),
                                          params_of<double>(k), reference::batch_statistics(k.plan, k.x64()), 1e-5),
                      "dy: expected shape (2, 4, 3, 3), got (2, 4, 9, 1)");
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
