// bnlab compare end to end: the report's structure and verdict, degenerate
// inputs, the table, determinism across thread counts, the command line.
#include <catch2/catch.hpp>

#include <omp.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bnlab/report/compare.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/report/report_table.hpp"
#include "bnlab/synth/synth.hpp"

namespace fs = std::filesystem;
using namespace bnlab;
using Json = nlohmann::ordered_json;

namespace {

CompareConfig synth_config(Dims shape, std::vector<std::string> methods = {"1", "2", "3"}) {
  CompareConfig c;
  c.shape = shape;
  c.methods = std::move(methods);
  return c;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("the default report answers the question: only Method 3 has every property") {
  Json report = run_compare(CompareConfig{});
  CHECK(report["schema"] == "bnlab.compare/1");
  CHECK(report["input"]["source"] == "synth");
  CHECK(report["input"]["shape"] == std::vector<std::size_t>{16, 16, 16, 16});
  std::vector<std::string> order;
  for (auto it = report["methods"].begin(); it != report["methods"].end(); ++it) order.push_back(it.key());
  CHECK(order == std::vector<std::string>{"1", "2", "3"});
  CHECK(report["verdict"]["methods_with_every_property"] == std::vector<std::string>{"3"});
  std::string summary = report["verdict"]["summary"];
  INFO(summary);
  CHECK(summary.find("only Method 3 has all") != std::string::npos);
  const Json& m3 = report["methods"]["3"];
  CHECK(m3["reduce_axes"] == std::vector<std::string>{"N", "H", "W"});
  CHECK(m3["param_axes"] == std::vector<std::string>{"C"});
  CHECK(m3["num_statistics"] == 16);
  CHECK(m3["elements_per_statistic"] == 16 * 16 * 16);
  CHECK(m3["num_parameters"] == 16);
  for (const char* key : {"output", "gradients", "invariance"}) CHECK(m3.contains(key));
  // Each verdict value is the measured number it was judged from.
  CHECK(report["verdict"]["properties"]["channel_rescale"]["values"]["2"] ==
        report["methods"]["2"]["invariance"]["channel_rescale"]["rel_error"]);
}

TEST_CASE("method 2 with N = 1 is reported as degenerate, not a crash") {
  Json report = run_compare(synth_config({1, 4, 6, 6}));
  const Json& m2 = report["methods"]["2"];
  CHECK(m2["degenerate"] == true);
  CHECK(m2["elements_per_statistic"] == 1);
  CHECK(m2["notes"].size() == 1);
  CHECK(m2["output"].is_null());
  for (const auto& [key, property] : report["verdict"]["properties"].items()) {
    INFO(key);
    CHECK(property["holds"]["2"] == false);
  }
  CHECK(report["verdict"]["summary"].get<std::string>().find("Method 2 is degenerate") != std::string::npos);
  CHECK(report["methods"]["3"]["degenerate"] == false);
}

TEST_CASE("H = W = 1 and a constant channel give notes and finite numbers") {
  Json spatial = run_compare(synth_config({8, 4, 1, 1}, {"1", "2", "3", "in"}));
  CHECK_FALSE(spatial["methods"]["3"]["invariance"]["notes"].empty());
  CHECK(spatial["methods"]["in"]["degenerate"] == true);  // one value per (n, c)

  Array<float> x = synthesize(SynthSpec{{6, 3, 5, 4}, Distribution::conv_like, 2});  // (N, C, H, W)
  for (std::size_t n = 0; n < 6; ++n)
    for (std::size_t s = 0; s < 20; ++s) x.data()[(n * 3 + 1) * 20 + s] = 2.5f;  // channel 1 constant
  CompareConfig config = synth_config({6, 3, 5, 4}, {"1", "2", "3"});
  Json report = build_compare_report(config, x);
  // No measurement of a non-degenerate method's output, gradients,
  // invariance or standardization is NaN, infinite or null (the
  // JSON writer turns a NaN into null, so searching the dump for "NaN" could
  // never fail): collect the JSON pointers of every such value.
  std::vector<std::string> bad;
  std::function<void(const Json&, const std::string&)> collect = [&](const Json& value, const std::string& path) {
    if (value.is_null() || (value.is_number_float() && !std::isfinite(value.get<double>()))) bad.push_back(path);
    if (value.is_object()) {
      for (const auto& [key, child] : value.items()) collect(child, path + "/" + key);
    } else if (value.is_array()) {
      for (std::size_t i = 0; i < value.size(); ++i) collect(value[i], path + "/" + std::to_string(i));
    }
  };
  for (const std::string id : {"1", "2", "3"}) {
    REQUIRE(report["methods"][id]["degenerate"] == false);
    for (const std::string block : {"output", "gradients", "invariance", "channel_standardization"}) {
      REQUIRE(report["methods"][id].contains(block));
      collect(report["methods"][id][block], "/methods/" + id + "/" + block);
    }
  }
  std::string listed;
  for (const std::string& path : bad) listed += path + " ";
  INFO("null or non-finite: " << listed);
  CHECK(bad.empty());
  CHECK(report.dump().find("zero variance") != std::string::npos);
}

TEST_CASE("the report is byte-identical across runs and thread counts") {
  CompareConfig config = synth_config({6, 10, 9, 7}, {"1", "2", "3", "ln", "in", "gn:5"});
  omp_set_num_threads(1);
  std::string one = run_compare(config).dump();
  omp_set_num_threads(3);
  std::string three = run_compare(config).dump();
  omp_set_num_threads(omp_get_num_procs());
  std::string again = run_compare(config).dump();
  CHECK(one == three);
  CHECK(one == again);
}

TEST_CASE("a .npy input is described by its path and layout") {
  fs::path dir = fs::temp_directory_path() / "bnlab-test-compare-npy";
  fs::create_directories(dir);
  Array<float> x = synthesize(SynthSpec{{4, 6, 5, 5}, Distribution::conv_like, 3});
  write_feature_map((dir / "x.npy").string(), x, DataLayout::nhwc);
  CompareConfig config;
  config.input = (dir / "x.npy").string();
  config.layout = "NHWC";
  Json report = run_compare(config);
  CHECK(report["input"]["source"] == "npy");
  CHECK(report["input"]["path"] == (dir / "x.npy").string());
  CHECK(report["input"]["shape"] == std::vector<std::size_t>{4, 6, 5, 5});
  CHECK(report["config"]["layout"] == "NHWC");
  // The same tensor synthesized directly gives the same measurements.
  Json direct = build_compare_report(config, x);
  CHECK(report["methods"].dump() == direct["methods"].dump());
  fs::remove_all(dir);
}

TEST_CASE("the table fits 80 columns and agrees with the JSON verdict") {
  Json report = run_compare(synth_config({4, 6, 6, 5}, {"1", "2", "3", "ln", "in", "gn:3"}));
  std::string table = format_compare_table(report);
  INFO(table);
  std::istringstream lines(table);
  std::string line;
  bool saw_rescale = false;
  while (std::getline(lines, line)) {
    CHECK(line.size() <= 80);
    if (line.rfind("  channel rescaling", 0) == 0) {
      saw_rescale = true;
      std::istringstream cells(line.substr(34));
      std::vector<std::string> got;
      for (std::string cell; cells >> cell;) got.push_back(cell);
      std::vector<std::string> expected;
      for (const char* id : {"1", "2", "3", "ln", "in", "gn:3"})
        expected.push_back(report["verdict"]["properties"]["channel_rescale"]["holds"][id].get<bool>() ? "yes" : "NO");
      CHECK(got == expected);
    }
  }
  CHECK(saw_rescale);
  CHECK(table.find("Verdict: ") != std::string::npos);
}

TEST_CASE("the command writes the JSON report with --output and prints the table") {
  fs::path dir = fs::temp_directory_path() / "bnlab-test-compare-cli";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string report_path = (dir / "report.json").string();
  std::string command = std::string(BNLAB_BINARY) + " compare --shape 4,4,4,4 --format table --output " + report_path +
                        " > " + (dir / "out.txt").string() + " 2>/dev/null";
  REQUIRE(std::system(command.c_str()) == 0);
  Json report = Json::parse(read_text(report_path));
  CHECK(report["schema"] == "bnlab.compare/1");
  CHECK(read_text((dir / "out.txt").string()).rfind("bnlab compare: input (4,4,4,4)", 0) == 0);

  std::string bad = std::string(BNLAB_BINARY) + " compare --methods 1,4 2> " + (dir / "err.txt").string();
  int status = std::system(bad.c_str());
  CHECK(WEXITSTATUS(status) == 1);
  std::string err = read_text((dir / "err.txt").string());
  CHECK(err == "bnlab: --methods: unknown method \"4\" (valid: 1, 2, 3, bn, ln, in, gn:G)\n");
  fs::remove_all(dir);
}

TEST_CASE("batch statistics degrade as the batch shrinks, most for Method 2") {
  // i.i.d. normal data: the error of a variance from m values is about sqrt(2/(m-1)).
  CompareConfig config = synth_config({16, 8, 8, 8}, {"2", "3", "ln"});
  config.dist = "normal";
  Json report = run_compare(config);
  const Json& m2 = report["methods"]["2"]["batch_size"]["sizes"];
  const Json& m3 = report["methods"]["3"]["batch_size"]["sizes"];
  REQUIRE(m2.size() == 5);  // n = 16, 8, 4, 2, 1
  // At n = N the batch is the population: no error, no train/eval gap.
  CHECK(m2[0]["var_error"].get<double>() == 0.0);
  CHECK(m2[0]["train_eval_gap"].get<double>() == 0.0);
  // n = 1: Method 2 has one value per statistic; Method 3 still has H*W.
  CHECK(m2[4]["degenerate"] == true);
  CHECK(m3[4]["degenerate"] == false);
  // n = 2: Method 2 estimates each variance from 2 values (error ~ 1), Method 3
  // from 128 (error ~ sqrt(2/127) = 0.13).
  double m2_err = m2[3]["var_error"], m3_err = m3[3]["var_error"];
  INFO("var_error at n=2: method 2 " << m2_err << ", method 3 " << m3_err);
  CHECK(m2_err > 0.5);
  CHECK(m3_err < 0.25);
  CHECK(m2[3]["train_eval_gap"].get<double>() > m3[3]["train_eval_gap"].get<double>());
  CHECK(report["methods"]["ln"]["batch_size"]["applicable"] == false);
}
