#pragma once
// Numeric options parsed strictly by the library (bnlab/core/number.hpp), not
// by CLI11, whose conversions coerce: "--seed -1" became 2^64 - 1 and
// "--eps 1e-400" became 0. Each option's one valid range is read from the
// library and printed in its help.
#include <cstdint>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>

#include "bnlab/core/number.hpp"

namespace bnlab::app {

// --seed: an integer in [0, 2^64).
inline CLI::Option* add_seed_option(CLI::App* cmd, const std::string& name, std::function<void(std::uint64_t)> set,
                                    const std::string& help, const std::string& default_text) {
  return cmd->add_option_function<std::string>(
      name, [name, set](const std::string& text) { set(parse_seed(text, name)); },
      help + ", an integer in [0, 2^64)  [default: " + default_text + "]")
      ->type_name("UINT64");
}

// A number in `range`; help gains ", in [lo, hi]" and the default.
inline CLI::Option* add_number_option(CLI::App* cmd, const std::string& name, const NumberRange& range,
                                      std::function<void(double)> set, const std::string& help,
                                      const std::string& default_text) {
  return cmd->add_option_function<std::string>(
      name, [name, range, set](const std::string& text) { set(parse_number_in(text, range, name)); },
      help + ", in " + range.text + "  [default: " + default_text + "]")
      ->type_name("FLOAT");
}

}  // namespace bnlab::app
