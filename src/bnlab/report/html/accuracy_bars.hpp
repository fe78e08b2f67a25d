#pragma once
// The bar chart of the training section's accuracy figures: a group of bars
// per measurement, one bar per method at the mean over seeds with a
// +- one standard deviation whisker, or the reason where it does not apply.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/report/html/train_measurements.hpp"

namespace bnlab::html {

// The figure `figure_id` with `title` and `caption`: the bars of `rows` for
// every method of `result`, on an accuracy axis from 0 to 1 with chance marked.
std::string accuracy_bars(const nlohmann::ordered_json& result, const std::vector<Measurement>& rows,
                          const std::string& figure_id, const std::string& title, const std::string& caption);

}  // namespace bnlab::html
