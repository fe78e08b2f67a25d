#include "bnlab/core/number.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "bnlab/core/error.hpp"
#include "bnlab/core/escape.hpp"

namespace bnlab {

std::uint64_t parse_seed(const std::string& text, const std::string& what) {
  std::uint64_t value = 0;
  const char* first = text.data();
  const char* last = first + text.size();
  // from_chars accepts neither '+', '-' nor spaces: only digits.
  auto [end, ec] = std::from_chars(first, last, value);
  if (text.empty() || ec != std::errc() || end != last) {
    throw Error(what + ": expected an integer in [0, 2^64), got " + quoted(text));
  }
  return value;
}

double parse_number(const std::string& text, const std::string& what) {
  // strtod also reads "nan", "inf" and hex floats; allow only decimal syntax.
  const bool decimal = !text.empty() && text.find_first_not_of("0123456789+-.eE") == std::string::npos;
  char* end = nullptr;
  errno = 0;
  const double value = decimal ? std::strtod(text.c_str(), &end) : 0.0;
  if (!decimal || end != text.c_str() + text.size()) {
    throw Error(what + ": expected a number, got " + quoted(text));
  }
  // ERANGE: overflow (+-HUGE_VAL) or underflow (0 or a subnormal, precision lost).
  if (errno == ERANGE || !std::isfinite(value)) {
    throw Error(what + ": " + quoted(text) + " is not representable as a double (" +
                (std::abs(value) > 1.0 ? "overflows" : "underflows") + ")");
  }
  return value;
}

void require_in_range(double value, const NumberRange& range, const std::string& what, const std::string& got) {
  if (!(value >= range.lo && value <= range.hi)) {
    throw Error(what + ": must be in " + range.text + " (got " + got + ")");
  }
}

std::string number_text(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, value);
  if (ec != std::errc()) return "?";
  std::string out(text, end);
  if (out.find_first_of(".e") == std::string::npos) out += ".0";  // as JSON prints a double: 2.0
  return out;
}

std::string fixed(double value, int digits) {
  char text[512];  // "%.*f" of 1e308 has 309 digits before the point
  std::snprintf(text, sizeof text, "%.*f", digits, value);
  return text;
}

std::string significant(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*g", digits, value);
  return text;
}

std::string scientific(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*e", digits, value);
  return text;
}

std::string compact_number(double value) {
  if (value == 0) return "0";
  if (!std::isfinite(value)) return "-";
  return std::abs(value) >= 1e-2 && std::abs(value) < 1e5 ? significant(value, 3) : scientific(value, 1);
}

std::string truncated(double value, std::size_t width) { return std::to_string(value).substr(0, width); }

double parse_number_in(const std::string& text, const NumberRange& range, const std::string& what) {
  const double value = parse_number(text, what);
  require_in_range(value, range, what, text);
  return value;
}

}  // namespace bnlab
