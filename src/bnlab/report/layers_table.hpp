#pragma once
// `bnlab compare --format table` for an .npz of layers: one row per layer
// (how many properties each method has there), then per property the number
// of layers where it holds, then the summary across layers.
#include <string>

#include <nlohmann/json.hpp>

namespace bnlab {

// report: schema bnlab.compare-layers/1 (see compare_layers.hpp).
std::string format_layers_table(const nlohmann::ordered_json& report);

// format_layers_table or format_compare_table, by the report's schema.
std::string format_any_compare_table(const nlohmann::ordered_json& report);

}  // namespace bnlab
