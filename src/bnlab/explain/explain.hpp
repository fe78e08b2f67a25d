#pragma once
// `bnlab explain`: what each normalization computes on one (N, C, H, W)
// shape — its formula with indices, reduce axes, the number and size of its
// statistics, its natural gamma/beta, its eval-mode behaviour — and what
// "per feature map" means in the BN paper (Ioffe & Szegedy 2015, §3.2).
// Every number comes from make_plan for the given shape, none is hard-coded.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/engine/method.hpp"
#include "bnlab/core/shape.hpp"

namespace bnlab {

// Plain text, lines of at most 80 columns (counted in code points; the
// formulas use ·, Σ, ², ∈, ×). A method that cannot apply to `dims`
// (gn:G with C % G != 0) gives a "note: skipped ..." line instead of an error.
std::string explain_text(const Dims& dims, const std::vector<Method>& methods);

// The same facts as JSON, schema "bnlab.explain/1":
//   {"schema", "shape": [N, C, H, W],
//    "methods": {id: {title, formula: {mean, variance, normalized, output[, where]},
//                     reduce_axes, stat_axes, stat_shape, num_statistics,
//                     elements_per_statistic, param_axes, param_shape,
//                     num_parameters, has_running_statistics,
//                     other_spatial_size_in_eval}},
//    "skipped": [{"method", "reason"}],
//    "per_feature_map": {source, feature_map, meaning, method,
//                        effective_batch, effective_batch_size}}
nlohmann::ordered_json explain_json(const Dims& dims, const std::vector<Method>& methods);

// Columns a line takes in a terminal: its UTF-8 code points.
std::size_t display_width(const std::string& line);

}  // namespace bnlab
