#pragma once
// Comparing two JSON reports (a golden one and a fresh one) for regression
// tests and for `bnlab check`.
//
// Two reports agree when they have the same structure (the same keys in the
// same objects, the same array lengths, the same value types) and their leaves
// agree: strings, booleans and nulls exactly, numbers within a tolerance,
//   |a - b| <= atol + rtol * max(|a|, |b|).
// Integers and doubles are both "numbers" (a report may print 1 or 1.0).
// Each difference is named by its JSON pointer (RFC 6901), e.g.
//   /methods/3/invariance/global_shift/rel_error
// Differing strings are shown around their first differing character, so a
// change at the end of a long string is visible. Keys the user chooses to skip
// (CheckOptions::ignore, `bnlab check --ignore POINTER`) are not compared, nor
// is anything below them.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace bnlab {

struct ReportDifference {
  std::string path;         // JSON pointer; "" is the whole document
  std::string description;  // "golden 1.0, report 0.99 (abs diff 1.0e-02, rel diff 1.0e-02)"
};

// Every difference between `golden` and `report`, in document order (object
// keys sorted, as nlohmann::json stores them). A missing key, an extra key, a
// type change or an array length change is one difference at that node and
// its children are not compared. `numbers_compared` (if given) receives the
// number of number pairs compared. Throws Error if rtol or atol is negative
// or NaN.
std::vector<ReportDifference> compare_reports(const nlohmann::json& golden, const nlohmann::json& report,
                                              double rtol, double atol,
                                              std::size_t* numbers_compared = nullptr,
                                              const std::vector<std::string>& ignore = {});

// Checks that each ignore entry is a JSON pointer ("" or starting with "/").
// Throws Error "--ignore: ... (got ...)".
void validate_ignore_pointers(const std::vector<std::string>& ignore);

// The part of two different strings around their first difference, with up
// to `context` characters either side and "..." where text was cut:
//   golden "...rel_error and leakage over the shifts", report "...rel_error or leakage over the shifts"
std::string string_difference(const std::string& golden, const std::string& report, std::size_t context = 24);

// Parses a JSON file. Throws Error "<path>: cannot read (<reason>)" or
// "<path>: invalid JSON: <parser message>" (one line each).
nlohmann::json read_json_file(const std::string& path);

// The same for text in memory (`path` names it in errors). Strict like a
// config file: no NUL byte, no repeated key, no number that under- or
// overflows, at most kMaxJsonDepth (64) levels deep - so that comparing and
// printing, both recursive, stay within the stack.
nlohmann::json parse_report_text(std::string_view text, const std::string& path);

// `bnlab check` as a library call: reads both files, compares them and
// formats the result. `text` is what the command prints on stdout:
//   one line "<pointer>: <description>" per difference, then
//   "N differences (rtol 1e-06, atol 1e-12)"
// or, when the reports agree,
//   "reports agree: K numbers compared (rtol 1e-06, atol 1e-12)"
// with ", ignoring /a, /b" before the closing parenthesis when keys were ignored.
// Pointers and values are escaped (core/escape.hpp). A file that is not an
// object with a "schema" key is refused: "<path>: not a bnlab report (no schema key) ...".
struct CheckResult {
  std::vector<ReportDifference> differences;
  std::size_t numbers_compared = 0;
  std::string text;
  bool agree() const { return differences.empty(); }
};

CheckResult check_report_files(const std::string& golden_path, const std::string& report_path, double rtol,
                               double atol, const std::vector<std::string>& ignore = {});

// The text of a CheckResult (exposed for tests): see check_report_files.
std::string format_check(const std::vector<ReportDifference>& differences, std::size_t numbers_compared,
                         double rtol, double atol, const std::vector<std::string>& ignore = {});

}  // namespace bnlab
