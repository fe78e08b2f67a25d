#pragma once
// What a subcommand prints on stdout when --format is not given: the table on
// a terminal, the JSON document when stdout is a pipe or a file (a script
// reading it gets JSON). One rule for every subcommand that has both.
#include <unistd.h>

#include <optional>
#include <string>

namespace bnlab::app {

// True for the table: the format asked for ("table" or "json"), else whether stdout is a terminal.
inline bool table_on_stdout(const std::optional<std::string>& format) {
  return format ? *format == "table" : ::isatty(STDOUT_FILENO) == 1;
}

// The help text of --format under this rule.
inline constexpr const char* kFormatHelp =
    "json (the report) or table (a summary)  [default: table on a terminal, json otherwise]";

}  // namespace bnlab::app
