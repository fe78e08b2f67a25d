#pragma once
// How compare, train and audit hand out a result: one path from a finished
// result to stdout and files, so that the three cannot drift apart.
//   * stdout gets the table when `table` is set (core/output_format.hpp
//     decides: a terminal or --format table); otherwise the JSON document,
//     unless --output names a file for it (the document is written once);
//   * --output FILE gets the JSON document, --html FILE the page, each
//     written atomically (io/atomic_file.hpp) once the whole result exists;
//     files the command makes itself (audit --recalibrate) come in between;
//   * the JSON is dumped with invalid UTF-8 (from a path or a member name)
//     replaced by U+FFFD, never thrown;
//   * then "bnlab: wrote PATH" on stderr for each file, unless quiet.
// The outputs themselves were checked before the work began
// (io/output_check.hpp), so that a bad path costs no computation.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bnlab::experiment {

// A file the command writes itself, in its own format.
struct OwnFile {
  std::string path;
  std::function<void(const std::string& path)> write;
};

// Draws a result's JSON as one HTML page (report/html: the subcommand passes
// it, as train/ and audit/ cannot include report/).
using PageRenderer = std::function<std::string(const nlohmann::ordered_json& report)>;

struct Emission {
  nlohmann::ordered_json report;                                             // the result as JSON
  bool table = false;                                                         // the table on stdout
  std::function<std::string()> table_text;                                    // called only when shown
  std::optional<std::string> output;                                          // --output
  std::optional<std::string> html;                                            // --html
  PageRenderer page;                                                          // called only with --html
  std::vector<OwnFile> own_files;                                             // e.g. audit --recalibrate
  bool quiet = false;                                                         // --quiet: no "wrote" lines
};

void emit(const Emission& emission);

// The JSON document as written: two-space indent, invalid UTF-8 replaced, a final newline.
std::string json_document(const nlohmann::ordered_json& report);

// "bnlab: wrote PATH" on stderr (the path escaped: core/escape.hpp), unless quiet.
void report_written(const std::string& path, bool quiet);

}  // namespace bnlab::experiment
