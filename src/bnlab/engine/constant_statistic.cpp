#include "bnlab/engine/constant_statistic.hpp"

#include <cctype>

namespace bnlab {

std::optional<std::string> find_zero_variance_statistic(const MethodPlan& plan, const std::vector<double>& var,
                                                        double eps) {
  for (std::size_t i = 0; i < var.size(); ++i) {
    if (var[i] + eps > 0.0) continue;
    // Unravel i over stat_shape (C order); stat_axes() names the same axes.
    const std::vector<std::string> axes = plan.stat_axes();
    std::vector<std::size_t> index(plan.stat_shape.size());
    std::size_t rest = i;
    for (std::size_t k = plan.stat_shape.size(); k-- > 0;) {
      index[k] = rest % plan.stat_shape[k];
      rest /= plan.stat_shape[k];
    }
    std::string where, over;
    for (std::size_t k = 0; k < index.size(); ++k) {
      std::string name = k < axes.size() ? axes[k] : "?";
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      where += (k ? ", " : "") + name + "=" + std::to_string(index[k]);
      over += (k ? ", " : "") + (k < axes.size() ? axes[k] : "?");
    }
    return "statistic (" + where + ") of shape " + shape_to_string(plan.stat_shape) + " over (" + over + ")";
  }
  return std::nullopt;
}

}  // namespace bnlab
