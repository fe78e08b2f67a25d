#pragma once
// `bnlab render` and `bnlab compare --html`: a saved report as one
// self-contained HTML page (inline SVG and CSS; no script, no network, no
// external font), the same bytes for the same report.
//   bnlab.compare/3         the input summary, the figures (figures.hpp), the
//                           verdict table with its legend and the verdict
//   bnlab.compare-layers/1  the per-layer summary: properties held per layer
//                           and method, layers where each property holds
//   bnlab.train/1           the training experiment (figures.hpp too): loss
//                           curves, accuracy bars, the summary sentence
#include <string>

#include <nlohmann/json.hpp>

namespace bnlab::html {

// The page for a report of any of these schemas; throws Error naming `source` (the
// file, or "report") when the schema is missing or unknown.
std::string render_report_html(const nlohmann::ordered_json& report, const std::string& source = "report");

// One page holding a compare report (bnlab.compare/3 or bnlab.compare-layers/1)
// and then the training section of a train result (bnlab.train/1); Error naming
// the source whose schema is not the one expected there, or that is incomplete.
std::string render_joined_html(const nlohmann::ordered_json& report, const std::string& report_source,
                               const nlohmann::ordered_json& train_result, const std::string& train_source);

// A saved report read from a JSON file; Error on an unreadable file or invalid JSON.
nlohmann::ordered_json read_report_file(const std::string& path);

}  // namespace bnlab::html
