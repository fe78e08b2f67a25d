#pragma once
// Usage errors of the command line: one line on stderr, exit code kUsageError.
// An unknown subcommand or option is named with the nearest valid one:
//   unknown subcommand 'comapre'; did you mean 'compare'? (bnlab --help lists them)
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bnlab/core/nearest_name.hpp"

namespace bnlab::app {

inline constexpr int kUsageError = 2;

// The valid name closest to `word` (core/nearest_name.hpp).
using bnlab::nearest_name;

// One line per row of the method table, for bnlab --help:
//   "  3, bn  Method 3 (per channel, over N, H, W: BatchNorm2d)  [candidate]"
std::string methods_overview();

// The one-line message for a CLI11 parse error (without the "bnlab: " prefix).
std::string usage_error_line(CLI::App& app, const CLI::ParseError& error, int argc, char** argv);

}  // namespace bnlab::app
