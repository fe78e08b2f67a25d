#include "bnlab/check/report_check.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "bnlab/core/error.hpp"
#include "bnlab/io/json_text.hpp"

namespace bnlab {
namespace {

using json = nlohmann::json;

// RFC 6901: "~" -> "~0", "/" -> "~1".
std::string pointer_token(const std::string& key) {
  std::string out;
  for (char ch : key) {
    if (ch == '~') out += "~0";
    else if (ch == '/') out += "~1";
    else out += ch;
  }
  return out;
}

// Integers and doubles are one kind: "number".
std::string kind(const json& j) { return j.is_number() ? "number" : j.type_name(); }

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return json(v).dump();  // shortest round-trip form
}

std::string format_sci(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1e", v);
  return buf;
}

// A short, one-line rendering of a value for a difference line.
std::string preview(const json& j) {
  if (j.is_object()) return "object with " + std::to_string(j.size()) + (j.size() == 1 ? " key" : " keys");
  if (j.is_array()) return "array of " + std::to_string(j.size());
  if (j.is_number_float()) return format_number(j.get<double>());
  std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
  constexpr std::size_t kMax = 60;
  if (text.size() > kMax) text = text.substr(0, kMax - 3) + "...";
  return text;
}

struct Comparer {
  double rtol = 0, atol = 0;
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
    if (finite) description += " (abs diff " + format_sci(diff) + ", rel diff " + format_sci(diff / scale) + ")";
    add(path, description);
  }

  void compare(const std::string& path, const json& g, const json& r) {
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
        if (found == r.end()) add(child, "missing in report");
        else compare(child, it.value(), *found);
      }
      for (auto it = r.begin(); it != r.end(); ++it) {
        if (!g.contains(it.key())) add(path + "/" + pointer_token(it.key()), "extra in report (" + preview(it.value()) + ")");
      }
    } else if (g.is_array()) {
      if (g.size() != r.size()) {
        add(path, "array length differs: golden " + std::to_string(g.size()) + ", report " + std::to_string(r.size()));
        return;
      }
      for (std::size_t i = 0; i < g.size(); ++i) compare(path + "/" + std::to_string(i), g[i], r[i]);
    } else if (g != r) {  // string, boolean, null, binary
      add(path, "golden " + preview(g) + ", report " + preview(r));
    }
  }
};

std::string format_tolerances(double rtol, double atol) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "(rtol %g, atol %g)", rtol, atol);
  return buf;
}

void validate_tolerances(double rtol, double atol) {
  if (!(rtol >= 0)) throw Error("rtol must be >= 0 (got " + format_number(rtol) + ")");
  if (!(atol >= 0)) throw Error("atol must be >= 0 (got " + format_number(atol) + ")");
}

}  // namespace

std::vector<ReportDifference> compare_reports(const json& golden, const json& report, double rtol, double atol,
                                              std::size_t* numbers_compared) {
  validate_tolerances(rtol, atol);
  Comparer comparer;
  comparer.rtol = rtol;
  comparer.atol = atol;
  comparer.compare("", golden, report);
  if (numbers_compared) *numbers_compared = comparer.numbers;
  return std::move(comparer.differences);
}

json read_json_file(const std::string& path) { return parse_report_text(read_text_file(path), path); }

json parse_report_text(std::string_view text, const std::string& path) {
  // Strict first (json_text.hpp): bounded depth, so compare() below and
  // dump() cannot overflow the stack; no NUL byte, repeated key or
  // underflowing number.
  check_json_text(text, path);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {  // check_json_text already refused what nlohmann refuses
    throw Error(path + ": invalid JSON: " + e.what());
  }
}

std::string format_check(const std::vector<ReportDifference>& differences, std::size_t numbers_compared,
                         double rtol, double atol) {
  std::string text;
  if (differences.empty()) {
    text = "reports agree: " + std::to_string(numbers_compared) +
           (numbers_compared == 1 ? " number" : " numbers") + " compared " + format_tolerances(rtol, atol) + "\n";
    return text;
  }
  for (const ReportDifference& d : differences) {
    text += (d.path.empty() ? std::string("(document)") : d.path) + ": " + d.description + "\n";
  }
  text += std::to_string(differences.size()) + (differences.size() == 1 ? " difference " : " differences ") +
          format_tolerances(rtol, atol) + "\n";
  return text;
}

CheckResult check_report_files(const std::string& golden_path, const std::string& report_path, double rtol,
                               double atol) {
  validate_tolerances(rtol, atol);
  json golden = read_json_file(golden_path);
  json report = read_json_file(report_path);
  CheckResult result;
  result.differences = compare_reports(golden, report, rtol, atol, &result.numbers_compared);
  result.text = format_check(result.differences, result.numbers_compared, rtol, atol);
  return result;
}

}  // namespace bnlab
