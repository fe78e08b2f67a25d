#include "bnlab/train/norm_layer.hpp"

#include "bnlab/core/error.hpp"

namespace bnlab::train {

NormLayer::NormLayer(const Method& method, std::size_t c, std::size_t h, std::size_t w, double eps,
                     double momentum)
    : method_(method), built_for_{1, c, h, w}, eps_(eps), momentum_(momentum) {
  const MethodPlan plan = make_plan(method, AffineMode::natural, built_for_);
  Params<float> identity = identity_params<float>(plan);
  gamma = identity.gamma;
  beta = identity.beta;
  dgamma = xt::zeros<float>(gamma.shape());
  dbeta = xt::zeros<float>(beta.shape());
  if (method.batch_dependent()) {
    running.mean.assign(plan.num_stats, 0.0);
    running.var.assign(plan.num_stats, 1.0);
  }
}

MethodPlan NormLayer::plan_for(const Array<float>& x) const {
  Dims dims = dims_from_shape(shape_of(x), "norm layer input");
  if (auto problem = other_size_problem(dims.h, dims.w)) throw Error("norm layer: " + *problem);
  if (dims.c != built_for_.c) throw Error("norm layer: expected " + std::to_string(built_for_.c) + " channels");
  return make_plan(method_, AffineMode::natural, dims);
}

std::optional<std::string> NormLayer::other_size_problem(std::size_t h, std::size_t w) const {
  if (h == built_for_.h && w == built_for_.w) return std::nullopt;
  const std::string trained = std::to_string(built_for_.h) + "x" + std::to_string(built_for_.w);
  if (method_.param_s) {
    const MethodPlan plan = make_plan(method_, AffineMode::natural, built_for_);
    return "gamma and beta have shape " + shape_to_string(plan.param_shape) + ", one per location of the " +
           trained + " map they were trained on";
  }
  if (method_.batch_dependent() && !method_.reduce_s) {
    const MethodPlan plan = make_plan(method_, AffineMode::natural, built_for_);
    return "running statistics have shape " + shape_to_string(plan.stat_shape) + ", one per location of the " +
           trained + " map they were estimated on";
  }
  return std::nullopt;
}

Array<float> NormLayer::forward(const Array<float>& x, Pass pass) {
  const MethodPlan plan = plan_for(x);
  const Params<float> params{gamma, beta};
  if (pass == Pass::eval && method_.batch_dependent()) {
    plan_.reset();
    return forward_eval(plan, x, params, running, eps_);
  }
  Statistics batch;
  Array<float> y = forward_train(plan, x, params, eps_, &batch);
  if (pass == Pass::train && method_.batch_dependent()) running = update_running(plan, running, batch, momentum_);
  input_ = x;
  batch_ = std::move(batch);
  plan_ = plan;
  return y;
}

Array<float> NormLayer::backward(const Array<float>& dy) {
  if (!plan_) throw Error("norm layer: backward needs a batch-statistics forward first");
  Gradients<float> g = bnlab::backward(*plan_, Mode::train, input_, dy, Params<float>{gamma, beta}, batch_, eps_);
  dgamma = std::move(g.dgamma);
  dbeta = std::move(g.dbeta);
  return std::move(g.dx);
}

}  // namespace bnlab::train
