// Comparing two JSON reports (report_check.hpp) and `bnlab check`: every kind
// of difference is reported at the right JSON pointer with both values, the
// tolerance |a - b| <= atol + rtol * max(|a|, |b|) is applied to numbers only,
// and the command exits 0 when the reports agree, 1 when they differ.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bnlab/core/error.hpp"
#include "bnlab/check/report_check.hpp"
#include "support/test_support.hpp"

using bnlab::compare_reports;
using bnlab::ReportDifference;
using nlohmann::json;

namespace {

// A report shaped like the ones bnlab writes.
json golden_report() {
  return json::parse(R"({
    "schema": "bnlab.compare/1",
    "config": {"shape": [2, 6, 4, 5], "seed": 7, "affine": "natural", "threads": null},
    "methods": {
      "2": {"output": {"global": {"mean": 0.0, "std": 1.0000000000000002}}},
      "3": {"invariance": {"global_shift": {"rel_error": 1e-17, "equivariant": true}}},
      "ln": {"output": {"global": {"mean": 0.0, "std": 1.0}}}
    },
    "samples": [1.5, -2.25, 3]
  })");
}

std::string describe(const std::vector<ReportDifference>& diffs) {
  std::string out;
  for (const auto& d : diffs) out += "  " + d.path + ": " + d.description + "\n";
  return out;
}

using testing::Run;
using testing::run;
using testing::TempDir;

}  // namespace

TEST_CASE("identical reports have no differences", "[check]") {
  auto diffs = compare_reports(golden_report(), golden_report(), 1e-6, 1e-12);
  INFO(describe(diffs));
  CHECK(diffs.empty());
}

TEST_CASE("numbers_compared counts every number pair, and only numbers", "[check]") {
  std::size_t count = 0;
  compare_reports(golden_report(), golden_report(), 1e-6, 1e-12, &count);
  // shape 4 + seed 1 + (mean, std) for 2 and ln + rel_error 1 + samples 3 = 13
  CHECK(count == 13);
  compare_reports(json::parse(R"({"a": "x", "b": true, "c": null, "d": []})"),
                  json::parse(R"({"a": "x", "b": true, "c": null, "d": []})"), 1e-6, 1e-12, &count);
  CHECK(count == 0);
}

TEST_CASE("a number within rtol is not a difference", "[check]") {
  json report = golden_report();
  report["methods"]["2"]["output"]["global"]["std"] = 1.0000004;  // rel diff 4e-7 < 1e-6
  report["samples"][0] = 1.5 * (1 + 5e-7);
  auto diffs = compare_reports(golden_report(), report, 1e-6, 1e-12);
  INFO(describe(diffs));
  CHECK(diffs.empty());
}

TEST_CASE("a number outside the tolerance is reported at its pointer with both values", "[check]") {
  json report = golden_report();
  report["methods"]["2"]["output"]["global"]["std"] = 0.99;
  auto diffs = compare_reports(golden_report(), report, 1e-6, 1e-12);
  INFO(describe(diffs));
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0].path == "/methods/2/output/global/std");
  CHECK(diffs[0].description.find("golden 1.0000000000000002") != std::string::npos);
  CHECK(diffs[0].description.find("report 0.99") != std::string::npos);
  CHECK(diffs[0].description.find("rel diff 1.0e-02") != std::string::npos);
}

TEST_CASE("the tolerance is atol + rtol * max(|a|, |b|) on both sides of the boundary", "[check]") {
  json golden = {{"x", 1000.0}};
  // rtol 1e-3: tolerance 1.0 (plus the larger magnitude's share).
  CHECK(compare_reports(golden, json{{"x", 1000.9}}, 1e-3, 0.0).empty());
  CHECK(compare_reports(golden, json{{"x", 999.1}}, 1e-3, 0.0).empty());
  CHECK(compare_reports(golden, json{{"x", 1001.2}}, 1e-3, 0.0).size() == 1);
  CHECK(compare_reports(golden, json{{"x", 998.8}}, 1e-3, 0.0).size() == 1);
  // The scale is the larger magnitude: 1.0005 <= 1e-3 * 1001.0005, but > 1e-3 * 1000.
  CHECK(compare_reports(golden, json{{"x", 1001.0005}}, 1e-3, 0.0).empty());
  CHECK(compare_reports(json{{"x", 1001.0005}}, golden, 1e-3, 0.0).empty());
  // rtol 0: only atol counts.
  CHECK(compare_reports(golden, json{{"x", 1000.4}}, 0.0, 0.5).empty());
  CHECK(compare_reports(golden, json{{"x", 1000.6}}, 0.0, 0.5).size() == 1);
}

TEST_CASE("atol absorbs differences between tiny values that rtol alone would flag", "[check]") {
  json golden = {{"rel_error", 1e-17}};
  json report = {{"rel_error", 3e-17}};  // rel diff 0.67, abs diff 2e-17
  CHECK(compare_reports(golden, report, 1e-6, 1e-12).empty());
  auto strict = compare_reports(golden, report, 1e-6, 0.0);
  INFO(describe(strict));
  REQUIRE(strict.size() == 1);
  CHECK(strict[0].path == "/rel_error");
  // 0 against a tiny value: rtol alone can never accept it.
  CHECK(compare_reports(json{{"m", 0.0}}, json{{"m", 1e-15}}, 1e-6, 1e-12).empty());
  CHECK(compare_reports(json{{"m", 0.0}}, json{{"m", 1e-15}}, 1e-6, 0.0).size() == 1);
}

TEST_CASE("an integer and a double are both numbers", "[check]") {
  auto diffs = compare_reports(json::parse(R"({"seed": 7, "n": [3]})"), json::parse(R"({"seed": 7.0, "n": [3.0]})"),
                               0.0, 0.0);
  INFO(describe(diffs));
  CHECK(diffs.empty());
}

TEST_CASE("a key missing in the report is reported at the key's pointer", "[check]") {
  json report = golden_report();
  report["methods"].erase("ln");
  auto diffs = compare_reports(golden_report(), report, 1e-6, 1e-12);
  INFO(describe(diffs));
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0].path == "/methods/ln");
  CHECK(diffs[0].description == "missing in report");
}

TEST_CASE("a key only in the report is reported as extra", "[check]") {
  json report = golden_report();
  report["methods"]["3"]["invariance"]["per_sample_shift"] = 0.5;
  auto diffs = compare_reports(golden_report(), report, 1e-6, 1e-12);
  INFO(describe(diffs));
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0].path == "/methods/3/invariance/per_sample_shift");
  CHECK(diffs[0].description.find("extra in report") != std::string::npos);
}

TEST_CASE("a type change is reported with both types, and children are not compared", "[check]") {
  json report = golden_report();
  report["methods"]["3"]["invariance"]["global_shift"]["equivariant"] = "true";
  report["methods"]["2"]["output"] = json::array({1, 2});
  auto diffs = compare_reports(golden_report(), report, 1e-6, 1e-12);
  INFO(describe(diffs));
  REQUIRE(diffs.size() == 2);
  CHECK(diffs[0].path == "/methods/2/output");
  CHECK(diffs[0].description.find("golden object") != std::string::npos);
  CHECK(diffs[0].description.find("report array") != std::string::npos);
  CHECK(diffs[1].path == "/methods/3/invariance/global_shift/equivariant");
  CHECK(diffs[1].description.find("golden boolean true") != std::string::npos);
  CHECK(diffs[1].description.find("report string \"true\"") != std::string::npos);
}

TEST_CASE("null against a number is a type change", "[check]") {
  json report = golden_report();
  report["config"]["threads"] = 0;
  auto diffs = compare_reports(golden_report(), report, 1e-6, 1e-12);
  INFO(describe(diffs));
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0].path == "/config/threads");
  CHECK(diffs[0].description.find("type differs") != std::string::npos);
}

TEST_CASE("an array length change is reported at the array's pointer", "[check]") {
  json report = golden_report();
  report["config"]["shape"].push_back(1);
  auto diffs = compare_reports(golden_report(), report, 1e-6, 1e-12);
  INFO(describe(diffs));
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0].path == "/config/shape");
  CHECK(diffs[0].description == "array length differs: golden 4, report 5");
}

TEST_CASE("an array element is named by its index", "[check]") {
  json report = golden_report();
  report["samples"][2] = 4;
  auto diffs = compare_reports(golden_report(), report, 1e-6, 1e-12);
  INFO(describe(diffs));
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0].path == "/samples/2");
  CHECK(diffs[0].description.find("golden 3, report 4") != std::string::npos);
}

TEST_CASE("a string change is reported exactly, whatever the tolerance", "[check]") {
  json report = golden_report();
  report["config"]["affine"] = "channel";
  auto diffs = compare_reports(golden_report(), report, 1.0, 1.0);
  INFO(describe(diffs));
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0].path == "/config/affine");
  CHECK(diffs[0].description == "golden \"natural\", report \"channel\" (first difference at character 0)");
}

TEST_CASE("a long string is shown around its first difference, not cut from the start", "[check]") {
  const std::string head(100, 'a');
  json golden{{"s", head + "the old tail of a long sentence"}};
  json report{{"s", head + "the new tail of a long sentence"}};
  auto diffs = compare_reports(golden, report, 0.0, 0.0);
  REQUIRE(diffs.size() == 1);
  INFO(diffs[0].description);
  // 24 characters of context either side of character 104 ("o" against "n").
  CHECK(diffs[0].description == "golden \"..." + std::string(20, 'a') + "the old tail of a long sente...\", report \"..." +
                                    std::string(20, 'a') + "the new tail of a long sente...\" (first difference at character 104)");
  // A string that only grows: the difference is at the end of the shorter one.
  diffs = compare_reports(json{{"s", "abc"}}, json{{"s", "abcd"}}, 0.0, 0.0);
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0].description == "golden \"abc\", report \"abcd\" (first difference at character 3)");
  // Control characters are escaped, multi-byte characters are not cut in two.
  CHECK(bnlab::string_difference("x\ny", "x\nz") == "golden \"x\\ny\", report \"x\\nz\" (first difference at character 2)");
  CHECK(bnlab::string_difference("\xc3\xa9\xc3\xa9", "\xc3\xa9\xc3\xa8", 0) ==
        "golden \"...\xc3\xa9\", report \"...\xc3\xa8\" (first difference at character 3)");
}

TEST_CASE("--ignore skips a key and everything under it, and says so", "[check]") {
  json report = golden_report();
  report["config"]["affine"] = "channel";
  report["samples"][1] = -2.0;
  report["extra"] = 1;
  std::size_t numbers = 0;
  auto diffs = compare_reports(golden_report(), report, 1e-6, 1e-12, &numbers, {"/config", "/samples/1", "/extra"});
  INFO(describe(diffs));
  CHECK(diffs.empty());
  CHECK(bnlab::format_check(diffs, numbers, 1e-6, 1e-12, {"/config", "/extra"}).find(
            "(rtol 1e-06, atol 1e-12, ignoring \"/config\", \"/extra\")") != std::string::npos);
  // Only the named keys: the rest is still compared.
  diffs = compare_reports(golden_report(), report, 1e-6, 1e-12, nullptr, {"/config"});
  CHECK(diffs.size() == 2);
  // A key missing from the report can be ignored too.
  json missing = golden_report();
  missing.erase("schema");
  CHECK(compare_reports(golden_report(), missing, 0.0, 0.0, nullptr, {"/schema"}).empty());
  CHECK_THROWS_WITH(compare_reports(json(1), json(1), 0.0, 0.0, nullptr, {"input/path"}),
                    "--ignore: expected a JSON pointer such as /input/path (got \"input/path\")");
}

TEST_CASE("keys with '/' and '~' are escaped in the JSON pointer (RFC 6901)", "[check]") {
  auto diffs = compare_reports(json{{"a/b~c", 1}}, json{{"a/b~c", 2}}, 0.0, 0.0);
  INFO(describe(diffs));
  REQUIRE(diffs.size() == 1);
  CHECK(diffs[0].path == "/a~1b~0c");
}

TEST_CASE("every difference in a report is listed, not only the first", "[check]") {
  json report = golden_report();
  report["schema"] = "bnlab.compare/3";
  report["methods"].erase("2");
  report["samples"][1] = -2.0;
  auto diffs = compare_reports(golden_report(), report, 1e-6, 1e-12);
  INFO(describe(diffs));
  REQUIRE(diffs.size() == 3);
  CHECK(diffs[0].path == "/methods/2");
  CHECK(diffs[1].path == "/samples/1");
  CHECK(diffs[2].path == "/schema");
}

TEST_CASE("negative or NaN tolerances are errors", "[check]") {
  CHECK_THROWS_AS(compare_reports(json(1), json(1), -1e-6, 0.0), bnlab::Error);
  CHECK_THROWS_AS(compare_reports(json(1), json(1), 0.0, -1.0), bnlab::Error);
  CHECK_THROWS_AS(compare_reports(json(1), json(1), std::nan(""), 0.0), bnlab::Error);
}

TEST_CASE("format_check prints one line per difference and a count line", "[check]") {
  std::vector<ReportDifference> diffs = {{"/methods/ln", "missing in report"}, {"/a", "golden 1, report 2"}};
  CHECK(bnlab::format_check(diffs, 7, 1e-6, 1e-12) ==
        "/methods/ln: missing in report\n/a: golden 1, report 2\n2 differences (rtol 1e-06, atol 1e-12)\n");
  CHECK(bnlab::format_check({}, 7, 1e-6, 1e-12) == "reports agree: 7 numbers compared (rtol 1e-06, atol 1e-12)\n");
}

TEST_CASE("read_json_file names the file when it is missing or not JSON", "[check]") {
  TempDir dir;
  std::string missing = (dir.path / "missing.json").string();
  try {
    bnlab::read_json_file(missing);
    FAIL("no error for a missing file");
  } catch (const bnlab::Error& e) {
    std::string message = e.what();
    INFO(message);
    CHECK(message.rfind(missing + ": cannot read", 0) == 0);
  }
  std::string bad = dir.write("bad.json", "{\"a\": [1, 2,\n");
  try {
    bnlab::read_json_file(bad);
    FAIL("no error for invalid JSON");
  } catch (const bnlab::Error& e) {
    std::string message = e.what();
    INFO(message);
    CHECK(message.rfind(bad + ": invalid JSON: ", 0) == 0);
    CHECK(message.find('\n') == std::string::npos);
  }
  std::string good = dir.write("good.json", "{\"a\": [1, 2.5]}");
  CHECK(bnlab::read_json_file(good) == json::parse("{\"a\": [1, 2.5]}"));
}

TEST_CASE("bnlab check exits 0 when reports agree and 1 when they differ", "[check][cli]") {
  TempDir dir;
  json report = golden_report();
  std::string golden = dir.write("golden.json", golden_report().dump(2));
  std::string same = dir.write("same.json", report.dump());
  report["methods"]["2"]["output"]["global"]["std"] = 0.99;
  report["methods"].erase("ln");
  std::string differs = dir.write("differs.json", report.dump());
  std::string bin = BNLAB_BINARY;

  Run ok = run(bin + " check --golden " + golden + " --report " + same);
  INFO(ok.out);
  CHECK(ok.code == 0);
  CHECK(ok.out == "reports agree: 13 numbers compared (rtol 1e-06, atol 1e-12)\n");

  Run bad = run(bin + " check --golden " + golden + " --report " + differs);
  INFO(bad.out);
  CHECK(bad.code == 1);
  CHECK(bad.out.find("/methods/2/output/global/std: golden 1.0000000000000002, report 0.99") != std::string::npos);
  CHECK(bad.out.find("/methods/ln: missing in report\n") != std::string::npos);
  CHECK(bad.out.find("\n2 differences (rtol 1e-06, atol 1e-12)\n") != std::string::npos);

  // A looser tolerance accepts the changed number; the missing key still fails.
  Run loose = run(bin + " check --golden " + golden + " --report " + differs + " --rtol 0.1");
  INFO(loose.out);
  CHECK(loose.code == 1);
  CHECK(loose.out.find("1 difference (rtol 0.1, atol 1e-12)") != std::string::npos);

  // --ignore (repeatable) skips the keys a user chooses.
  Run ignored = run(bin + " check --golden " + golden + " --report " + differs +
                    " --ignore /methods/ln --ignore /methods/2/output/global/std");
  INFO(ignored.out);
  CHECK(ignored.code == 0);
  CHECK(ignored.out.find("ignoring \"/methods/ln\", \"/methods/2/output/global/std\")") != std::string::npos);
}

TEST_CASE("bnlab check exits 1 with one stderr line for an unreadable file", "[check][cli]") {
  TempDir dir;
  std::string golden = dir.write("golden.json", golden_report().dump());
  std::string missing = (dir.path / "missing.json").string();
  std::string err = (dir.path / "stderr.txt").string();
  Run r = run(std::string(BNLAB_BINARY) + " check --golden " + golden + " --report " + missing + " 2>" + err);
  std::ifstream in(err);
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  INFO("stdout: " << r.out << "stderr: " << text);
  CHECK(r.code == 1);
  CHECK(r.out.empty());
  CHECK(text == "bnlab: " + missing + ": cannot read (No such file or directory)\n");
}

TEST_CASE("bnlab check rejects a negative tolerance as a usage error", "[check][cli]") {
  TempDir dir;
  std::string golden = dir.write("golden.json", golden_report().dump());
  Run r = run(std::string(BNLAB_BINARY) + " check --golden " + golden + " --report " + golden + " --atol -1 2>/dev/null");
  CHECK(r.code != 0);
  CHECK(r.code != 1);  // CLI11's validation code, not a run-time failure
}
