// The engine's kernels on shapes large enough to use every work partition
// (chunks, tiles, row ranges, bundles of rows) and the fused passes: against
// the float64 reference engine, across thread counts, fused against separate.
#include <catch2/catch.hpp>

#include <omp.h>

#include <cstring>

#include "bnlab/engine/detail/fuse_threshold.hpp"
#include "bnlab/engine/detail/reduce.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/engine/reference.hpp"
#include "support/test_support.hpp"

using namespace bnlab;

namespace {

bool same_bytes(const Array<float>& a, const Array<float>& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

// Shapes that use every partition: (134, 2, 42, 50) has S = 2100 (three
// reduction chunks, two tiles of s) and 134 rows per group for Method 2 (268
// for Method 1), cut into row ranges of 8 and 9 rows (a bundle of kRows = 8,
// then a single row); (8, 64, 30, 40) is small enough per
// statistic for the fused passes (statistics and normalization, or sums and
// dx, of a group in one read) for methods 2, 3, in and gn, which the tests
// enable on small tensors (FusedEverywhere).
const std::vector<Dims> kPartitionShapes = {{134, 2, 42, 50}, {8, 64, 30, 40}};

// Lowers the tensor size from which the fused traversals apply to 0, for a scope.
struct FusedEverywhere {
  std::size_t saved = detail::set_fuse_min_elements_for_tests(0);
  ~FusedEverywhere() { detail::set_fuse_min_elements_for_tests(saved); }
};

TEST_CASE("kernels: every chunk, tile, row range and bundle of rows matches the float64 reference") {
  const double eps = 1e-5;
  FusedEverywhere fused;
  for (const Dims& dims : kPartitionShapes)
  for (const std::string method : {"1", "2", "3", "ln", "in", "gn:2"})
    for (const std::string affine : {"natural", "channel"}) {
      INFO("shape " << shape_to_string(dims.to_vector()) << " method " << method << " affine " << affine);
      MethodPlan plan = make_plan(parse_method(method, "test"), parse_affine_mode(affine, "test"), dims);
      std::vector<double> x = testing::rounded_to_float(testing::normals(dims.count(), 81, 3.0, 2.0));
      std::vector<double> dy = testing::rounded_to_float(testing::normals(dims.count(), 82));
      std::vector<double> gamma = testing::rounded_to_float(testing::uniforms(plan.num_params, 83, 0.5, 1.5));
      std::vector<double> beta = testing::rounded_to_float(testing::normals(plan.num_params, 84));
      Params<float> params{testing::to_array<float>(gamma, plan.param_shape),
                           testing::to_array<float>(beta, plan.param_shape)};
      Array<float> xf = testing::to_array<float>(x, dims.to_vector());
      Statistics batch;
      Array<float> y = forward_train(plan, xf, params, eps, &batch);
      Gradients<float> g = backward(plan, Mode::train, xf, testing::to_array<float>(dy, dims.to_vector()), params,
                                    batch, eps);
      const Params<double> params64{testing::to_array<double>(gamma, plan.param_shape),
                                    testing::to_array<double>(beta, plan.param_shape)};
      const Array<double> x64 = testing::to_array<double>(x, dims.to_vector());
      Statistics rs;
      Array<double> ry = reference::forward_train(plan, x64, params64, eps, &rs);
      Gradients<double> rg = reference::backward(plan, Mode::train, x64, testing::to_array<double>(dy, dims.to_vector()),
                                                 params64, rs, eps);
      using testing::to_doubles;
      double err_mean = testing::rel_l2(batch.mean, rs.mean), err_var = testing::rel_l2(batch.var, rs.var);
      double err_y = testing::rel_l2(y.data(), to_doubles(ry));
      double err_dx = testing::rel_l2(g.dx.data(), to_doubles(rg.dx));
      double err_dgamma = testing::rel_l2(g.dgamma.data(), to_doubles(rg.dgamma));
      double err_dbeta = testing::rel_l2(g.dbeta.data(), to_doubles(rg.dbeta));
      INFO("rel_l2: mean " << err_mean << " var " << err_var << " y " << err_y << " dx " << err_dx << " dgamma "
                           << err_dgamma << " dbeta " << err_dbeta);
      CHECK(err_mean < 1e-12);
      CHECK(err_var < 1e-12);
      CHECK(err_y < 1e-6);
      CHECK(err_dx < 1e-6);
      CHECK(err_dgamma < 1e-6);  // float outputs
      CHECK(err_dbeta < 1e-6);
    }
}

TEST_CASE("kernels: results are bit-identical for 1, 2 and 3 threads on shapes that use every partition") {
  FusedEverywhere fused;
  for (const Dims& dims : kPartitionShapes)
  for (const std::string method : {"1", "2", "3", "ln", "in", "gn:2"}) {
    INFO("shape " << shape_to_string(dims.to_vector()) << " method " << method);
    MethodPlan plan = make_plan(parse_method(method, "test"), AffineMode::natural, dims);
    Array<float> x = testing::to_array<float>(testing::normals(dims.count(), 91, 1e3, 1.0), dims.to_vector());
    Array<float> dy = testing::to_array<float>(testing::normals(dims.count(), 92), dims.to_vector());
    Params<float> params{
        testing::to_array<float>(testing::uniforms(plan.num_params, 93, 0.5, 1.5), plan.param_shape),
        testing::to_array<float>(testing::normals(plan.num_params, 94), plan.param_shape)};
    auto run_with = [&](int threads) {
      omp_set_num_threads(threads);
      Statistics batch;
      Array<float> y = forward_train(plan, x, params, 1e-5, &batch);
      Gradients<float> g = backward(plan, Mode::train, x, dy, params, batch, 1e-5);
      return std::make_tuple(y, g.dx, g.dgamma, g.dbeta, batch.mean, batch.var);
    };
    auto one = run_with(1), two = run_with(2), three = run_with(3);
    omp_set_num_threads(omp_get_num_procs());
    for (const auto* other : {&two, &three}) {
      CHECK(same_bytes(std::get<0>(one), std::get<0>(*other)));
      CHECK(same_bytes(std::get<1>(one), std::get<1>(*other)));
      CHECK(same_bytes(std::get<2>(one), std::get<2>(*other)));
      CHECK(same_bytes(std::get<3>(one), std::get<3>(*other)));
      CHECK(std::get<4>(one) == std::get<4>(*other));
      CHECK(std::get<5>(one) == std::get<5>(*other));
    }
  }
}

TEST_CASE("kernels: the fused forward gives the same bits as statistics, then normalize") {
  FusedEverywhere fused;
  for (const Dims& dims : kPartitionShapes)
    for (const std::string method : {"1", "2", "3", "ln", "in", "gn:2"})
      for (const std::string affine : {"natural", "channel", "none"}) {
        INFO("shape " << shape_to_string(dims.to_vector()) << " method " << method << " affine " << affine);
        MethodPlan plan = make_plan(parse_method(method, "test"), parse_affine_mode(affine, "test"), dims);
        Array<float> x = testing::to_array<float>(testing::normals(dims.count(), 95, 10.0, 3.0), dims.to_vector());
        Params<float> params;
        if (plan.has_affine()) {
          params.gamma = testing::to_array<float>(testing::uniforms(plan.num_params, 96, 0.5, 1.5), plan.param_shape);
          params.beta = testing::to_array<float>(testing::normals(plan.num_params, 97), plan.param_shape);
        }
        Statistics fused_stats;
        Array<float> fused = forward_train(plan, x, params, 1e-5, &fused_stats);
        Statistics stats = batch_statistics(plan, x);
        Array<float> apart = normalize(plan, x, stats, params, 1e-5);
        CHECK(fused_stats.mean == stats.mean);
        CHECK(fused_stats.var == stats.var);
        CHECK(same_bytes(fused, apart));
      }
}

TEST_CASE("kernels: in place (y into x, dx into dy), fused or not, gives the bits of separate buffers") {
  for (bool fuse_everywhere : {false, true}) {
    FusedEverywhere fused;
    if (!fuse_everywhere) detail::set_fuse_min_elements_for_tests(fused.saved);
    for (const Dims& dims : kPartitionShapes)
      for (const std::string method : {"1", "2", "3", "ln", "in", "gn:2"})
        for (const std::string affine : {"natural", "none"}) {
          INFO("shape " << shape_to_string(dims.to_vector()) << " method " << method << " affine " << affine
                        << " fused everywhere " << fuse_everywhere);
          MethodPlan plan = make_plan(parse_method(method, "test"), parse_affine_mode(affine, "test"), dims);
          const Array<float> x =
              testing::to_array<float>(testing::normals(dims.count(), 98, 10.0, 3.0), dims.to_vector());
          const Array<float> dy = testing::to_array<float>(testing::normals(dims.count(), 99), dims.to_vector());
          Params<float> params;
          if (plan.has_affine()) {
            params.gamma = testing::to_array<float>(testing::uniforms(plan.num_params, 96, 0.5, 1.5), plan.param_shape);
            params.beta = testing::to_array<float>(testing::normals(plan.num_params, 97), plan.param_shape);
          }
          Statistics stats;
          const Array<float> y = forward_train(plan, x, params, 1e-5, &stats);  // (N, C, H, W)
          Array<float> xy = x;  // (N, C, H, W)
          const Statistics in_place = forward_train_into(plan, xy.data(), params, 1e-5, xy.data());
          CHECK(same_bytes(xy, y));
          CHECK(in_place.mean == stats.mean);
          CHECK(in_place.var == stats.var);
          const Gradients<float> g = backward(plan, Mode::train, x, dy, params, stats, 1e-5);
          Array<float> dydx = dy;  // (N, C, H, W)
          backward_into(plan, Mode::train, x.data(), dydx.data(), params, stats, 1e-5, dydx.data());
          CHECK(same_bytes(dydx, g.dx));
        }
  }
}

TEST_CASE("kernels: the fused passes give the same bits as the separate ones") {
  for (const Dims& dims : kPartitionShapes)
    for (const std::string method : {"1", "2", "3", "ln", "in", "gn:2"})
      for (const std::string affine : {"natural", "channel", "none"}) {
        INFO("shape " << shape_to_string(dims.to_vector()) << " method " << method << " affine " << affine);
        MethodPlan plan = make_plan(parse_method(method, "test"), parse_affine_mode(affine, "test"), dims);
        Array<float> x = testing::to_array<float>(testing::normals(dims.count(), 98, -5.0, 2.0), dims.to_vector());
        Array<float> dy = testing::to_array<float>(testing::normals(dims.count(), 99), dims.to_vector());
        Params<float> params;
        if (plan.has_affine()) {
          params.gamma = testing::to_array<float>(testing::uniforms(plan.num_params, 100, 0.5, 1.5), plan.param_shape);
          params.beta = testing::to_array<float>(testing::normals(plan.num_params, 101), plan.param_shape);
        }
        auto run_all = [&] {
          Statistics batch;
          Array<float> y = forward_train(plan, x, params, 1e-5, &batch);
          Gradients<float> g = backward(plan, Mode::train, x, dy, params, batch, 1e-5);
          return std::make_tuple(y, g.dx, g.dgamma, g.dbeta, batch.mean, batch.var);
        };
        auto apart = run_all();
        FusedEverywhere fused;
        auto together = run_all();
        CHECK(same_bytes(std::get<0>(apart), std::get<0>(together)));
        CHECK(same_bytes(std::get<1>(apart), std::get<1>(together)));
        if (plan.has_affine()) {
          CHECK(same_bytes(std::get<2>(apart), std::get<2>(together)));
          CHECK(same_bytes(std::get<3>(apart), std::get<3>(together)));
        }
        CHECK(std::get<4>(apart) == std::get<4>(together));
        CHECK(std::get<5>(apart) == std::get<5>(together));
      }
}

TEST_CASE("group_runs gives the grouping of its own shape and maps, whatever it was asked before (its cache)") {
  // The grouping by definition: runs ordered by their tuple of bases (the
  // maps' bases in order), ascending within equal tuples; a group per tuple.
  auto expected = [](const Dims& d, const std::vector<const IndexMap*>& maps) {
    std::vector<std::pair<std::vector<std::size_t>, std::size_t>> keyed;  // (N*C) (bases, run)
    for (std::size_t r = 0; r < d.n * d.c; ++r) {
      std::vector<std::size_t> bases;
      for (const IndexMap* m : maps) bases.push_back(m->base(r / d.c, r % d.c));
      keyed.emplace_back(bases, r);
    }
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<std::size_t> base, offset, run;
    for (std::size_t i = 0; i < keyed.size(); ++i) {
      if (i == 0 || keyed[i].first != keyed[i - 1].first) {
        base.push_back(keyed[i].first[0]);
        offset.push_back(i);
      }
      run.push_back(keyed[i].second);
    }
    offset.push_back(keyed.size());
    return std::tuple{base, offset, run};
  };
  const std::vector<Dims> shapes{{4, 6, 3, 5}, {6, 4, 3, 5}, {4, 6, 5, 3}, {2, 8, 2, 2}};
  const std::vector<std::string> methods{"1", "2", "3", "ln", "in", "gn:2"};
  // Every (shape, method, maps) twice, interleaved, so that most answers
  // come from the cache and some after their entry was pushed out.
  for (int round = 0; round < 2; ++round)
    for (const Dims& d : shapes)
      for (const std::string& id : methods) {
        const MethodPlan plan = make_plan(parse_method(id, "test"), AffineMode::natural, d);
        for (const std::vector<const IndexMap*>& maps :
             {std::vector<const IndexMap*>{&plan.stat}, std::vector<const IndexMap*>{&plan.stat, &plan.param}}) {
          INFO("round " << round << ", shape " << d.n << "x" << d.c << "x" << d.h << "x" << d.w << ", method " << id
                        << ", maps " << maps.size());
          const detail::RunGroups groups = detail::group_runs(d, maps);
          const auto [base, offset, run] = expected(d, maps);
          CHECK(groups.base == base);
          CHECK(groups.offset == offset);
          CHECK(groups.run == run);
        }
      }
}
