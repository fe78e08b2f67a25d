#pragma once
// A statistic whose variance is 0 (a dead ReLU channel for Method 3, a dead
// activation for Method 2) normalizes to 0/0 when eps is 0: the output would
// be NaN. bnlab refuses that case, naming the statistic, instead of writing
// NaN; this finds it.
#include <optional>
#include <string>
#include <vector>

#include "bnlab/engine/method.hpp"

namespace bnlab {

// The first statistic with var + eps <= 0 (or NaN), described by its index
// over the statistic axes, e.g. "statistic (c=5) of shape (16,) over (C)";
// nullopt when there is none. var: (plan.num_stats).
std::optional<std::string> find_zero_variance_statistic(const MethodPlan& plan, const std::vector<double>& var,
                                                        double eps);

}  // namespace bnlab
