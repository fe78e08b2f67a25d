#pragma once
// Numbers typed by a user (an option's text), parsed strictly, and the one
// valid range of each numeric option that several subcommands share. A value
// out of range, a negative or fractional seed, a seed >= 2^64, a number that
// underflows to 0 (1e-400) or overflows to infinity is an error - never
// silently coerced.
//
// Also the one place a number becomes text for people (tables, messages,
// pages): number_text, fixed, significant, scientific, compact_number,
// truncated. A new format is a function here, not a printf at the call site.
#include <cstddef>
#include <cstdint>
#include <string>

namespace bnlab {

// A closed interval [lo, hi]; `text` is how help and errors print it.
struct NumberRange {
  double lo, hi;
  const char* text;
};

// The one range of each option, read by help, the config parser and errors.
inline constexpr NumberRange kEpsRange{0.0, 1.0, "[0, 1]"};
inline constexpr NumberRange kMomentumRange{0.0, 1.0, "[0, 1]"};

// A seed: a decimal integer in [0, 2^64). Throws Error
//   "<what>: expected an integer in [0, 2^64), got \"-1\""
std::uint64_t parse_seed(const std::string& text, const std::string& what);

// A finite decimal number (strtod syntax, no nan/inf, no hex), representable
// as a double: "1e-400" (underflows to 0) and "1e400" are errors.
double parse_number(const std::string& text, const std::string& what);

// Throws Error "<what>: must be in [0, 1] (got <got>)" unless lo <= value <= hi.
void require_in_range(double value, const NumberRange& range, const std::string& what, const std::string& got);

// The shortest text that reads back as `value` ("1e-05", "0.1"), or "nan",
// "inf", "-inf": for echoing a number in a message.
std::string number_text(double value);

// `digits` digits after the point, rounded ("%.*f"): fixed(0.87654, 3) = "0.877",
// fixed(1149.4, 0) = "1149". Accuracies, coordinates, ratios, times.
std::string fixed(double value, int digits);

// At most `digits` significant digits, trailing zeros dropped, exponent form
// for very large or small values ("%.*g"): significant(0.000123456, 3) =
// "0.000123", significant(1234567, 3) = "1.23e+06". significant(v, 6) is what
// "%g" and an ostream print.
std::string significant(double value, int digits);

// One digit before the point, `digits` after it, and an exponent ("%.*e"):
// scientific(1e-5, 1) = "1.0e-05", scientific(1e-4, 0) = "1e-04".
std::string scientific(double value, int digits);

// A measured value in a table cell or a figure label: "0" for 0, "-" for NaN
// and Inf, three significant digits in [0.01, 1e5) ("2.24", "0.238"), else
// scientific with one decimal ("4.6e-09", "1.2e+05").
std::string compact_number(double value);

// std::to_string(value) ("%f") cut to its first `width` characters - not
// rounded: truncated(0.87656, 6) = "0.8765". The progress lines of bnlab train.
std::string truncated(double value, std::size_t width);

// parse_number then require_in_range.
double parse_number_in(const std::string& text, const NumberRange& range, const std::string& what);

}  // namespace bnlab
