#pragma once
// `bnlab compare --format table` for an .npz of layers: one row per layer
// (how many properties each method has there), then per property the number
// of layers where it holds, then the summary across layers.
#include <string>

#include "bnlab/report/compare_layers.hpp"

namespace bnlab {

// From the typed per-layer results (compare_layers), as the report's
// across_layers block is.
std::string format_layers_table(const LayersResult& result);

}  // namespace bnlab
