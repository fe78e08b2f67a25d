// The experiment of `bnlab train` on a small generated stand-in: what the
// result holds, that it learns, that its bits do not depend on the thread
// count, and that bad configs and data are one clear error.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <omp.h>

#include "bnlab/core/error.hpp"
#include "bnlab/train/experiment.hpp"
#include "bnlab/train/train_report.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using namespace bnlab;
using namespace bnlab::train;
using Json = nlohmann::ordered_json;

namespace {

TrainConfig tiny_config() {
  TrainConfig c;
  c.data = "stand-in";
  c.methods = {"1", "2", "3"};
  c.seeds = {0, 1};
  c.train_images = 128;
  c.epochs = 1;
  c.lr_schedule = LrSchedule::constant;
  c.warmup_steps = 0;
  c.batch_size = 32;
  c.lr = 0.05;
  c.test_images = 64;
  c.test_batch_sizes = {32, 2};
  c.shifts = {1, 4};
  c.canvas = 36;
  c.small_batch = 4;
  c.small_batch_images = 64;
  c.loss_every = 2;
  c.precise_bn_images = {64, 128};
  return c;
}

// The result without its timings, the only part that may vary between runs.
std::string without_timing(const TrainResult& result) {
  Json j = to_json(result);
  j.erase("timing");
  return j.dump();
}

TrainResult run_with_threads(const TrainConfig& config, int threads) {
  const int saved = omp_get_max_threads();
  omp_set_num_threads(threads);
  TrainResult result = run_experiment(config, nullptr);
  omp_set_num_threads(saved);
  return result;
}

using testing::Run;

using testing::run;

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("train on the stand-in: the result's content, learning, parameters, not-applicable reasons") {
  const TrainResult result = run_with_threads(tiny_config(), 1);
  const Json j = to_json(result);
  CHECK(j["schema"] == "bnlab.train/1");
  REQUIRE(j["methods"].size() == 3);
  for (const auto& [id, m] : j["methods"].items()) {
    INFO("method " << id);
    REQUIRE(m["seeds"].size() == 2);
    for (const Json& s : m["seeds"]) {
      CHECK(s["steps"] == 4);                // 128 / 32 per epoch, one epoch
      CHECK(s["loss_curve"].size() == 2);    // every 2 steps
      CHECK(s["small_batch"]["steps"] == 16);  // 64 / 4
      for (const char* key : {"eval_accuracy"}) CHECK((s[key] >= 0.0 && s[key] <= 1.0));
      // An epoch of 4 steps has no whole last tenth: the final loss is its last step's, not NaN (null).
      CHECK(s["final_loss"].is_number());
      CHECK(s["final_loss"].get<double>() > 0.0);
    }
    // The spread is over the two seeds' values.
    const double a = m["seeds"][0]["eval_accuracy"], b = m["seeds"][1]["eval_accuracy"];
    CHECK(m["eval_accuracy"]["mean"].get<double>() == Approx((a + b) / 2));
    CHECK(m["eval_accuracy"]["min"].get<double>() == std::min(a, b));
    CHECK(m["eval_accuracy"]["std"].get<double>() == Approx(std::abs(a - b) / std::sqrt(2.0)).margin(1e-15));
    CHECK(m["train_eval_gap"]["32"]["mean"].get<double>() ==
          Approx(m["batch_accuracy"]["32"]["mean"].get<double>() - m["eval_accuracy"]["mean"].get<double>()).margin(1e-12));
  }
  // Parameters: conv 1*16*9 + 16*32*9 + 32*32*9, linear 32*10 + 10, plus the norms'
  // gamma and beta: Method 3 per channel, Method 1 per location, Method 2 per activation.
  const std::size_t base = 144 + 4608 + 9216 + 330;
  CHECK(j["methods"]["3"]["parameters"] == base + 2 * (16 + 32 + 32));
  CHECK(j["methods"]["1"]["parameters"] == base + 2 * (28 * 28 + 14 * 14 + 7 * 7));
  CHECK(j["methods"]["2"]["parameters"] == base + 2 * (16 * 28 * 28 + 32 * 14 * 14 + 32 * 7 * 7));
  // Another resolution: not applicable to Methods 1 and 2, with the reason.
  CHECK(j["methods"]["3"]["canvas"]["applicable"] == true);
  CHECK(j["methods"]["3"]["canvas"]["accuracy"].is_object());
  CHECK(j["methods"]["1"]["canvas"]["applicable"] == false);
  CHECK(j["methods"]["1"]["canvas"]["accuracy"].is_null());
  CHECK(j["methods"]["1"]["canvas"]["reason"] ==
        "norm layer 1: gamma and beta have shape (28, 28), one per location of the 28x28 map they were trained on");
  CHECK(j["methods"]["2"]["canvas"]["reason"] ==
        "norm layer 1: gamma and beta have shape (16, 28, 28), one per location of the 28x28 map they were trained on");
  // The table and the summary are built from the same numbers.
  const std::string table = format_table(result);
  CHECK(table.find("n/a") != std::string::npos);
  CHECK(table.find(j["summary"].get<std::string>()) != std::string::npos);
  CHECK(j["summary"].get<std::string>().find("eval-mode test accuracy: M1 ") != std::string::npos);
}

TEST_CASE("train: Method 3 learns the stand-in (the loss falls, accuracy beats chance)") {
  TrainConfig c = tiny_config();
  c.methods = {"3"};
  c.seeds = {0};
  c.train_images = 960;
  c.batch_size = 16;
  c.lr = 0.1;
  c.test_images = 128;
  c.test_batch_sizes = {64};
  c.shifts = {};
  c.canvas = 0;
  c.small_batch = 0;
  c.loss_every = 20;
  c.precise_bn_images = {};
  const Json j = to_json(run_with_threads(c, 1));
  const Json& curve = j["methods"]["3"]["loss_curve"]["mean"];
  REQUIRE(curve.size() == 3);
  CHECK(curve.back().get<double>() < 0.7 * curve.front().get<double>());
  CHECK(j["methods"]["3"]["eval_accuracy"]["mean"].get<double>() > 0.3);  // chance: 0.1
}

TEST_CASE("train: the same bits for 1 and 2 threads, side by side or one job at a time") {
  TrainConfig config = tiny_config();
  config.methods = {"none", "3", "gn:4"};
  config.lr_sweep = {0.05, 10.0};  // the second diverges
  config.lr_sweep_images = 64;
  const std::string one = without_timing(run_with_threads(config, 1));
  const std::string two = without_timing(run_with_threads(config, 2));  // jobs side by side
  CHECK(one == two);
  config.methods = {"2"};
  config.seeds = {5};
  config.train_images = 64;
  config.precise_bn_images = {32, 64};
  config.shifts = {};
  config.small_batch = 0;
  const std::string single_one = without_timing(run_with_threads(config, 1));
  const std::string single_two = without_timing(run_with_threads(config, 2));  // one job, threaded layers
  CHECK(single_one == single_two);
}

TEST_CASE("train: none is a method like the others; population statistics per K; the lr sweep's outcomes") {
  TrainConfig config = tiny_config();
  config.methods = {"none", "3", "ln"};
  config.seeds = {0};
  config.train_images = 640;  // the stand-in holds train_images images: 20 sweep steps of 32
  config.lr_sweep = {0.05, 10.0};
  config.lr_sweep_images = 640;
  const TrainResult result = run_with_threads(config, 1);
  const Json j = to_json(result);
  REQUIRE(j["methods"].size() == 3);
  const Json& none = j["methods"]["none"];
  CHECK(none["column"] == "none");
  CHECK(none["normalizes"] == false);
  CHECK(none["parameters"] == 144 + 4608 + 9216 + 330 + 2 * (16 + 32 + 32));  // gamma, beta per channel
  CHECK(none["population_accuracy"].is_null());
  CHECK(none["canvas"]["applicable"] == true);  // nothing tied to 28 x 28
  CHECK(j["methods"]["ln"]["population_accuracy"].is_null());
  // Method 3: one population accuracy per K, a mean over seeds and each seed's value.
  const Json& m3 = j["methods"]["3"];
  REQUIRE(m3["population_accuracy"].size() == 2);
  for (const char* k : {"64", "128"}) {
    INFO("K " << k);
    const double a = m3["seeds"][0]["population_accuracy"][k];
    CHECK((a >= 0.0 && a <= 1.0));
    CHECK(m3["population_accuracy"][k]["mean"].get<double>() == a);
  }
  // The sweep: lr 10 blows up the network without normalization (an outcome,
  // not an error); lr 0.05 trains every method. Whatever a normalized method
  // does at lr 10, its point is consistent: an accuracy exactly when it trained.
  for (const char* id : {"none", "3", "ln"}) {
    INFO("method " << id);
    const Json& sweep = j["methods"][id]["lr_sweep"];
    REQUIRE(sweep["points"].size() == 2);
    CHECK(sweep["points"][0]["outcome"] == "trained");
    CHECK(sweep["points"][0]["eval_accuracy"].is_number());
    const Json& high = sweep["points"][1];
    const bool diverged = high["outcome"] == "diverged";
    CHECK(high["eval_accuracy"].is_null() == diverged);
    CHECK(high["diverged_at_step"].is_null() == !diverged);
    CHECK(sweep["largest_stable_lr"] == (diverged ? 0.05 : 10.0));
  }
  CHECK(j["methods"]["none"]["lr_sweep"]["points"][1]["outcome"] == "diverged");
  // The small-batch runs: each says whether it diverged; the count matches.
  for (const char* id : {"none", "3", "ln"}) {
    std::size_t diverged = 0;
    for (const Json& seed : j["methods"][id]["seeds"]) {
      const Json& small = seed["small_batch"];
      diverged += !small["diverged_at_step"].is_null();
      CHECK(small["final_loss"].is_null() == !small["diverged_at_step"].is_null());
    }
    CHECK(j["methods"][id]["small_batch"]["diverged_runs"] == diverged);
  }
  CHECK(j["methods"]["none"]["lr_sweep"]["points"][1]["diverged_at_step"].get<std::size_t>() >= 1);
  const std::string table = format_table(result);
  CHECK(table.find("population statistics, 128 images") != std::string::npos);
  CHECK(table.find("diverged@") != std::string::npos);
  CHECK(table.find("largest stable lr") != std::string::npos);
}

TEST_CASE("a small-batch run that diverges is an outcome, not an error: the run goes on and says so") {
  TrainConfig c = tiny_config();
  c.methods = {"none", "3"};
  c.seeds = {0};
  c.lr = 10.0;  // at batch 4, no normalization blows up
  c.lr_schedule = LrSchedule::constant;
  const Json j = to_json(run_with_threads(c, 1));
  const Json& small = j["methods"]["none"]["seeds"][0]["small_batch"];
  REQUIRE(!small["diverged_at_step"].is_null());
  CHECK(small["final_loss"].is_null());
  CHECK((small["eval_accuracy"] >= 0.0 && small["eval_accuracy"] <= 1.0));  // measured as it is
  CHECK(j["methods"]["none"]["small_batch"]["diverged_runs"] == 1);
  CHECK(j["methods"]["none"]["small_batch"]["final_loss"].is_null());
  CHECK(format_table(run_with_threads(c, 1)).find("runs that diverged (of 1)") != std::string::npos);
}

TEST_CASE("population statistics use whole batches, at least one, at most the training images") {
  TrainConfig c;
  c.batch_size = 64;
  c.train_images = 1000;
  CHECK(precise_bn_images_used(c, 256) == 256);
  CHECK(precise_bn_images_used(c, 100) == 64);   // one batch of 64
  CHECK(precise_bn_images_used(c, 10) == 64);    // at least one batch
  CHECK(precise_bn_images_used(c, 4096) == 960); // 15 whole batches of the 1000 images
  c.precise_bn_images = {10, 4096};
  c.data = "stand-in";
  c.methods = {"3"};
  c.seeds = {0};
  c.epochs = 1;
  c.test_images = 64;
  c.test_batch_sizes = {32};
  c.shifts = {};
  c.canvas = 0;
  c.small_batch = 0;
  const TrainResult result = run_with_threads(c, 1);
  CHECK(to_json(result)["precise_bn_images_used"] == Json::array({64, 960}));
  CHECK(format_table(result).find("population statistics, 4096 images (960 used)") != std::string::npos);
}

TEST_CASE("train config: strict parsing with one-line errors") {
  const testing::TempDir temp("train-config");
  const fs::path dir = temp.path;
  auto error_of = [&](const std::string& text) {
    const fs::path file = dir / "c.json";
    std::ofstream(file) << text;
    try {
      load_train_config(file.string());
    } catch (const Error& e) {
      const std::string message = e.what();
      return message.substr(file.string().size());
    }
    return std::string("no error");
  };
  CHECK(error_of(R"({"epoch": 2})").rfind(": /epoch: unknown key; did you mean \"epochs\"? (valid: description, data,", 0) == 0);
  CHECK(error_of(R"({"zzzzzzzz": 2})").rfind(": /zzzzzzzz: unknown key (valid: description, data,", 0) == 0);
  CHECK(error_of(R"({"lr": "fast"})") == ": /lr: expected a number in (0, 10], got \"fast\"");
  CHECK(error_of(R"({"lr": 0})") == ": /lr: expected a number in (0, 10], got 0");
  CHECK(error_of(R"({"momentum": 1})") == ": /momentum: expected a number in [0, 1), got 1");
  CHECK(error_of(R"({"seeds": [1, 1]})") == ": /seeds/1: duplicate seed 1");
  CHECK(error_of(R"({"seeds": 3})") == ": /seeds: expected a non-empty array of integers >= 0, got 3");
  CHECK(error_of(R"({"batch_size": 1})") == ": /batch_size: expected an integer in [2, 60000], got 1");
  CHECK(error_of(R"({"methods": ["3", "4"]})").find("unknown method") != std::string::npos);
  CHECK(error_of(R"({"test_images": 1000, "test_batch_sizes": [300]})") ==
        ": /test_batch_sizes: 300 must be >= 2 and divide /test_images (1000) so every batch has the same size");
  CHECK(error_of(R"({"lr": 0.1, "lr": 0.2})") == ": /lr: duplicate key");
  CHECK(error_of(R"({"lr": )").rfind(": invalid JSON: ", 0) == 0);
  CHECK(error_of(R"({"small_batch": 1})") == ": /small_batch: must be 0 (skip) or >= 2 (got 1)");
  // A relative data directory is relative to the config file.
  std::ofstream(dir / "ok.json") << R"({"data": "fmnist", "methods": "3,gn:4", "seeds": [4]})";
  const TrainConfig ok = load_train_config((dir / "ok.json").string());
  CHECK(ok.data == (dir / "fmnist").string());
  CHECK(ok.methods == std::vector<std::string>{"3", "gn:4"});
  // Every shipped config parses.
  for (const char* name : {"default.json", "full.json", "bench.json"}) {
    INFO(name);
    CHECK_NOTHROW(load_train_config((fs::path(BNLAB_SOURCE_DIR) / "configs" / "train" / name).string()));
  }
  // configs/train/default.json says what the embedded default says.
  CHECK(to_json(load_train_config((fs::path(BNLAB_SOURCE_DIR) / "configs" / "train" / "default.json").string())) == to_json(TrainConfig{}));
}

TEST_CASE("bnlab train: a missing data set is one line naming the file and the package; exit 1") {
  const testing::TempDir temp("train-cli");
  const fs::path dir = temp.path;
  const fs::path err = dir / "err.txt", out = dir / "out.json";
  fs::remove(out);
  Run r = run("OMP_NUM_THREADS=1 " + std::string(BNLAB_BINARY) + " train --data " + (dir / "nothing").string() + " --output " + out.string() +
              " 2>" + err.string());
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(!fs::exists(out));
  CHECK(read_file(err) == "bnlab: " + (dir / "nothing" / "train-images-idx3-ubyte.gz").string() +
                              ": no such file (Debian's dataset-fashion-mnist package provides it: apt-get install "
                              "dataset-fashion-mnist, or give --data DIR with the four Fashion-MNIST files)\n");
  // A quick run on the stand-in writes the JSON file. stdout is a pipe here:
  // without --format it gets the JSON (as compare), or nothing when --output has it.
  const std::string quick = "OMP_NUM_THREADS=1 " + std::string(BNLAB_BINARY) + " train --config " +
                            (fs::path(BNLAB_SOURCE_DIR) / "tests" / "fixtures" / "train-quick.json").string();
  r = run(quick + " --output " + out.string() + " 2>" + err.string());
  CHECK(r.code == 0);
  CHECK(r.out.empty());
  Json saved = Json::parse(read_file(out));
  CHECK(saved["schema"] == "bnlab.train/1");
  r = run(quick + " 2>" + err.string());
  CHECK(r.code == 0);
  Json piped = Json::parse(r.out);
  saved.erase("timing");
  piped.erase("timing");
  CHECK(piped == saved);
  r = run(quick + " --format TABLE 2>" + err.string());
  CHECK(r.code == 0);
  CHECK(r.out.rfind("bnlab train: generated stand-in data, 64 training images", 0) == 0);
  r = run(std::string(BNLAB_BINARY) + " train --format xml 2>" + err.string());
  CHECK(r.code == 1);
  CHECK(read_file(err) == "bnlab: --format: unknown format \"xml\" (valid: json, table)\n");
}

TEST_CASE("bnlab train: out-of-range options are one line naming the option, as the config keys are") {
  const testing::TempDir temp("train-options");
  const fs::path dir = temp.path;
  const fs::path err = dir / "err.txt", out = dir / "out.json";
  fs::remove(out);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"--lr 0", "--lr: expected a number in (0, 10], got 0"},
      {"--lr 11", "--lr: expected a number in (0, 10], got 11"},
      {"--train-images 0", "--train-images: expected an integer in [1, 60000], got 0"},
      {"--train-images 60001", "--train-images: expected an integer in [1, 60000], got 60001"},
      {"--test-images 10001", "--test-images: expected an integer in [1, 10000], got 10001"},
      {"--epochs 0", "--epochs: expected an integer in [1, 1000], got 0"},
      {"--batch-size 1", "--batch-size: expected an integer in [2, 60000], got 1"},
      {"--test-images 300",
       "--test-images: 300 is not a multiple of the test batch size 500 (--test-batch-sizes sets them, e.g. "
       "--test-batch-sizes 100,2)"},
      {"--test-batch-sizes 7", "--test-batch-sizes: 7 does not divide the 10000 test images (--test-images sets them)"},
      {"--test-batch-sizes 1", "--test-batch-sizes: expected an integer in [2, 10000], got 1"},
      {"--test-batch-sizes 100,x", "--test-batch-sizes: expected an integer, got \"x\""},
      {"--small-batch 1", "--small-batch: must be 0 (skip) or >= 2, got 1"},
      {"--seeds -1", "--seeds: expected an integer in [0, 2^64), got \"-1\""},
      {"--seeds 18446744073709551616", "--seeds: expected an integer in [0, 2^64), got \"18446744073709551616\""},
      {"--seeds 0,1,1", "--seeds: duplicate seed 1"},
      {"--seeds 1 1", "--seeds: duplicate seed 1"},
      {"--methods 3,4", "--methods: unknown method"},
  };
  for (const auto& [args, expected] : cases) {
    INFO(args);
    const Run r = run(std::string(BNLAB_BINARY) + " train --data stand-in " + args + " --output " + out.string() + " 2>" +
                      err.string());
    CHECK(r.code == 1);
    CHECK(r.out.empty());
    const std::string message = read_file(err);
    CHECK(message.rfind("bnlab: " + expected, 0) == 0);
    CHECK(std::count(message.begin(), message.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(out));
  }
}

TEST_CASE("train overrides: the config file's ranges, the option's name, the config untouched on error") {
  TrainConfig config;
  TrainOverrides o;
  o.lr = 0.5;
  o.train_images = 640;
  o.precise_bn_images = "128,640";
  o.seeds = {7};
  apply_overrides(config, o);
  CHECK(config.lr == 0.5);
  CHECK(config.train_images == 640);
  CHECK(config.seeds == std::vector<std::uint64_t>{7});
  const std::string before = to_json(config).dump();
  TrainOverrides bad;
  bad.epochs = 2;
  bad.lr = -1;
  CHECK_THROWS_WITH(apply_overrides(config, bad), "--lr: expected a number in (0, 10], got -1");
  CHECK(to_json(config).dump() == before);
  TrainOverrides relation;  // each value in range, together impossible: validate() names the keys
  relation.batch_size = 1000;
  CHECK_THROWS_WITH(apply_overrides(config, relation), "/batch_size: 1000 is more than /train_images (640)");
  CHECK(to_json(config).dump() == before);
}
