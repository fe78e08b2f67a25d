#include "bnlab/check/report_check.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>

#include "bnlab/core/error.hpp"
#include "bnlab/core/escape.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/io/json_text.hpp"

namespace bnlab {
namespace {

using json = nlohmann::json;


// Integers and doubles are one kind: "number".
std::string kind(const json& j) { return j.is_number() ? "number" : j.type_name(); }


// A short, one-line rendering of a value for a difference line.
std::string preview(const json& j) {
  if (j.is_object()) return "object with " + std::to_string(j.size()) + (j.size() == 1 ? " key" : " keys");
  if (j.is_array()) return "array of " + std::to_string(j.size());
  if (j.is_number_float()) return number_text(j.get<double>());  // nan and inf too
  return json_preview(j);
}

// A string for a difference line: JSON-quoted and escaped (control characters
// and invalid UTF-8 cannot reach the terminal).
std::string quoted(const std::string& text) { return json(text).dump(-1, ' ', false, json::error_handler_t::replace); }

struct Comparer {
  double rtol = 0, atol = 0;
  std::vector<std::string> ignore;
  std::size_t numbers = 0;
  std::vector<ReportDifference> differences;

  void add(const std::string& path, std::string description) {
    differences.push_back({path, std::move(description)});
  }

  void compare_numbers(const std::string& path, const json& g, const json& r) {
    ++numbers;
    double a = g.get<double>(), b = r.get<double>();
    if (a == b) return;                                    // also equal infinities
    if (std::isnan(a) && std::isnan(b)) return;            // only from in-memory documents
    double diff = std::abs(a - b);
    double scale = std::max(std::abs(a), std::abs(b));
    bool finite = std::isfinite(a) && std::isfinite(b);
    if (finite && diff <= atol + rtol * scale) return;
    std::string description = "golden " + preview(g) + ", report " + preview(r);
    if (finite) description += " (abs diff " + scientific(diff, 1) + ", rel diff " + scientific(diff / scale, 1) + ")";
    add(path, description);
  }

  void compare(const std::string& path, const json& g, const json& r) {
    if (std::find(ignore.begin(), ignore.end(), path) != ignore.end()) return;
    if (kind(g) != kind(r)) {
      add(path, "type differs: golden " + kind(g) + " " + preview(g) + ", report " + kind(r) + " " + preview(r));
      return;
    }
    if (g.is_number()) {
      compare_numbers(path, g, r);
    } else if (g.is_object()) {
      for (auto it = g.begin(); it != g.end(); ++it) {
        std::string child = path + "/" + pointer_token(it.key());
        auto found = r.find(it.key());
        if (found == r.end()) {
          if (std::find(ignore.begin(), ignore.end(), child) == ignore.end()) add(child, "missing in report");
        }
        else compare(child, it.value(), *found);
      }
      for (auto it = r.begin(); it != r.end(); ++it) {
        const std::string child = path + "/" + pointer_token(it.key());
        if (g.contains(it.key()) || std::find(ignore.begin(), ignore.end(), child) != ignore.end()) continue;
        add(child, "extra in report (" + preview(it.value()) + ")");
      }
    } else if (g.is_array()) {
      if (g.size() != r.size()) {
        add(path, "array length differs: golden " + std::to_string(g.size()) + ", report " + std::to_string(r.size()));
        return;
      }
      for (std::size_t i = 0; i < g.size(); ++i) compare(path + "/" + std::to_string(i), g[i], r[i]);
    } else if (g.is_string() && r.is_string()) {
      if (g != r) add(path, string_difference(g.get<std::string>(), r.get<std::string>()));
    } else if (g != r) {  // boolean, null, binary
      add(path, "golden " + preview(g) + ", report " + preview(r));
    }
  }
};

std::string format_tolerances(double rtol, double atol, const std::vector<std::string>& ignore) {
  std::string text = "(rtol " + significant(rtol, 6) + ", atol " + significant(atol, 6);
  for (std::size_t i = 0; i < ignore.size(); ++i) text += (i ? ", " : ", ignoring ") + quoted(ignore[i]);
  return text + ")";
}

void validate_tolerances(double rtol, double atol) {
  if (!(rtol >= 0)) throw Error("rtol must be >= 0 (got " + number_text(rtol) + ")");
  if (!(atol >= 0)) throw Error("atol must be >= 0 (got " + number_text(atol) + ")");
}

}  // namespace

std::string string_difference(const std::string& golden, const std::string& report, std::size_t context) {
  std::size_t first = 0;  // first differing byte
  while (first < golden.size() && first < report.size() && golden[first] == report[first]) ++first;
  // Back up to the start of a UTF-8 character so that no character is cut in two.
  auto char_start = [](const std::string& s, std::size_t i) {
    while (i > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
    return i;
  };
  const std::size_t begin = char_start(golden, first > context ? first - context : 0);
  auto excerpt = [&](const std::string& s) {
    std::size_t end = std::min(s.size(), first + context);
    while (end < s.size() && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) ++end;
    std::string text = quoted(s.substr(begin, end - begin));
    if (begin > 0) text.insert(1, "...");
    if (end < s.size()) text.insert(text.size() - 1, "...");
    return text;
  };
  return "golden " + excerpt(golden) + ", report " + excerpt(report) + " (first difference at character " +
         std::to_string(first) + ")";
}

void validate_ignore_pointers(const std::vector<std::string>& ignore) {
  for (const std::string& pointer : ignore) {
    if (!pointer.empty() && pointer.front() != '/') {
      throw Error("--ignore: expected a JSON pointer such as /input/path (got " + quoted(pointer) + ")");
    }
  }
}

std::vector<ReportDifference> compare_reports(const json& golden, const json& report, double rtol, double atol,
                                              std::size_t* numbers_compared, const std::vector<std::string>& ignore) {
  validate_tolerances(rtol, atol);
  validate_ignore_pointers(ignore);
  Comparer comparer;
  comparer.rtol = rtol;
  comparer.atol = atol;
  comparer.ignore = ignore;
  comparer.compare("", golden, report);
  if (numbers_compared) *numbers_compared = comparer.numbers;
  return std::move(comparer.differences);
}

json read_json_file(const std::string& path) { return parse_report_text(read_text_file(path), path); }

json parse_report_text(std::string_view text, const std::string& path) {
  // Strict (json_text.hpp): bounded depth, so compare() below and dump()
  // cannot overflow the stack; no NUL byte, repeated key or underflowing number.
  return parse_json_text<json>(text, path);
}

std::string format_check(const std::vector<ReportDifference>& differences, std::size_t numbers_compared,
                         double rtol, double atol, const std::vector<std::string>& ignore) {
  std::string text;
  if (differences.empty()) {
    text = "reports agree: " + std::to_string(numbers_compared) +
           (numbers_compared == 1 ? " number" : " numbers") + " compared " +
           escape_control(format_tolerances(rtol, atol, ignore)) + "\n";
    return text;
  }
  // Keys come from the files: escaped like every echo (core/escape.hpp), so
  // a key holding a newline or ESC is one line and drives no terminal.
  for (const ReportDifference& d : differences) {
    text += escape_control(d.path.empty() ? std::string("(document)") : d.path) + ": " + escape_control(d.description) + "\n";
  }
  text += std::to_string(differences.size()) + (differences.size() == 1 ? " difference " : " differences ") +
          escape_control(format_tolerances(rtol, atol, ignore)) + "\n";
  return text;
}

CheckResult check_report_files(const std::string& golden_path, const std::string& report_path, double rtol,
                               double atol, const std::vector<std::string>& ignore) {
  validate_tolerances(rtol, atol);
  validate_ignore_pointers(ignore);
  json golden = read_json_file(golden_path);
  json report = read_json_file(report_path);
  // Every bnlab report names its schema: another JSON file (a config file,
  // say) is named as such, not compared key by key.
  for (const auto& [path, document] : {std::pair<const std::string&, const json&>{golden_path, golden}, {report_path, report}}) {
    if (!document.is_object() || !document.contains("schema")) {
      throw Error(path + ": not a bnlab report (no schema key); check compares two reports (bnlab compare --output, "
                         "train --output, bench, ...)");
    }
  }
  CheckResult result;
  result.differences = compare_reports(golden, report, rtol, atol, &result.numbers_compared, ignore);
  result.text = format_check(result.differences, result.numbers_compared, rtol, atol, ignore);
  return result;
}

}  // namespace bnlab
