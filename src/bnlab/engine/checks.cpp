// The checks both engines make before they compute (engine.hpp): each names
// the culprit and what was expected. One wording for the fast engine and the
// reference.
#include <string>

#include "bnlab/core/error.hpp"
#include "bnlab/engine/engine.hpp"

namespace bnlab {

void require_shape(const std::vector<std::size_t>& got, const std::vector<std::size_t>& expected,
                   const std::string& what) {
  if (got != expected) {
    throw Error(what + ": expected shape " + shape_to_string(expected) + ", got " + shape_to_string(got));
  }
}

void check_input(const MethodPlan& plan, const Shape& shape, const std::string& what) {
  require_shape(shape, plan.dims.to_vector(), what);
}

void check_statistics(const MethodPlan& plan, const Statistics& stats, const std::string& what) {
  if (stats.mean.size() != plan.num_stats || stats.var.size() != plan.num_stats) {
    throw Error(what + ": expected " + std::to_string(plan.num_stats) + " statistics of shape " +
                shape_to_string(plan.stat_shape) + ", got " + std::to_string(stats.mean.size()));
  }
}

void check_params(const MethodPlan& plan, const Shape& gamma, const Shape& beta) {
  require_shape(gamma, plan.param_shape, "gamma");
  require_shape(beta, plan.param_shape, "beta");
}

void check_train_mode(const MethodPlan& plan) {
  if (plan.elements_per_stat < 2) {
    throw Error("method " + plan.method.id + ": train mode needs more than one value per statistic, but shape " +
                shape_to_string(plan.dims.to_vector()) + " gives " + std::to_string(plan.elements_per_stat) +
                " (PyTorch refuses this too; use a larger batch or eval mode)");
  }
}

void check_eval_mode(const MethodPlan& plan) {
  if (!plan.method.batch_dependent()) {
    throw Error("method " + plan.method.id +
                ": eval mode applies only to methods 1, 2, 3 (this method has no batch statistics; "
                "its train mode is already what it does at inference)");
  }
}

void check_running_update(const MethodPlan& plan) {
  if (plan.elements_per_stat < 2) {
    throw Error("method " + plan.method.id + ": running statistics need more than one value per statistic");
  }
}

}  // namespace bnlab
