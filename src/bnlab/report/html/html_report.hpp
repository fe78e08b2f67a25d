#pragma once
// `bnlab render` and `bnlab compare --html`: a saved report as one
// self-contained HTML page (inline SVG and CSS; no script, no network, no
// external font), the same bytes for the same report.
//   bnlab.compare/3         the input summary, the figures (figures.hpp), the
//                           verdict table with its legend and the verdict
//   bnlab.compare-layers/1  the per-layer summary: properties held per layer
//                           and method, layers where each property holds
#include <string>

#include <nlohmann/json.hpp>

namespace bnlab::html {

// The page for a report of either schema; throws Error naming `source` (the
// file, or "report") when the schema is missing or unknown.
std::string render_report_html(const nlohmann::ordered_json& report, const std::string& source = "report");

// A saved report read from a JSON file; Error on an unreadable file or invalid JSON.
nlohmann::ordered_json read_report_file(const std::string& path);

}  // namespace bnlab::html
