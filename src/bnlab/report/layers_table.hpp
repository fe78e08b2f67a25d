#pragma once
// `bnlab compare --format table` for an .npz of layers: one row per layer
// (how many properties each method has there), then per property the number
// of layers where it holds, then the summary across layers.
#include <string>

#include <nlohmann/json.hpp>

namespace bnlab {

// report: schema bnlab.compare-layers/1 (see compare_layers.hpp).
std::string format_layers_table(const nlohmann::ordered_json& report);

}  // namespace bnlab
