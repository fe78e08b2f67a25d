// bnlab compare end to end: the report's structure and verdict, degenerate
// inputs, the table, determinism across thread counts, the command line.
#include <catch2/catch.hpp>

#include "bnlab/core/terminal_text.hpp"

#include <omp.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "bnlab/report/compare.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/report/report_table.hpp"
#include "bnlab/synth/synth.hpp"
#include "support/test_support.hpp"

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

// x with channel `c` set to 0 in every sample (a dead channel). (N, C, H, W)
Array<float> kill_channel(Array<float> x, const Dims& d, std::size_t c) {
  for (std::size_t n = 0; n < d.n; ++n) std::fill_n(x.data() + (n * d.c + c) * d.s(), d.s(), 0.0f);
  return x;
}

// relu(x). (N, C, H, W)
Array<float> relu(Array<float> x) {
  for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = std::max(x.data()[i], 0.0f);
  return x;
}

// relu(conv3x3(x) + b): a random 3x3 convolution C -> C (zero padding, seeded
// weights ~ N(0, 1/(9C))), whose bias is -1e3 for `dead` channels, then a ReLU:
// what a real network's activations look like, dead channels included. (N, C, H, W)
Array<float> conv_relu(const Array<float>& x, const Dims& d, std::uint64_t seed, const std::vector<std::size_t>& dead) {
  const std::vector<double> w = testing::normals(d.c * d.c * 9, seed, 0.0, 1.0 / std::sqrt(9.0 * double(d.c)));
  std::vector<double> bias = testing::normals(d.c, seed + 1, 0.0, 0.5);
  for (std::size_t c : dead) bias[c] = -1e3;
  Array<float> y = Array<float>::from_shape(d.to_vector());
  for (std::size_t n = 0; n < d.n; ++n)
    for (std::size_t co = 0; co < d.c; ++co)
      for (std::size_t h = 0; h < d.h; ++h)
        for (std::size_t wi = 0; wi < d.w; ++wi) {
          double acc = bias[co];
          for (std::size_t ci = 0; ci < d.c; ++ci)
            for (std::size_t kh = 0; kh < 3; ++kh)
              for (std::size_t kw = 0; kw < 3; ++kw) {
                const std::ptrdiff_t hh = std::ptrdiff_t(h + kh) - 1, ww = std::ptrdiff_t(wi + kw) - 1;
                if (hh < 0 || ww < 0 || hh >= std::ptrdiff_t(d.h) || ww >= std::ptrdiff_t(d.w)) continue;
                acc += w[((co * d.c + ci) * 3 + kh) * 3 + kw] * x.data()[((n * d.c + ci) * d.h + hh) * d.w + ww];
              }
          y.data()[((n * d.c + co) * d.h + h) * d.w + wi] = float(std::max(acc, 0.0));
        }
  return y;
}

// The table's number format (report_table.cpp), to find a judged value in the table.
std::string compact(double v) {
  char buf[32];
  if (v == 0) return "0";
  if (std::abs(v) >= 1e-2 && std::abs(v) < 1e5) std::snprintf(buf, sizeof buf, "%.3g", v);
  else std::snprintf(buf, sizeof buf, "%.1e", v);
  return buf;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string run_shell(const std::string& command, int* status = nullptr) {
  const fs::path out = fs::temp_directory_path() / ("bnlab-test-compare-out-" + std::to_string(::getpid()));
  int rc = std::system(("(" + command + ") > " + out.string()).c_str());
  if (status) *status = WEXITSTATUS(rc);
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  fs::remove(out);
  return ss.str();
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
  CHECK(report["schema"] == "bnlab.compare/3");
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

TEST_CASE("six methods render within 100 columns, cells apart, each judged value beside its criterion") {
  const std::vector<std::string> ids{"1", "2", "3", "ln", "in", "gn:8"};
  CompareResult result = run_compare_result(synth_config({16, 16, 16, 16}, ids));
  Json report = to_json(result);
  std::string table = format_compare_table(result, TableOptions{.explain = true});
  INFO(table);
  std::map<std::string, std::size_t> verdicts_shown;  // property -> yes/NO cells over all blocks
  for (const std::string& line : split_lines(table)) {
    CHECK(line.size() <= kTableWidth);
    // Values never touch: "(16,16)(64,16,16)" or "1.318.0e-10" cannot appear.
    CHECK(line.find(")(") == std::string::npos);
    for (const Property& p : properties()) {
      const std::string label = "  " + std::string(p.label) + " " + p.short_criterion();
      if (line.rfind(label, 0) != 0) continue;
      // Which block of methods is this? The cells are "value yes|NO" pairs.
      std::istringstream cells(line.substr(label.size()));
      std::vector<std::string> tokens;
      for (std::string t; cells >> t;) tokens.push_back(t);
      CHECK(!tokens.empty());
      const Json& judged = report["verdict"]["properties"][p.key];
      // Every shown number is one of the judged values, formatted.
      std::set<std::string> judged_numbers;
      for (const std::string& id : ids)
        if (!judged["values"][id].is_null()) judged_numbers.insert(compact(judged["values"][id].get<double>()));
      for (const std::string& t : tokens) {
        if (t == "yes" || t == "NO") ++verdicts_shown[p.key];
        else if (t != "-") CHECK(judged_numbers.count(t) == 1);
      }
    }
  }
  // Six methods wrap into blocks of methods; every property shows all six verdicts.
  for (const Property& p : properties()) CHECK(verdicts_shown[p.key] == ids.size());
  // A legend line per property (wrapped: compare with the spaces collapsed).
  auto collapse = [](const std::string& text) {
    std::istringstream words(text);
    std::string out;
    for (std::string w; words >> w;) out += (out.empty() ? "" : " ") + w;
    return out;
  };
  const std::string flat = collapse(table);
  CHECK(flat.find("Legend") != std::string::npos);
  for (const Property& p : properties()) CHECK(flat.find(collapse(std::string(p.label) + ": " + p.legend)) != std::string::npos);
  // Shapes name their axes.
  CHECK(table.find("(C,H,W)=(16,16,16)") != std::string::npos);
  CHECK(table.find("(H,W)=(16,16)") != std::string::npos);
  CHECK(table.find("input (N,C,H,W)=(16,16,16,16)") != std::string::npos);
  CHECK(table.find("Verdict: ") != std::string::npos);
}

TEST_CASE("the table's yes/NO agree with the JSON verdict") {
  CompareResult result = run_compare_result(synth_config({4, 6, 6, 5}, {"1", "2", "3"}));
  Json report = to_json(result);
  std::string table = format_compare_table(result, TableOptions{.explain = true});
  bool saw_rescale = false;
  for (const std::string& line : split_lines(table)) {
    if (line.rfind("  channel rescaling <=", 0) != 0) continue;
    saw_rescale = true;
    std::vector<std::string> got;
    std::istringstream cells(line);
    for (std::string t; cells >> t;)
      if (t == "yes" || t == "NO") got.push_back(t);
    std::vector<std::string> expected;
    for (const char* id : {"1", "2", "3"})
      expected.push_back(report["verdict"]["properties"]["channel_rescale"]["holds"][id].get<bool>() ? "yes" : "NO");
    CHECK(got == expected);
  }
  CHECK(saw_rescale);
}

TEST_CASE("the short table: the verdict first, one line per property, marks that agree with the JSON") {
  const std::vector<std::string> ids{"1", "2", "3", "ln", "in", "gn:8"};
  CompareResult result = run_compare_result(synth_config({16, 16, 16, 16}, ids));
  const Json report = to_json(result);
  for (const bool utf8 : {true, false}) {
    const std::string table = format_compare_table(result, TableOptions{.explain = false, .utf8_marks = utf8});
    INFO(table);
    const std::string yes = utf8 ? "\xe2\x9c\x93" : "yes", no = utf8 ? "\xe2\x9c\x97" : "NO";
    // The verdict comes before any property line.
    const std::size_t verdict = table.find("Verdict: ");
    REQUIRE(verdict != std::string::npos);
    CHECK(verdict < table.find("Property (judged)"));
    // ASCII fallback: no byte outside ASCII.
    if (!utf8) CHECK(std::none_of(table.begin(), table.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }));
    std::map<std::string, std::vector<std::string>> marks;  // property -> marks over all blocks, in method order
    for (const std::string& line : split_lines(table)) {
      CHECK(display_width(line) <= kTableWidth);
      for (const Property& p : properties()) {
        const std::string label = "  " + std::string(p.label);
        // The label alone (no criterion), then cells: "mark value", "mark" or "mark -".
        if (line.rfind(label + "  ", 0) != 0) continue;
        std::istringstream cells(line.substr(label.size()));
        for (std::string t; cells >> t;)
          if (t == yes || t == no) marks[p.key].push_back(t);
      }
    }
    for (const Property& p : properties()) {
      std::vector<std::string> expected;
      for (const std::string& id : ids)
        expected.push_back(report["verdict"]["properties"][p.key]["holds"][id].get<bool>() ? yes : no);
      CHECK(marks[p.key] == expected);
    }
    // The criteria are left to --explain, which the two-line legend names.
    CHECK(table.find("<= 1e-4") == std::string::npos);
    CHECK(table.find("bnlab compare --explain") != std::string::npos);
  }
}

TEST_CASE("the locale decides the marks: UTF-8 by LC_ALL, then LC_CTYPE, then LANG") {
  CHECK(locale_is_utf8(nullptr, nullptr, "C.UTF-8"));
  CHECK(locale_is_utf8(nullptr, nullptr, "en_US.utf8"));
  CHECK_FALSE(locale_is_utf8(nullptr, nullptr, nullptr));
  CHECK_FALSE(locale_is_utf8(nullptr, nullptr, "C"));
  CHECK_FALSE(locale_is_utf8("C", "C.UTF-8", "C.UTF-8"));  // LC_ALL wins
  CHECK(locale_is_utf8("", "C.UTF-8", "POSIX"));            // an empty variable counts as unset
  CHECK(display_width("\xe2\x9c\x93 0.5") == 5);
}

TEST_CASE("constant statistics never flip the verdict: dead channel, post-ReLU, random conv + ReLU") {
  const Dims d{16, 16, 16, 16};
  const Array<float> clean = synthesize(SynthSpec{d, Distribution::conv_like, 0});
  const CompareConfig config = synth_config(d, {"1", "2", "3", "in"});
  const Json reference = build_compare_report(config, clean);
  REQUIRE(reference["verdict"]["methods_with_every_property"] == std::vector<std::string>{"3"});

  struct Case {
    std::string name;
    Array<float> x;
    std::size_t dead_channels;
  };
  std::vector<Case> cases;
  cases.push_back({"one dead channel", kill_channel(clean, d, 3), 1});
  cases.push_back({"post-ReLU", relu(kill_channel(clean, d, 5)), 1});
  cases.push_back({"random conv + ReLU, two dead channels", conv_relu(clean, d, 11, {2, 9}), 2});
  for (const Case& c : cases) {
    INFO(c.name);
    Json report = build_compare_report(config, c.x);
    const Json& verdict = report["verdict"];
    std::string summary = verdict["summary"];
    INFO(summary);
    CHECK(verdict["methods_with_every_property"] == std::vector<std::string>{"3"});
    CHECK(summary.find("only Method 3 has all") != std::string::npos);
    // Counted in the JSON and the sentence: Method 3's dead channels are constant statistics.
    CHECK(verdict["constant_statistics"]["3"] == c.dead_channels);
    CHECK(report["methods"]["3"]["constant_statistics"] == c.dead_channels);
    CHECK(summary.find(std::to_string(c.dead_channels) + " of 16 for Method 3") != std::string::npos);
    // Every property that holds on clean input holds here too, method by method.
    for (const auto& [key, property] : verdict["properties"].items()) {
      INFO(key);
      CHECK(property["holds"] == reference["verdict"]["properties"][key]["holds"]);
    }
  }
}

TEST_CASE("Method 3 keeps a sample's scale where InstanceNorm and LayerNorm erase it; they work without a batch") {
  Json report = run_compare(synth_config({8, 8, 8, 8}, {"1", "2", "3", "ln", "in", "gn:4"}));
  const Json& props = report["verdict"]["properties"];
  for (const char* id : {"1", "2", "3"}) {
    INFO(id);
    CHECK(props["sample_scale_kept"]["holds"][id] == true);
    CHECK(props["sample_scale_kept"]["values"][id].get<double>() > 0.1);
    CHECK(props["batch_independent"]["holds"][id] == false);
  }
  for (const char* id : {"ln", "in", "gn:4"}) {
    INFO(id);
    CHECK(props["sample_scale_kept"]["holds"][id] == false);
    CHECK(props["sample_scale_kept"]["values"][id].get<double>() < 1e-5);
    CHECK(props["batch_independent"]["holds"][id] == true);
  }
  CHECK(props["sample_scale_kept"]["group"] == "question");
  CHECK(props["batch_independent"]["group"] == "trade_off");
  CHECK(report["verdict"]["methods_with_every_property"] == std::vector<std::string>{"3"});  // not "in"
  const std::string summary = report["verdict"]["summary"];
  INFO(summary);
  CHECK(summary.find("Reference points") != std::string::npos);
  CHECK(summary.find("and sample scale kept; gn:4 lacks") != std::string::npos);  // in's part
  CHECK(summary.find("works without a batch (an image normalized alone, in a batch of one, gives the same output as "
                     "inside the batch): yes for ln, in and gn:4, no for Method 1, Method 2 and Method 3.") != std::string::npos);
}

TEST_CASE("the command writes the JSON report with --output and prints the table") {
  fs::path dir = fs::temp_directory_path() / "bnlab-test-compare-cli";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string report_path = (dir / "report.json").string();
  std::string command = std::string(BNLAB_BINARY) + " compare --shape 4,4,4,4 --format TABLE --output " + report_path +
                        " > " + (dir / "out.txt").string() + " 2>/dev/null";
  REQUIRE(std::system(command.c_str()) == 0);
  Json report = Json::parse(read_text(report_path));
  CHECK(report["schema"] == "bnlab.compare/3");
  CHECK(read_text((dir / "out.txt").string()).rfind("bnlab compare: input (N,C,H,W)=(4,4,4,4)", 0) == 0);

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

TEST_CASE("a terminal gets the table by default; a pipe or --format json gets JSON") {
  const std::string bnlab = std::string(BNLAB_BINARY) + " compare --shape 2,4,4,4";
  CHECK(run_shell(bnlab + " 2>/dev/null").rfind("{", 0) == 0);  // stdout is a file: JSON
  // script(1) runs the command with stdout on a pseudo-terminal.
  if (std::system("command -v script > /dev/null 2>&1") != 0) {
    WARN("script(1) not installed: the terminal case is not tested");
    return;
  }
  const std::string on_tty = run_shell("script -qec '" + bnlab + "' /dev/null 2>/dev/null");
  CHECK(on_tty.find("bnlab compare: input (N,C,H,W)=(2,4,4,4)") != std::string::npos);
  CHECK(on_tty.find("\"schema\"") == std::string::npos);
  const std::string forced = run_shell("script -qec '" + bnlab + " --format json' /dev/null 2>/dev/null");
  CHECK(forced.find("\"schema\"") != std::string::npos);
}

TEST_CASE("--output's directory is checked before any computation") {
  int status = 0;
  const std::string err = run_shell(std::string(BNLAB_BINARY) +
                                        " compare --shape 2,4,4,4 --output /nonexistent-bnlab-dir/r.json 2>&1",
                                    &status);
  CHECK(status == 1);
  CHECK(err == "bnlab: --output: cannot write \"/nonexistent-bnlab-dir/r.json\": directory \"/nonexistent-bnlab-dir\" "
               "does not exist\n");
}

TEST_CASE("a config gives the same report from any working directory and any clone location") {
  const fs::path root = BNLAB_SOURCE_DIR;
  const fs::path elsewhere = fs::temp_directory_path() / ("bnlab-test-cwd-" + std::to_string(::getpid()));
  fs::remove_all(elsewhere);
  fs::create_directories(elsewhere / "clone");
  fs::copy(root / "configs", elsewhere / "clone" / "configs", fs::copy_options::recursive);
  const std::string bnlab = BNLAB_BINARY;
  for (const fs::path& config : {root / "configs/from-file.json", elsewhere / "clone/configs/from-file.json"}) {
    INFO(config.string());
    const std::string report = (elsewhere / "report.json").string();
    int status = 0;
    run_shell("cd " + elsewhere.string() + " && " + bnlab + " compare --config " + config.string() +
                  " --format json --output " + report + " 2>/dev/null",
              &status);
    REQUIRE(status == 0);
    run_shell("cd " + elsewhere.string() + " && " + bnlab + " check --golden " +
                  (root / "tests/golden/from-file.json").string() + " --report " + report,
              &status);
    CHECK(status == 0);
  }
  fs::remove_all(elsewhere);
}
