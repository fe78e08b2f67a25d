#pragma once
// Numbers typed by a user (an option's text), parsed strictly, and the one
// valid range of each numeric option that several subcommands share. A value
// out of range, a negative or fractional seed, a seed >= 2^64, a number that
// underflows to 0 (1e-400) or overflows to infinity is an error - never
// silently coerced.
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

// parse_number then require_in_range.
double parse_number_in(const std::string& text, const NumberRange& range, const std::string& what);

}  // namespace bnlab
