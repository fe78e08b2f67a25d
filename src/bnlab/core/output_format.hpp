#pragma once
// What a subcommand prints on stdout: one rule for every subcommand that has
// both a table and a JSON document (compare, train, audit, bench, normalize,
// explain). `--format table` or `--format json` decides; without it, the
// table on a terminal and the JSON document when stdout is a pipe or a file
// (a script reading it gets JSON).
#include <optional>
#include <string>

namespace bnlab {

// An output format, case-insensitive: "json" or "table" ("text", explain's
// old name, is the same as "table"). Throws Error
// "<what>: unknown format \"xml\" (valid: json, table)".
std::string parse_output_format(const std::string& text, const std::string& what);

// True for the table: the format asked for ("table" or "json"), else whether stdout is a terminal.
bool table_on_stdout(const std::optional<std::string>& format);

// The help text of --format under this rule.
inline constexpr const char* kFormatHelp =
    "json (the report) or table (a summary)  [default: table on a terminal, json otherwise]";

}  // namespace bnlab
