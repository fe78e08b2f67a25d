#pragma once
// The maps a compare report holds for the HTML figures 3 to 5 (input.maps and
// methods.ID.maps, written by probe_maps), read for drawing.
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/report/html/heat_map.hpp"

namespace bnlab::html {

// A method of the report as the figures draw it: its position in the report
// (which picks its colour and marker), how the page names it, its block.
struct ReportMethod {
  std::size_t index;
  std::string column, name;
  const nlohmann::ordered_json* block = nullptr;
};

// Every method of the report (methods.ID), in the report's order.
std::vector<ReportMethod> report_methods(const nlohmann::ordered_json& report);

// One method's maps block and how the page names the method.
struct MethodMaps {
  std::string id, column, name;
  std::vector<std::string> reduce_axes;  // e.g. {"N", "H", "W"}
  const nlohmann::ordered_json* maps = nullptr;
};

// The methods whose maps were measured, in the report's order, and the columns
// of the others (a statistic pooling a single value: nothing measured).
struct MeasuredMaps {
  std::vector<MethodMaps> methods;
  std::vector<std::string> not_measured;
};
MeasuredMaps methods_with_maps(const nlohmann::ordered_json& report);

// Why a figure of the maps (4, 5) is not drawn when no method's maps were measured.
inline constexpr const char* kNoMethodMeasured = "no method was measured (each statistic pools a single value)";

// The plane's (H, W) from the report's input shape.
std::size_t plane_height(const nlohmann::ordered_json& report);
std::size_t plane_width(const nlohmann::ordered_json& report);

// "M2" or "M2, ln" ... joined with ", ".
std::string join(const std::vector<std::string>& words);

// " Not drawn: M2, ln (WHY)." for the columns of the methods a figure leaves
// out, or "" when it leaves none out.
std::string not_drawn_sentence(const std::vector<std::string>& columns, const std::string& why);

// " Not drawn: M2 (each statistic pools a single value, nothing is measured)." or "".
std::string not_measured_sentence(const std::vector<std::string>& not_measured);

// "4 × 3 × 5 × 5": a tensor's shape (a JSON array of sizes) as the page writes it.
std::string shape_text(const nlohmann::ordered_json& shape);

// The block and grid sentence of a caption: "" when every cell is one pixel.
std::string downsampling_sentence(const nlohmann::ordered_json& maps);

}  // namespace bnlab::html
