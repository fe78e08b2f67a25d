// `bnlab explain` (explain.hpp): the counts it prints come from the shape
// (checked here against the plain products of N, C, H, W), every text line
// fits in 80 columns, the "per feature map" section is there, and a GroupNorm
// whose G does not divide C is skipped with a note rather than an error.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/explain/explain.hpp"

using namespace bnlab;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The lines of one method's block: from "[id] ..." to the next blank line.
std::vector<std::string> block_of(const std::string& text, const std::string& id) {
  std::vector<std::string> block;
  bool inside = false;
  for (const std::string& line : lines_of(text)) {
    if (line.rfind("[" + id + "] ", 0) == 0) inside = true;
    else if (inside && line.empty()) break;
    if (inside) block.push_back(line);
  }
  return block;
}

// The value of "    label:   value" in a block (first line of it).
std::string field_of(const std::vector<std::string>& block, const std::string& label) {
  for (const std::string& line : block) {
    std::size_t at = line.find(label + ":");
    if (at == 4) {
      std::size_t value = line.find_first_not_of(' ', at + label.size() + 1);
      return line.substr(value);
    }
  }
  return "";
}

struct Expected {
  std::string id;
  std::size_t num_stats, elements, num_params;
  bool running, other_hw;
};

// N=2, C=6, H=4, W=5, computed plainly from the definitions (docs/properties.md, README "The question").
std::vector<Expected> expected_2645() {
  const std::size_t N = 2, C = 6, H = 4, W = 5, G = 3;
  return {
      {"1", H * W, N * C, H * W, true, false},
      {"2", C * H * W, N, C * H * W, true, false},
      {"3", C, N * H * W, C, true, true},
      {"ln", N, C * H * W, C * H * W, false, false},
      {"in", N * C, H * W, C, false, true},
      {"gn:3", N * G, (C / G) * H * W, C, false, true},
  };
}

const Dims kDims{2, 6, 4, 5};

int exit_code(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string output_of(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  std::size_t got = 0;
  while ((got = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, got);
  pclose(pipe);
  return out;
}

}  // namespace

TEST_CASE("explain_text prints each method's statistic count and size for the shape", "[explain]") {
  std::string text = explain_text(kDims, parse_method_list("1,2,3,ln,in,gn:3", "test"));
  for (const Expected& e : expected_2645()) {
    std::vector<std::string> block = block_of(text, e.id);
    INFO("method " << e.id << "\n" << text);
    REQUIRE(!block.empty());
    std::string stats = field_of(block, "statistics");
    std::string elements = field_of(block, "elements per statistic");
    std::string params = field_of(block, "gamma, beta");
    CHECK(stats.rfind(std::to_string(e.num_stats) + " mean/variance pairs", 0) == 0);
    // "N·C = 2·6 = 12": the value after the last '='.
    CHECK(elements.substr(elements.rfind("= ") + 2) == std::to_string(e.elements));
    CHECK(params.rfind(std::to_string(e.num_params) + " each", 0) == 0);
    CHECK(field_of(block, "running statistics").rfind(e.running ? "yes" : "no", 0) == 0);
    CHECK(field_of(block, "other H×W in eval mode").rfind(e.other_hw ? "yes" : "no", 0) == 0);
  }
}

TEST_CASE("explain_text's counts follow the shape, not fixed numbers", "[explain]") {
  const std::size_t N = 3, C = 8, H = 5, W = 7;
  std::string text = explain_text(Dims{N, C, H, W}, parse_method_list("1,3", "test"));
  INFO(text);
  CHECK(field_of(block_of(text, "3"), "elements per statistic") ==
        "N·H·W = 3·5·7 = " + std::to_string(N * H * W));
  CHECK(field_of(block_of(text, "3"), "statistics") == std::to_string(C) + " mean/variance pairs, shape (8,) over (C)");
  CHECK(field_of(block_of(text, "1"), "statistics") ==
        std::to_string(H * W) + " mean/variance pairs, shape (5, 7) over (H, W)");
  CHECK(field_of(block_of(text, "1"), "elements per statistic") == "N·C = 3·8 = " + std::to_string(N * C));
}

TEST_CASE("explain_text writes Method 3's formula with indices", "[explain]") {
  std::string text = explain_text(kDims, parse_method_list("3", "test"));
  INFO(text);
  CHECK(text.find("    mu_c = 1/(N·H·W) Σ_{n,h,w} x[n,c,h,w]\n") != std::string::npos);
  CHECK(text.find("    sigma²_c = 1/(N·H·W) Σ_{n,h,w} (x[n,c,h,w] - mu_c)²\n") != std::string::npos);
  CHECK(text.find("    xhat[n,c,h,w] = (x[n,c,h,w] - mu_c) / sqrt(sigma²_c + eps)\n") != std::string::npos);
  CHECK(text.find("    y[n,c,h,w] = gamma_c · xhat[n,c,h,w] + beta_c\n") != std::string::npos);
  CHECK(field_of(block_of(text, "3"), "reduce axes") == "N, H, W");
}

TEST_CASE("every line of explain_text fits in 80 columns", "[explain]") {
  const std::vector<Dims> shapes = {{2, 6, 4, 5}, {1, 1, 1, 1}, {16, 16, 16, 16}, {256, 2048, 7, 7},
                                    {12345, 65432, 1024, 2048}};
  auto methods = parse_method_list("1,2,3,ln,in,gn:1,gn:32,gn:7", "test");
  for (const Dims& d : shapes) {
    std::string text = explain_text(d, methods);
    for (const std::string& line : lines_of(text)) {
      INFO("shape " << d.n << "," << d.c << "," << d.h << "," << d.w << ": " << display_width(line) << " columns: "
                    << line);
      CHECK(display_width(line) <= 80);
    }
  }
}

TEST_CASE("display_width counts code points, not bytes", "[explain]") {
  CHECK(display_width("Σ_{n,h,w} sigma²·") == 17);
  CHECK(display_width("") == 0);
}

TEST_CASE("explain_text ends with what 'per feature map' means", "[explain]") {
  std::string text = explain_text(kDims, parse_method_list("1,2", "test"));  // even without Method 3 listed
  INFO(text);
  std::size_t section = text.find("What does \"per feature map\" mean?\n");
  REQUIRE(section != std::string::npos);
  CHECK(text.find("[2] ") < section);
  std::string tail = text.substr(section);
  // Lines are wrapped, so look for phrases that fit on one line.
  CHECK(tail.find("Ioffe & Szegedy 2015") != std::string::npos);
  CHECK(tail.find("one channel c") != std::string::npos);
  CHECK(tail.find("m' = m·p·q") != std::string::npos);
  CHECK(tail.find("2·4·5 = 40") != std::string::npos);
  CHECK(tail.find("That is Method 3") != std::string::npos);
  CHECK(tail.find("Methods 1 and 2 break the convolutional property") != std::string::npos);
}

TEST_CASE("gn:G with C % G != 0 gives a note, not an error", "[explain]") {
  auto methods = parse_method_list("3,gn:4", "test");  // C = 6
  std::string text;
  REQUIRE_NOTHROW(text = explain_text(kDims, methods));
  INFO(text);
  CHECK(text.find("note: skipped method gn:4: C=6 is not a multiple of G=4") != std::string::npos);
  CHECK(block_of(text, "gn:4").empty());
  CHECK(!block_of(text, "3").empty());

  nlohmann::ordered_json doc;
  REQUIRE_NOTHROW(doc = explain_json(kDims, methods));
  CHECK(!doc["methods"].contains("gn:4"));
  REQUIRE(doc["skipped"].size() == 1);
  CHECK(doc["skipped"][0]["method"] == "gn:4");
}

TEST_CASE("explain_json carries the same counts under schema bnlab.explain/1", "[explain]") {
  nlohmann::ordered_json doc = explain_json(kDims, parse_method_list("1,2,3,ln,in,gn:3", "test"));
  INFO(doc.dump(2));
  CHECK(doc["schema"] == "bnlab.explain/1");
  CHECK(doc["shape"] == nlohmann::ordered_json({2, 6, 4, 5}));
  REQUIRE(doc["methods"].size() == 6);
  for (const Expected& e : expected_2645()) {
    INFO("method " << e.id);
    const auto& m = doc["methods"][e.id];
    CHECK(m["num_statistics"] == e.num_stats);
    CHECK(m["elements_per_statistic"] == e.elements);
    CHECK(m["num_parameters"] == e.num_params);
    CHECK(m["has_running_statistics"] == e.running);
    CHECK(m["other_spatial_size_in_eval"] == e.other_hw);
    std::size_t stat_product = 1;
    for (const auto& extent : m["stat_shape"]) stat_product *= extent.get<std::size_t>();
    CHECK(stat_product == e.num_stats);
  }
  const auto& m3 = doc["methods"]["3"];
  std::vector<std::string> keys;
  for (auto it = m3.begin(); it != m3.end(); ++it) keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"title", "formula", "reduce_axes", "stat_axes", "stat_shape",
                                         "num_statistics", "elements_per_statistic", "param_axes", "param_shape",
                                         "num_parameters", "has_running_statistics", "other_spatial_size_in_eval"});
  CHECK(m3["reduce_axes"] == nlohmann::ordered_json({"N", "H", "W"}));
  CHECK(m3["param_shape"] == nlohmann::ordered_json({6}));
  CHECK(doc["methods"]["gn:3"]["stat_axes"] == nlohmann::ordered_json({"N", "G"}));
  CHECK(doc["per_feature_map"]["method"] == "3");
  CHECK(doc["per_feature_map"]["effective_batch_size"] == 2 * 4 * 5);
}

TEST_CASE("bnlab explain runs with a shape, in text and JSON", "[explain][cli]") {
  std::string bin = BNLAB_BINARY;
  CHECK(exit_code(bin + " explain --shape 2,6,4,5 >/dev/null") == 0);
  std::string text = output_of(bin + " explain --shape 2,6,4,5");
  CHECK(text == explain_text(kDims, parse_method_list("1,2,3,ln,in,gn:4", "test")));  // the defaults
  std::string json_text = output_of(bin + " explain --shape 2,6,4,5 --methods 3,gn:3 --format json");
  auto doc = nlohmann::ordered_json::parse(json_text);
  CHECK(doc == explain_json(kDims, parse_method_list("3,gn:3", "test")));
}

TEST_CASE("bnlab explain rejects a bad shape with exit code 1", "[explain][cli]") {
  CHECK(exit_code(std::string(BNLAB_BINARY) + " explain --shape 2,6,4 2>/dev/null >/dev/null") == 1);
  CHECK(exit_code(std::string(BNLAB_BINARY) + " explain --methods 3,7 2>/dev/null >/dev/null") == 1);
}
