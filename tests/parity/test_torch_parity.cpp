// `bnlab normalize` against PyTorch: tests/fixtures/torch/ holds inputs and
// PyTorch's outputs (scripts/make_torch_fixtures.py; methods 1 and 2 are
// batch_norm on reshapes). Every output file must match to 1e-5 relative.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "bnlab/normalize/normalize_job.hpp"
#include "bnlab/io/npy.hpp"

namespace fs = std::filesystem;
using namespace bnlab;

namespace {

const fs::path kFixtures = fs::path(BNLAB_SOURCE_DIR) / "tests" / "fixtures" / "torch";

// ||a - b|| / ||b|| over two arrays of the same shape.
double rel_l2(const Array<float>& a, const Array<float>& b) {
  REQUIRE(std::vector<std::size_t>(a.shape().begin(), a.shape().end()) ==
          std::vector<std::size_t>(b.shape().begin(), b.shape().end()));
  double num = 0, den = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    double d = double(a.data()[i]) - double(b.data()[i]);
    num += d * d;
    den += double(b.data()[i]) * double(b.data()[i]);
  }
  return std::sqrt(num) / std::max(std::sqrt(den), 1e-30);
}

void check_case(const std::string& name, const std::string& method, const std::string& mode) {
  fs::path in = kFixtures / name;
  fs::path out = fs::temp_directory_path() / ("bnlab-torch-" + name);
  fs::remove_all(out);
  NormalizeRequest r;
  r.method = method;
  r.mode = mode;
  r.input = (in / "x.npy").string();
  r.out_dir = out.string();
  r.gamma = (in / "gamma.npy").string();
  r.beta = (in / "beta.npy").string();
  r.dy = (in / "dy.npy").string();
  if (fs::exists(in / "running_mean.npy")) {
    r.running_mean = (in / "running_mean.npy").string();
    r.running_var = (in / "running_var.npy").string();
  }
  run_normalize(r);
  std::vector<std::pair<std::string, std::string>> pairs = {{"y", "y"}, {"dx", "dx"}, {"dgamma", "dgamma"}, {"dbeta", "dbeta"}};
  if (mode == "train") {
    pairs.push_back({"mean", "mean"});
    pairs.push_back({"var", "var"});
    if (r.running_mean) {
      pairs.push_back({"running_mean", "running_mean_out"});
      pairs.push_back({"running_var", "running_var_out"});
    }
  }
  for (const auto& [ours, theirs] : pairs) {
    double err = rel_l2(read_npy((out / (ours + ".npy")).string()), read_npy((in / (theirs + ".npy")).string()));
    INFO("case " << name << ": " << ours << ".npy vs PyTorch, rel_l2=" << err);
    CHECK(err < 1e-5);
  }
  fs::remove_all(out);
}

}  // namespace

TEST_CASE("train mode matches PyTorch for every method: y, statistics, gradients, running statistics") {
  check_case("1_train", "1", "train");
  check_case("2_train", "2", "train");
  check_case("3_train", "3", "train");
  check_case("ln_train", "ln", "train");
  check_case("in_train", "in", "train");
  check_case("gn2_train", "gn:2", "train");
}

TEST_CASE("eval mode matches PyTorch for methods 1, 2, 3") {
  check_case("1_eval", "1", "eval");
  check_case("2_eval", "2", "eval");
  check_case("3_eval", "bn", "eval");
}
