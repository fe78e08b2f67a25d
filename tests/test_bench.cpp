// bnlab bench: the report's structure on a tiny shape, the traffic accounting
// arithmetic, the table plan, the CLI. No timing is asserted (shared, noisy
// machines): only that times are measured and the figures derive from them.
// Also the kernels' work partition (chunks, tiles, row ranges, bundles of
// rows), on shapes large enough to use every one of them, against the float64
// reference and across thread counts.
#include <catch2/catch.hpp>

#include <omp.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "bnlab/bench/bench.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/core/error.hpp"
#include "bnlab/engine/detail/reduce.hpp"
#include "reference.hpp"
#include "test_helpers.hpp"

using namespace bnlab;

namespace {

struct Run {
  int code;
  std::string out;
};

// Runs a shell command, returns its exit code and stdout.
Run run(const std::string& command) {
  Run r{0, ""};
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  std::size_t got;
  while ((got = fread(buffer, 1, sizeof buffer, pipe)) > 0) r.out.append(buffer, got);
  int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A result with round numbers: 1e6 elements, copy 10 GB/s.
BenchResult made_up_result() {
  BenchResult r;
  r.dims = Dims{1, 1, 1000, 1000};
  r.threads = 2;
  r.repeat = 3;
  r.copy_gbps = 10;
  r.memcpy_gbps = 20;
  r.peak_rss_mb = 12.4;
  MethodResult m3;
  m3.id = "3";
  m3.title = "Method 3";
  m3[BenchKind::forward] = {true, 1.0, 0, 0};
  m3[BenchKind::forward_backward] = {true, 4.0, 0, 0};
  m3[BenchKind::eval_forward] = {true, 0.5, 0, 0};
  MethodResult ln;
  ln.id = "ln";
  ln.title = "LayerNorm";
  ln[BenchKind::forward] = {true, 2.0, 0, 0};
  ln[BenchKind::forward_backward] = {true, 8.0, 0, 0};
  r.methods = {m3, ln};
  account_traffic(r);
  return r;
}

}  // namespace

TEST_CASE("traffic is counted as the minimum bytes a pass must move") {
  CHECK(traffic_bytes_per_element(BenchKind::forward) == 8);            // read x, write y
  CHECK(traffic_bytes_per_element(BenchKind::forward_backward) == 20);  // + read x, read dy, write dx
  CHECK(traffic_bytes_per_element(BenchKind::eval_forward) == 8);
  // 1e6 elements in 1 ms: 8e6 bytes / 1e-3 s = 8 GB/s.
  CHECK(effective_gbps(BenchKind::forward, 1000000, 1.0) == Approx(8.0).epsilon(1e-12));
  CHECK(effective_gbps(BenchKind::forward_backward, 1000000, 4.0) == Approx(5.0).epsilon(1e-12));

  BenchResult r = made_up_result();
  const MethodResult& m3 = r.methods[0];
  CHECK(m3[BenchKind::forward].gbps == Approx(8.0));
  CHECK(m3[BenchKind::forward].fraction == Approx(0.8));
  CHECK(m3[BenchKind::forward_backward].gbps == Approx(5.0));
  CHECK(m3[BenchKind::forward_backward].fraction == Approx(0.5));
  CHECK(m3[BenchKind::eval_forward].fraction == Approx(1.6));
  CHECK_FALSE(r.methods[1][BenchKind::eval_forward].measured);
  CHECK(r.methods[1][BenchKind::eval_forward].gbps == 0);
}

TEST_CASE("the median of a sample") {
  CHECK(median({3, 1, 2}) == 2);
  CHECK(median({4, 1, 3, 2}) == 2.5);
  CHECK(median({7}) == 7);
  CHECK_THROWS_AS(median({}), Error);
}

TEST_CASE("the table aligns its columns and shows every kind, '-' where eval mode does not apply") {
  std::string table = bench_to_table(made_up_result());
  INFO(table);
  std::vector<std::string> lines = lines_of(table);
  REQUIRE(lines.size() == 3 + 1 + 6);
  CHECK(lines[0] == "shape (1, 1, 1000, 1000) float32 (4.0 MB), 2 threads, median of 3");
  CHECK(lines[1] == "copy bandwidth 10.00 GB/s (loop; memcpy 20.00 GB/s), peak RSS 12 MB");
  CHECK(lines[2].empty());
  CHECK(lines[3] == "method  kind                ms   GB/s  of copy  ns/element");
  CHECK(lines[4] == "3       forward           1.00   8.00      80%       1.000");
  CHECK(lines[5] == "3       forward_backward  4.00   5.00      50%       4.000");
  CHECK(lines[6] == "3       eval_forward      0.50  16.00     160%       0.500");
  CHECK(lines[9] == "ln      eval_forward         -      -        -           -");
  for (std::size_t i = 3; i < lines.size(); ++i) CHECK(lines[i].size() == lines[3].size());  // right-aligned numbers
}

TEST_CASE("run_bench reports every key of bnlab.bench/1 on a tiny shape") {
  BenchRequest request;
  request.dims = Dims{2, 4, 3, 5};
  request.methods = parse_method_list("1,3,ln,gn:2", "test");
  request.threads = 1;
  request.repeat = 1;
  std::vector<std::string> progress;
  request.progress = [&](const std::string& what) { progress.push_back(what); };
  BenchResult result = run_bench(request);
  nlohmann::json j = nlohmann::json::parse(bench_to_json(result).dump());
  INFO(j.dump(2));
  CHECK(j["schema"] == "bnlab.bench/1");
  CHECK(j["shape"] == nlohmann::json::array({2, 4, 3, 5}));
  CHECK(j["threads"] == 1);
  CHECK(j["repeat"] == 1);
  CHECK(j["elements"] == 120);
  CHECK(j["traffic_bytes_per_element"]["forward_backward"] == 20);
  CHECK(j["copy_gbps"].get<double>() > 0);
  CHECK(j["memcpy_gbps"].get<double>() > 0);
  CHECK(j["peak_rss_mb"].get<double>() > 0);
  CHECK(j["timing"].is_string());
  REQUIRE(j["methods"].size() == 4);
  for (const std::string id : {"1", "3", "ln", "gn:2"}) {
    const auto& m = j["methods"][id];
    INFO("method " << id);
    for (const std::string kind : {"forward", "forward_backward", "eval_forward"}) {
      bool applies = kind != "eval_forward" || id == "1" || id == "3";
      for (const std::string suffix : {"_ms", "_gbps", "_fraction", "_ns_per_element"}) {
        REQUIRE(m.contains(kind + suffix));
        CHECK(m[kind + suffix].is_number() == applies);
        CHECK(m[kind + suffix].is_null() == !applies);
      }
      if (!applies) continue;
      double ms = m[kind + "_ms"], gbps = m[kind + "_gbps"], fraction = m[kind + "_fraction"];
      CHECK(ms > 0);
      CHECK(gbps == Approx(effective_gbps(kind == "forward" ? BenchKind::forward
                                          : kind == "forward_backward" ? BenchKind::forward_backward
                                                                       : BenchKind::eval_forward,
                                          120, ms)));
      CHECK(fraction == Approx(gbps / j["copy_gbps"].get<double>()));
    }
    CHECK(m["forward_cold_ms"].get<double>() > 0);
  }
  CHECK_FALSE(progress.empty());
  CHECK(progress.front() == "copy bandwidth");
}

TEST_CASE("run_bench names the culprit of a bad request before running anything") {
  BenchRequest request;
  request.dims = Dims{2, 3, 4, 4};
  request.repeat = 0;
  CHECK_THROWS_WITH(run_bench(request), Catch::Contains("--repeat") && Catch::Contains("got 0"));
  request.repeat = 1;
  request.threads = -1;
  CHECK_THROWS_WITH(run_bench(request), Catch::Contains("--threads"));
  request.threads = 1;
  request.methods = parse_method_list("gn:2", "test");
  CHECK_THROWS_WITH(run_bench(request), Catch::Contains("C=3") && Catch::Contains("G=2"));
  request.dims = Dims{1, 3, 4, 4};
  request.methods = parse_method_list("2", "test");
  CHECK_THROWS_WITH(run_bench(request), Catch::Contains("method 2") && Catch::Contains("one value per statistic"));
}

TEST_CASE("bnlab bench prints JSON or a table on stdout, and rejects an unknown format", "[cli]") {
  const std::string bin = BNLAB_BINARY;
  Run json = run(bin + " bench --shape 2,3,4,5 --methods 3,in --repeat 1 --threads 1 2>/dev/null");
  REQUIRE(json.code == 0);
  nlohmann::json j = nlohmann::json::parse(json.out);
  CHECK(j["schema"] == "bnlab.bench/1");
  CHECK(j["methods"].contains("in"));

  Run table = run(bin + " bench --shape 2,3,4,5 --methods 1 --repeat 1 --format table 2>/dev/null");
  REQUIRE(table.code == 0);
  CHECK(table.out.rfind("shape (2, 3, 4, 5) float32", 0) == 0);
  CHECK(table.out.find("1       forward_backward") != std::string::npos);

  Run bad = run(bin + " bench --format xml 2>&1");
  CHECK(bad.code == 1);
  CHECK(bad.out == "bnlab: --format: unknown format \"xml\" (valid: json, table)\n");
}

// ---- the kernels' work partition ----------------------------------------------------------

namespace {

// dx from its definition, in double: per statistic,
//   dx = rstd * (g - mean_S(g) - xhat * mean_S(g * xhat)),  g = gamma * dy.
std::vector<double> reference_dx(const ref::Spec& s, const ref::Dims& d, const std::vector<double>& x,
                                 const std::vector<double>& dy, const std::vector<double>& gamma, double eps) {
  ref::Stats st = ref::batch_stats(s, d, x);
  std::size_t k = ref::num_stats(s, d);
  std::vector<double> sum_g(k, 0.0), sum_gx(k, 0.0), count(k, 0.0), dx(d.count());
  auto terms = [&](auto n, auto c, auto h, auto w, auto i, double& g, double& xhat, std::size_t& key) {
    key = ref::stat_key(s, d, n, c, h, w);
    xhat = (x[i] - st.mean[key]) / std::sqrt(st.var[key] + eps);
    g = (gamma.empty() ? 1.0 : gamma[ref::param_key(s, d, c, h, w)]) * dy[i];
  };
  ref::for_each(d, [&](auto n, auto c, auto h, auto w, auto i) {
    double g, xhat;
    std::size_t key;
    terms(n, c, h, w, i, g, xhat, key);
    sum_g[key] += g;
    sum_gx[key] += g * xhat;
    count[key] += 1;
  });
  ref::for_each(d, [&](auto n, auto c, auto h, auto w, auto i) {
    double g, xhat;
    std::size_t key;
    terms(n, c, h, w, i, g, xhat, key);
    dx[i] = (g - sum_g[key] / count[key] - xhat * sum_gx[key] / count[key]) / std::sqrt(st.var[key] + eps);
  });
  return dx;
}

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

// Lowers the tensor size from which the fused traversals apply, for a scope.
struct FusedEverywhere {
  std::size_t saved = detail::fuse_min_elements();
  FusedEverywhere() { detail::fuse_min_elements() = 0; }
  ~FusedEverywhere() { detail::fuse_min_elements() = saved; }
};

TEST_CASE("kernels: every chunk, tile, row range and bundle of rows matches the float64 reference") {
  const double eps = 1e-5;
  FusedEverywhere fused;
  for (const Dims& dims : kPartitionShapes)
  for (const std::string method : {"1", "2", "3", "ln", "in", "gn:2"})
    for (const std::string affine : {"natural", "channel"}) {
      const ref::Dims rd{dims.n, dims.c, dims.h, dims.w};
      INFO("shape " << shape_to_string(dims.to_vector()) << " method " << method << " affine " << affine);
      MethodPlan plan = make_plan(parse_method(method, "test"), parse_affine_mode(affine, "test"), dims);
      ref::Spec spec = ref::spec_for(method, affine);
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
      ref::Stats rs = ref::batch_stats(spec, rd, x);
      double err_mean = testing::rel_l2(batch.mean, rs.mean), err_var = testing::rel_l2(batch.var, rs.var);
      double err_y = testing::rel_l2(y.data(), ref::forward(spec, rd, x, rs, gamma, beta, eps));
      double err_dx = testing::rel_l2(g.dx.data(), reference_dx(spec, rd, x, dy, gamma, eps));
      std::vector<double> rdg, rdb;
      ref::param_grads(spec, rd, x, rs, dy, eps, rdg, rdb);
      double err_dgamma = testing::rel_l2(g.dgamma.data(), rdg), err_dbeta = testing::rel_l2(g.dbeta.data(), rdb);
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
