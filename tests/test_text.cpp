// The text helpers of core/: JSON pointers, numbers and previews in messages,
// comma-separated lists.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "bnlab/core/json_text.hpp"
#include "bnlab/core/split.hpp"

using namespace bnlab;

TEST_CASE("an object key becomes one RFC 6901 pointer token") {
  CHECK(json_pointer_token("eps") == "eps");
  CHECK(json_pointer_token("a/b") == "a~1b");
  CHECK(json_pointer_token("~/") == "~0~1");  // "~" first, so "~1" is never read back as "/"
  CHECK(json_pointer_token("") == "");
}

TEST_CASE("numbers read as a user wrote them, including the ones JSON cannot hold") {
  CHECK(number_text(0.1) == "0.1");
  CHECK(number_text(1e-5) == "1e-05");
  CHECK(number_text(-2.0) == "-2.0");
  CHECK(number_text(std::numeric_limits<double>::quiet_NaN()) == "nan");
  CHECK(number_text(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(number_text(-std::numeric_limits<double>::infinity()) == "-inf");
}

TEST_CASE("a value preview is compact JSON on one line, cut to kPreviewChars") {
  CHECK(json_preview(nlohmann::json::parse(R"({"a": [1, 2]})")) == R"({"a":[1,2]})");
  CHECK(json_preview(nlohmann::ordered_json::parse(R"({"b": 1, "a": 2})")) == R"({"b":1,"a":2})");
  CHECK(json_preview(nlohmann::json(0.25)) == "0.25");
  const std::string cut = json_preview(nlohmann::json(std::string(100, 'x')));
  CHECK(cut.size() == kPreviewChars);
  CHECK(cut.substr(0, 2) == "\"x");
  CHECK(cut.substr(cut.size() - 3) == "...");
  CHECK(json_preview(nlohmann::json("line\nbreak")) == R"("line\nbreak")");  // still one line
}

TEST_CASE("comma lists split verbatim, empty fields kept for the caller to reject") {
  using V = std::vector<std::string>;
  CHECK(split_commas("1,2,3") == V{"1", "2", "3"});
  CHECK(split_commas("gn:8") == V{"gn:8"});
  CHECK(split_commas("") == V{""});
  CHECK(split_commas("a,,b,") == V{"a", "", "b", ""});
}
