// `bnlab normalize --engine reference` runs the float64 reference engine and
// writes the same outputs as the fast engine, to float32 rounding; a wrong
// engine name is refused with one line naming it.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "bnlab/core/error.hpp"
#include "bnlab/engine/engine_choice.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/normalize/normalize_job.hpp"
#include "bnlab/synth/synth.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace bnlab;

namespace {

using testing::TempDir;

void write_filled(const std::string& path, const std::vector<std::size_t>& shape, std::uint64_t seed, double lo,
                  double hi) {
  write_npy(path, testing::to_array<float>(testing::uniforms(element_count(shape), seed, lo, hi), shape));
}

// ||a - b|| / ||b|| over two float32 files of the same shape.
double file_rel_l2(const std::string& a_path, const std::string& b_path) {
  Array<float> a = read_npy(a_path), b = read_npy(b_path);
  REQUIRE(shape_of(a) == shape_of(b));
  return testing::rel_l2(a.data(), testing::to_doubles(b));
}

}  // namespace

TEST_CASE("normalize --engine reference writes what the fast engine writes, to float32 rounding") {
  TempDir dir("engine-choice");
  const Dims dims{4, 6, 5, 3};
  write_npy(dir / "x.npy", synthesize(SynthSpec{dims, Distribution::conv_like, 3}));
  write_filled(dir / "dy.npy", dims.to_vector(), 4, -1.0, 1.0);
  for (const std::string method : {"1", "2", "3", "ln", "in", "gn:3"})
    for (const std::string mode : {"train", "eval"}) {
      MethodPlan plan = make_plan(parse_method(method, "test"), AffineMode::natural, dims);
      if (mode == "eval" && !plan.method.batch_dependent()) continue;
      INFO("method " << method << " mode " << mode);
      write_filled(dir / "gamma.npy", plan.param_shape, 5, 0.5, 1.5);
      write_filled(dir / "beta.npy", plan.param_shape, 6, -1.0, 1.0);
      NormalizeRequest r;
      r.method = method;
      r.mode = mode;
      r.input = dir / "x.npy";
      r.gamma = dir / "gamma.npy";
      r.beta = dir / "beta.npy";
      r.dy = dir / "dy.npy";
      if (plan.method.batch_dependent()) {
        write_filled(dir / "rm.npy", plan.stat_shape, 7, -1.0, 1.0);
        write_filled(dir / "rv.npy", plan.stat_shape, 8, 0.5, 2.0);
        r.running_mean = dir / "rm.npy";
        r.running_var = dir / "rv.npy";
      }
      r.out_dir = dir / "fast";
      auto fast = run_normalize(r);
      r.engine = "reference";
      r.out_dir = dir / "reference";
      auto ref = run_normalize(r);
      CHECK(fast["engine"] == "fast");
      CHECK(ref["engine"] == "reference");
      REQUIRE(fast["files"] == ref["files"]);
      std::size_t compared = 0;
      for (const auto& file : fast["files"]) {
        const std::string name = file.get<std::string>();
        if (name == "summary.json") continue;
        const double err = file_rel_l2(dir / ("reference/" + name), dir / ("fast/" + name));
        INFO(name << " rel_l2=" << err);
        CHECK(err < 1e-6);
        ++compared;
      }
      // y, dx, dgamma, dbeta; in train mode mean, var; with running statistics their updates.
      const std::size_t expected = mode == "eval" ? 4 : plan.method.batch_dependent() ? 8 : 6;
      CHECK(compared == expected);
    }
}

TEST_CASE("an unknown engine is refused with one line naming it") {
  CHECK_THROWS_WITH(parse_engine_kind("slow", "--engine"),
                    "--engine: unknown engine \"slow\" (valid: fast, reference)");
  CHECK(parse_engine_kind("reference", "e") == EngineKind::reference);
  const std::string command = std::string(BNLAB_BINARY) + " normalize --method 3 --input x.npy --out-dir " +
                              (fs::temp_directory_path() / "bnlab-test-engine-bad").string() +
                              " --engine slow 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[512];
  for (std::size_t got; (got = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, got);
  const int status = pclose(pipe);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(out == "bnlab: --engine: unknown engine \"slow\" (valid: fast, reference)\n");
  CHECK(!fs::exists(fs::temp_directory_path() / "bnlab-test-engine-bad"));
}

TEST_CASE("backward_over_dy: the same dx, dgamma, dbeta as backward, with dx in dy's memory") {
  const Dims dims{3, 5, 4, 3};
  const Array<float> x = synthesize(SynthSpec{dims, Distribution::conv_like, 11});  // (N, C, H, W)
  const Array<float> dy =
      testing::to_array<float>(testing::uniforms(dims.count(), 12, -1.0, 1.0), dims.to_vector());  // (N, C, H, W)
  for (EngineKind kind : kEngineKinds)
    for (const std::string method : {"1", "2", "3", "ln", "in", "gn:5"}) {
      INFO(to_string(kind) << " engine, method " << method);
      const MethodPlan plan = make_plan(parse_method(method, "test"), AffineMode::natural, dims);
      Params<float> params = identity_params<float>(plan);
      for (std::size_t i = 0; i < params.gamma.size(); ++i) params.gamma.data()[i] = 0.5f + 0.25f * float(i % 5);
      Statistics stats;
      (void)forward_train(kind, plan, x, params, 1e-5, &stats);
      const Gradients<float> expected = backward(kind, plan, Mode::train, x, dy, params, stats, 1e-5);
      Array<float> dy_copy = dy;  // (N, C, H, W)
      const float* memory = dy_copy.data();
      const Gradients<float> got = backward_over_dy(kind, plan, Mode::train, x, std::move(dy_copy), params, stats, 1e-5);
      CHECK(got.dx.data() == memory);  // written over dy: no new tensor
      CHECK(got.dx == expected.dx);    // same bits
      CHECK(got.dgamma == expected.dgamma);
      CHECK(got.dbeta == expected.dbeta);
    }
  const MethodPlan plan = make_plan(parse_method("3", "test"), AffineMode::natural, dims);
  Statistics stats;
  (void)forward_train(EngineKind::fast, plan, x, identity_params<float>(plan), 1e-5, &stats);
  CHECK_THROWS_AS(backward_over_dy(EngineKind::fast, plan, Mode::train, x, Array<float>::from_shape({3, 5, 4, 2}),
                                   identity_params<float>(plan), stats, 1e-5),
                  Error);
}
