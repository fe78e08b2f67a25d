// The experiment config of `bnlab compare` (compare_config.hpp): the shipped
// configs, the strict parser (every error names the file and the JSON path),
// relative input paths, command-line overrides and the effective
// configuration written into reports. Runs with the repo root as working
// directory (CMake's WORKING_DIRECTORY), so "configs/..." paths are relative.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bnlab/report/compare_config.hpp"
#include "bnlab/core/error.hpp"
#include "support/test_support.hpp"

namespace fs = std::filesystem;
using bnlab::CompareConfig;
using bnlab::CompareOverrides;
using bnlab::Error;
using Catch::Contains;

namespace {

// A fresh directory under the system temp dir, removed at the end of the test.
using testing::TempDir;

// The message of the Error that loading `text` as a config throws ("" if none).
std::string load_error(const std::string& text) {
  TempDir dir;
  const std::string path = dir.write("c.json", text);
  try {
    bnlab::load_compare_config(path);
  } catch (const Error& e) {
    std::string message = e.what();
    // Strip the temporary path so that tests can match from the JSON path on.
    if (message.rfind(path + ": ", 0) == 0) return message.substr(path.size() + 2);
    return "(message does not start with the path) " + message;
  }
  return "";
}

CompareConfig load_text(const TempDir& dir, const std::string& text) {
  return bnlab::load_compare_config(dir.write("c.json", text));
}

std::string apply_error(CompareConfig config, const CompareOverrides& overrides) {
  try {
    bnlab::apply_overrides(config, overrides);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

const std::vector<std::string> kShipped = {"configs/default.json", "configs/heterogeneous-channels.json",
                                           "configs/small-batch.json", "configs/from-file.json"};

}  // namespace

// ---- the shipped configs ---------------------------------------------------------

TEST_CASE("every config in configs/ loads, says what it shows, and has its input file") {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator("configs")) {
    if (entry.path().extension() == ".json") found.push_back(entry.path().generic_string());
  }
  for (const std::string& name : kShipped) {
    INFO(name);
    CHECK(std::find(found.begin(), found.end(), name) != found.end());
  }
  for (const std::string& name : found) {
    INFO(name);
    CompareConfig config;
    REQUIRE_NOTHROW(config = bnlab::load_compare_config(name));
    CHECK(config.description.size() > 40);
    if (config.input) CHECK(fs::is_regular_file(*config.input));
  }
}

TEST_CASE("configs/default.json is the embedded default") {
  const CompareConfig file = bnlab::load_compare_config("configs/default.json");
  CHECK(bnlab::to_json(file) == bnlab::to_json(CompareConfig{}));
  CHECK(file.format == CompareConfig{}.format);
  CHECK_FALSE(file.output.has_value());
}

TEST_CASE("the shipped configs set up the experiments they describe") {
  const CompareConfig hetero = bnlab::load_compare_config("configs/heterogeneous-channels.json");
  CHECK(hetero.source() == "synth");
  CHECK(hetero.dist == "conv-like");
  CHECK(hetero.shape.c >= 16);
  CHECK(hetero.methods == std::vector<std::string>{"1", "2", "3"});

  const CompareConfig small = bnlab::load_compare_config("configs/small-batch.json");
  CHECK(small.source() == "synth");
  CHECK(small.shape.n == 2);
  CHECK(small.methods == std::vector<std::string>{"1", "2", "3"});

  const CompareConfig from_file = bnlab::load_compare_config("configs/from-file.json");
  CHECK(from_file.source() == "npy");
  CHECK(from_file.input == std::string("configs/data/activations.npy"));  // resolved against configs/
  CHECK(from_file.layout == "NCHW");
}

// ---- the parser: files and JSON ----------------------------------------------------

TEST_CASE("a missing file is an error naming it") {
  TempDir dir;
  const std::string path = (dir.path / "nope.json").string();
  CHECK_THROWS_WITH(bnlab::load_compare_config(path), Contains(path + ": cannot read"));
  // A directory is refused by type (io/regular_file.hpp).
  CHECK_THROWS_WITH(bnlab::load_compare_config(dir.path.string()),
                    Contains(dir.path.string() + ": not a regular file (a directory)"));
}

TEST_CASE("invalid JSON is one line naming the file and where it broke") {
  const std::string message = load_error("{\n  \"seed\": 1,\n  \"eps\": \n}\n");
  INFO(message);
  CHECK_THAT(message, Contains("invalid JSON: ") && Contains("line 4"));
  CHECK(message.find('\n') == std::string::npos);
  CHECK_THAT(load_error(""), Contains("invalid JSON"));
  CHECK_THAT(load_error("{\"seed\": 1} trailing"), Contains("invalid JSON"));
  CHECK_THAT(load_error("{\"seed\": 1, // comment\n}"), Contains("invalid JSON"));
}

TEST_CASE("the top level must be an object") {
  CHECK_THAT(load_error("[1, 2, 3]"), Contains("/: expected an object, got [1,2,3]"));
  CHECK_THAT(load_error("\"1,2,3\""), Contains("/: expected an object"));
}

TEST_CASE("an empty object is the embedded default") {
  TempDir dir;
  CHECK(bnlab::to_json(load_text(dir, "{}")) == bnlab::to_json(CompareConfig{}));
}

TEST_CASE("an unknown key is an error listing the valid keys") {
  CHECK(load_error("{\"seed\": 1, \"sed\": 2}") ==
        "/sed: unknown key; did you mean \"seed\"? (valid: description, methods, source, input, layout, layers, shape, dist, seed, eps, "
        "momentum, format, output)");
  CHECK_THAT(load_error("{\"synth\": {\"shape\": [1, 1, 1, 1]}}"), Contains("/synth: unknown key"));
  CHECK_THAT(load_error("{\"Seed\": 1}"), Contains("/Seed: unknown key"));  // keys are case-sensitive
  CHECK_THAT(load_error("{\"a/b\": 1}"), Contains("/a~1b: unknown key"));   // JSON pointer escaping
}

TEST_CASE("a repeated key is an error, not a silent last-one-wins") {
  CHECK(load_error("{\"seed\": 1, \"eps\": 0.1, \"seed\": 2}") == "/seed: duplicate key");
}

TEST_CASE("a wrong type for any key names the key and shows the value") {
  struct Case {
    std::string json, expected;
  };
  const std::vector<Case> cases = {
      {R"({"description": 3})", "/description: expected a string, got 3"},
      {R"({"methods": 3})", "/methods: expected an array of method names or a string"},
      {R"({"methods": {"a": "1"}})", "/methods: expected an array of method names"},
      {R"({"methods": ["1", 2]})", "/methods/1: expected a method name string such as \"3\", got 2"},
      {R"({"source": true})", "/source: expected a string, got true"},
      {R"({"input": ["x.npy"]})", "/input: expected a string, got [\"x.npy\"]"},
      {R"({"input": "x.npy", "layout": 1})", "/layout: expected a string, got 1"},
      {R"({"shape": "16,16,16,16"})", "/shape: expected an array of 4 positive integers [N, C, H, W], got \"16,16,16,16\""},
      {R"({"shape": [16, 16, 16]})", "/shape: expected an array of 4 positive integers [N, C, H, W], got [16,16,16]"},
      {R"({"shape": [16, 16, 16, 16, 1]})", "/shape: expected an array of 4 positive integers"},
      {R"({"shape": [16, 16, "16", 16]})", "/shape/2: expected a positive integer, got \"16\""},
      {R"({"shape": [16, 16, 2.5, 16]})", "/shape/2: expected a positive integer, got 2.5"},
      {R"({"dist": null})", "/dist: expected a string, got null"},
      {R"({"seed": "x"})", "/seed: expected a non-negative integer, got \"x\""},
      {R"({"eps": "1e-5"})", "/eps: expected a number in [0, 1], got \"1e-5\""},
      {R"({"momentum": [0.1]})", "/momentum: expected a number in [0, 1], got [0.1]"},
      {R"({"format": false})", "/format: expected a string, got false"},
      {R"({"output": 1})", "/output: expected a string, got 1"},
  };
  for (const Case& c : cases) {
    INFO(c.json);
    CHECK_THAT(load_error(c.json), Contains(c.expected));
  }
}

TEST_CASE("a long value is shown cut short, on one line") {
  const std::string message = load_error("{\"seed\": \"" + std::string(500, 'x') + "\"}");
  INFO(message);
  CHECK_THAT(message, Contains("/seed: expected a non-negative integer, got \"xxx") && Contains("..."));
  CHECK(message.size() < 150);
}

// ---- the parser: values ------------------------------------------------------------

TEST_CASE("shape extents must be >= 1, and the tensor not absurdly large") {
  CHECK(load_error(R"({"shape": [16, 16, 0, 16]})") == "/shape/2: must be >= 1 (got 0)");
  CHECK(load_error(R"({"shape": [-1, 16, 16, 16]})") == "/shape/0: must be >= 1 (got -1)");
  CHECK_THAT(load_error(R"({"shape": [1024, 1024, 1024, 1024]})"),
             Contains("/shape: [1024,1024,1024,1024] has 1099511627776 elements, more than the limit"));
  CHECK_THAT(load_error(R"({"shape": [18446744073709551615, 2, 1, 1]})"), Contains("more than 2^64"));
  TempDir dir;
  CHECK(load_text(dir, R"({"shape": [1, 1, 1, 1]})").shape == bnlab::Dims{1, 1, 1, 1});
}

TEST_CASE("eps and momentum must be in [0, 1]") {
  CHECK(load_error(R"({"eps": -1e-5})") == "/eps: must be in [0, 1] (got -1e-05)");
  CHECK(load_error(R"({"eps": 2})") == "/eps: must be in [0, 1] (got 2)");
  CHECK(load_error(R"({"momentum": 1.5})") == "/momentum: must be in [0, 1] (got 1.5)");
  CHECK(load_error(R"({"momentum": -0.1})") == "/momentum: must be in [0, 1] (got -0.1)");
  TempDir dir;
  const CompareConfig edges = load_text(dir, R"({"eps": 0, "momentum": 1})");  // integers are numbers too
  CHECK(edges.eps == 0.0);
  CHECK(edges.momentum == 1.0);
}

TEST_CASE("seed must be a non-negative integer; every uint64 is accepted") {
  CHECK(load_error(R"({"seed": -1})") == "/seed: expected a non-negative integer, got -1");
  CHECK(load_error(R"({"seed": 1.5})") == "/seed: expected a non-negative integer, got 1.5");
  CHECK(load_error(R"({"seed": 1.0})") == "/seed: expected a non-negative integer, got 1.0");
  CHECK_THAT(load_error(R"({"seed": 18446744073709551616})"), Contains("/seed: expected a non-negative integer"));
  TempDir dir;
  CHECK(load_text(dir, R"({"seed": 18446744073709551615})").seed == 18446744073709551615ull);
}

TEST_CASE("an unknown method is reported at its exact path, with the valid names") {
  CHECK(load_error(R"({"methods": ["1", "2", "4"]})") ==
        "/methods/2: unknown method \"4\" (valid: 1, 2, 3, bn, ln, in, gn:G)");
  CHECK_THAT(load_error(R"({"methods": ["1", "gn:0"]})"), Contains("/methods/1: method \"gn:0\": G must be"));
  CHECK_THAT(load_error(R"({"methods": "1,2,4"})"), Contains("/methods: unknown method \"4\""));
}

TEST_CASE("a method listed twice is an error, aliases included") {
  CHECK(load_error(R"({"methods": ["3", "1", "bn"]})") ==
        "/methods/2: method \"bn\" is listed twice (same as \"3\" at /methods/0)");
  CHECK_THAT(load_error(R"({"methods": "1,2,1"})"), Contains("/methods: method \"1\" is listed twice"));
}

TEST_CASE("methods: canonical ids in order, from an array or a comma-separated string") {
  TempDir dir;
  CHECK(load_text(dir, R"({"methods": ["bn", "gn:04", "ln", "in", "1"]})").methods ==
        std::vector<std::string>{"3", "gn:4", "ln", "in", "1"});
  CHECK(load_text(dir, R"({"methods": "2,bn,gn:8"})").methods == std::vector<std::string>{"2", "3", "gn:8"});
  CHECK(load_error(R"({"methods": []})") == "/methods: expected at least one method, got []");
}

TEST_CASE("enumerations are checked and listed: layout, dist, format, source") {
  CHECK_THAT(load_error(R"({"input": "x.npy", "layout": "NWHC"})"),
             Contains("/layout: unknown data layout \"NWHC\" (valid: NCHW, NHWC)"));
  CHECK_THAT(load_error(R"({"dist": "gaussian"})"),
             Contains("/dist: unknown distribution \"gaussian\" (valid: normal, conv-like, offset)"));
  CHECK(load_error(R"({"format": "xml"})") == "/format: unknown format \"xml\" (valid: json, table)");
  CHECK(load_error(R"({"source": "file"})") == "/source: unknown source \"file\" (valid: synth, npy, npz)");
  TempDir dir;
  CHECK(load_text(dir, R"({"input": "x.npy", "layout": "nhwc"})").layout == "NHWC");  // stored canonical
  CHECK(load_text(dir, R"({"format": "table"})").format == "table");
}

TEST_CASE("input cannot be combined with shape or dist") {
  const std::string expected = "/input: cannot be combined with /shape or /dist (the tensor comes from the file)";
  CHECK(load_error(R"({"input": "x.npy", "shape": [2, 3, 4, 5]})") == expected);
  CHECK(load_error(R"({"dist": "normal", "input": "x.npy"})") == expected);
}

TEST_CASE("layout only applies to an input file") {
  CHECK(load_error(R"({"layout": "NHWC"})") == "/layout: only applies to /input (a synthesized tensor is NCHW)");
}

TEST_CASE("source, when given, must agree with input") {
  CHECK(load_error(R"({"source": "npy"})") == "/source: \"npy\" needs /input (the .npy file to read)");
  CHECK(load_error(R"({"source": "synth", "input": "x.npy"})") == "/source: \"synth\" cannot be combined with /input");
  TempDir dir;
  CHECK(load_text(dir, R"({"source": "npy", "input": "x.npy"})").source() == "npy");
  CHECK(load_text(dir, R"({"source": "synth"})").source() == "synth");
}

TEST_CASE("empty paths are errors") {
  CHECK(load_error(R"({"input": ""})") == "/input: expected a path, got \"\"");
  CHECK(load_error(R"({"output": ""})") == "/output: expected a path, got \"\"");
}

TEST_CASE("a relative input is resolved against the config file's directory, normalized") {
  TempDir dir;
  const fs::path sub = dir.path / "experiments";
  auto load_input = [&](const std::string& input) {
    return *bnlab::load_compare_config(dir.write("experiments/c.json", "{\"input\": \"" + input + "\"}")).input;
  };
  CHECK(load_input("data/x.npy") == (sub / "data/x.npy").string());
  CHECK(load_input("./data/../data/x.npy") == (sub / "data/x.npy").string());
  CHECK(load_input("../x.npy") == (dir.path / "x.npy").lexically_normal().string());
  CHECK(load_input("/abs/./x.npy") == "/abs/x.npy");  // absolute: kept, normalized

  // A relative config path gives a relative input path (relative to the working directory).
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.path);
  CompareConfig config;
  try {
    dir.write("experiments/r.json", R"({"input": "../data/x.npy", "output": "out/report.json"})");
    config = bnlab::load_compare_config("experiments/r.json");
  } catch (...) {
    fs::current_path(cwd);
    throw;
  }
  fs::current_path(cwd);
  CHECK(config.input == std::string("data/x.npy"));
  CHECK(config.output == std::string("out/report.json"));  // output stays relative to the working directory
}

// ---- command-line overrides ----------------------------------------------------------

TEST_CASE("overrides: options given on the command line beat the file, the others keep it") {
  TempDir dir;
  CompareConfig config = load_text(dir, R"({"methods": ["1", "2"], "shape": [4, 8, 6, 6], "dist": "offset",
      "seed": 5, "eps": 0.001, "momentum": 0.2, "format": "table", "output": "a.json", "description": "d"})");
  CompareOverrides o;
  o.methods = "bn,gn:2";
  o.seed = 9;
  o.eps = 0.5;
  o.format = "json";
  bnlab::apply_overrides(config, o);
  CHECK(config.methods == std::vector<std::string>{"3", "gn:2"});
  CHECK(config.seed == 9);
  CHECK(config.eps == 0.5);
  CHECK(config.format == "json");
  // Not given: kept from the file.
  CHECK(config.shape == bnlab::Dims{4, 8, 6, 6});
  CHECK(config.dist == "offset");
  CHECK(config.momentum == 0.2);
  CHECK(config.output == std::string("a.json"));
  CHECK(config.description == "d");

  CompareOverrides rest;
  rest.momentum = 0.0;
  rest.output = "b.json";
  rest.shape = "2,3,4,5";
  bnlab::apply_overrides(config, rest);
  CHECK(config.momentum == 0.0);
  CHECK(config.output == std::string("b.json"));
  CHECK(config.shape == bnlab::Dims{2, 3, 4, 5});
  CHECK(config.dist == "offset");
}

TEST_CASE("overrides: --input switches the source to npy") {
  CompareConfig config;  // synth
  CompareOverrides o;
  o.input = "x.npy";
  o.layout = "nhwc";
  bnlab::apply_overrides(config, o);
  CHECK(config.source() == "npy");
  CHECK(config.input == std::string("x.npy"));  // relative to the working directory, as given
  CHECK(config.layout == "NHWC");
}

TEST_CASE("overrides: --shape or --dist switch the source to synth and clear input and layout") {
  TempDir dir;
  for (const bool use_shape : {true, false}) {
    INFO((use_shape ? "--shape" : "--dist"));
    CompareConfig config = load_text(dir, R"({"input": "x.npy", "layout": "NHWC"})");
    CompareOverrides o;
    if (use_shape) o.shape = "2,3,4,5";
    else o.dist = "normal";
    bnlab::apply_overrides(config, o);
    CHECK(config.source() == "synth");
    CHECK_FALSE(config.input.has_value());
    CHECK(config.layout == "NCHW");
    CHECK(config.shape == (use_shape ? bnlab::Dims{2, 3, 4, 5} : bnlab::Dims{16, 16, 16, 16}));
    CHECK(config.dist == (use_shape ? "conv-like" : "normal"));
  }
}

TEST_CASE("overrides: --input with --shape or --dist is an error naming both, and changes nothing") {
  CompareConfig config;
  const std::string before = bnlab::to_json(config).dump();
  CompareOverrides o;
  o.input = "x.npy";
  o.shape = "2,3,4,5";
  o.seed = 3;
  CHECK_THAT(apply_error(config, o), Contains("--input: cannot be combined with --shape"));
  o.shape.reset();
  o.dist = "normal";
  CHECK_THAT(apply_error(config, o), Contains("--input: cannot be combined with --dist"));
  o.shape = "2,3,4,5";
  CHECK_THAT(apply_error(config, o), Contains("--input: cannot be combined with --shape and --dist"));
  CHECK_THROWS_AS(bnlab::apply_overrides(config, o), Error);
  CHECK(bnlab::to_json(config).dump() == before);
}

TEST_CASE("overrides: --layout needs an input file") {
  CompareConfig config;
  CompareOverrides o;
  o.layout = "NHWC";
  CHECK(apply_error(config, o) == "--layout: only applies to --input (a synthesized tensor is NCHW)");
  config.input = "from-the-file.npy";  // the file gave input: --layout alone is fine
  CHECK(apply_error(config, o) == "");
}

TEST_CASE("overrides: bad values name the option") {
  struct Case {
    CompareOverrides o;
    std::string expected;
  };
  std::vector<Case> cases(9);
  cases[0].o.methods = "1,4";
  cases[0].expected = "--methods: unknown method \"4\" (valid: 1, 2, 3, bn, ln, in, gn:G)";
  cases[1].o.methods = "3,bn";
  cases[1].expected = "--methods: method \"bn\" is listed twice";
  cases[2].o.shape = "2,0,4,5";
  cases[2].expected = "--shape: every extent must be >= 1";
  cases[3].o.shape = "1024,1024,1024,1024";
  cases[3].expected = "--shape: \"1024,1024,1024,1024\" has 1099511627776 elements, more than the limit";
  cases[4].o.dist = "uniform";
  cases[4].expected = "--dist: unknown distribution \"uniform\"";
  cases[5].o.eps = -1.0;
  cases[5].expected = "--eps: must be in [0, 1] (got -1.0)";
  cases[6].o.momentum = std::nan("");
  cases[6].expected = "--momentum: must be in [0, 1] (got nan)";
  cases[7].o.format = "xml";
  cases[7].expected = "--format: unknown format \"xml\" (valid: json, table)";
  cases[8].o.input = "";
  cases[8].expected = "--input: expected a path";
  for (const Case& c : cases) {
    INFO(c.expected);
    CHECK_THAT(apply_error(CompareConfig{}, c.o), Contains(c.expected));
  }
}

// ---- the effective configuration ----------------------------------------------------

TEST_CASE("to_json: fixed key order, and no presentation keys") {
  CompareConfig config;
  config.format = "table";
  config.output = "r.json";
  config.description = "presentation";
  CHECK(bnlab::to_json(config).dump() ==
        R"({"methods":["1","2","3"],"source":"synth","shape":[16,16,16,16],"dist":"conv-like",)"
        R"("seed":0,"eps":1e-05,"momentum":0.1})");

  config.input = "configs/data/activations.npy";
  config.layout = "NHWC";
  config.methods = {"3", "gn:4"};
  config.seed = 7;
  CHECK(bnlab::to_json(config).dump() ==
        R"({"methods":["3","gn:4"],"source":"npy","input":"configs/data/activations.npy","layout":"NHWC",)"
        R"("seed":7,"eps":1e-05,"momentum":0.1})");
}

TEST_CASE("to_json is itself a config file that describes the same experiment") {
  TempDir dir;
  CompareConfig synth;
  synth.methods = {"2", "ln"};
  synth.shape = {3, 4, 5, 6};
  synth.dist = "offset";
  synth.seed = 42;
  synth.eps = 0.25;
  synth.momentum = 0.75;
  CompareConfig npy;
  npy.input = (dir.path / "x.npy").string();  // absolute, so it does not depend on where the file sits
  npy.layout = "NHWC";
  for (const CompareConfig& config : {synth, npy}) {
    const nlohmann::ordered_json j = bnlab::to_json(config);
    INFO(j.dump());
    CHECK(bnlab::to_json(load_text(dir, j.dump(2))) == j);
  }
}

TEST_CASE("layers: .npz arrays to compare, in a config file or with --layers") {
  TempDir dir;
  const std::string npz = (dir.path / "acts.npz").string();
  const CompareConfig listed = load_text(dir, R"({"input": ")" + npz + R"(", "layers": ["conv1", "layer1.0.conv1"]})");
  CHECK(listed.layers == std::vector<std::string>{"conv1", "layer1.0.conv1"});
  CHECK(listed.source() == "npz");
  const nlohmann::ordered_json j = bnlab::to_json(listed);
  CHECK(j["source"] == "npz");
  CHECK(j["layers"] == nlohmann::ordered_json{"conv1", "layer1.0.conv1"});
  CHECK(bnlab::to_json(load_text(dir, j.dump())) == j);  // still a config file
  CHECK(load_text(dir, R"({"input": "a.npz", "layers": "x,y"})").layers == std::vector<std::string>{"x", "y"});

  CHECK(load_error(R"({"layers": ["x"]})") == "/layers: only applies to /input (the arrays of an .npz archive)");
  CHECK(load_error(R"({"input": "a.npz", "layers": []})") == "/layers: expected at least one layer name");
  CHECK(load_error(R"({"input": "a.npz", "layers": "x,,y"})") == "/layers: layer name 2 is empty");
  CHECK(load_error(R"({"input": "a.npz", "layers": ["x", "x"]})") == "/layers: layer \"x\" is listed twice");
  CHECK(load_error(R"({"input": "a.npz", "layers": [1]})") == "/layers/0: expected a string, got 1");
  CHECK(load_error(R"({"source": "npz"})") == "/source: \"npz\" needs /input (the .npz archive to read)");

  CompareOverrides only_layers;
  only_layers.layers = "conv1";
  CHECK(apply_error(CompareConfig{}, only_layers) == "--layers: only applies to --input (the arrays of an .npz archive)");
  CompareOverrides with_input = only_layers;
  with_input.input = "acts.npz";
  CompareConfig config;
  bnlab::apply_overrides(config, with_input);
  CHECK(config.layers == std::vector<std::string>{"conv1"});
  CompareOverrides to_synth;
  to_synth.shape = "2,3,4,5";
  bnlab::apply_overrides(config, to_synth);  // back to a synthesized tensor: no layers
  CHECK(config.layers.empty());
}
