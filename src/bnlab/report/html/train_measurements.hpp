#pragma once
// The measurements of a bnlab.train/1 result that the accuracy bars draw, one
// row each, in the order of the train table: eval mode, population statistics,
// batch statistics per test batch size, shifts, the larger canvas, the
// small-batch network.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bnlab::html {

// One bar of a measurement: the statistic over seeds, or why it does not apply.
struct Cell {
  std::optional<nlohmann::ordered_json> stat;  // {mean, std, min, max}
  std::string reason;
};

struct Measurement {
  std::string label;        // "batch statistics, test batch 32"
  std::vector<Cell> cells;  // per method, in the result's order
};

// Every measurement the result holds, in the order of the train table.
std::vector<Measurement> measurements(const nlohmann::ordered_json& result);

}  // namespace bnlab::html
