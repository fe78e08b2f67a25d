#include "bnlab/train/norm_layer.hpp"

#include "bnlab/core/error.hpp"

namespace bnlab::train {

NormLayer::NormLayer(const TrainMethod& method, std::size_t c, std::size_t h, std::size_t w, double eps,
                     double momentum)
    : method_(method), built_for_{1, c, h, w}, eps_(eps), momentum_(momentum) {
  if (!method.norm) {  // `none`: gamma = 1, beta = 0 per channel
    gamma = xt::ones<float>(std::vector<std::size_t>{c});
    beta = xt::zeros<float>(std::vector<std::size_t>{c});
  } else {
    const MethodPlan plan = make_plan(*method.norm, AffineMode::natural, built_for_);
    Params<float> identity = identity_params<float>(plan);
    gamma = identity.gamma;
    beta = identity.beta;
    if (method.batch_dependent()) {
      running.mean.assign(plan.num_stats, 0.0);
      running.var.assign(plan.num_stats, 1.0);
    }
  }
  dgamma = xt::zeros<float>(gamma.shape());
  dbeta = xt::zeros<float>(beta.shape());
}

MethodPlan NormLayer::plan_for(const Array<float>& x) const {
  Dims dims = dims_from_shape(shape_of(x), "norm layer input");
  if (auto problem = other_size_problem(dims.h, dims.w)) throw Error("norm layer: " + *problem);
  if (dims.c != built_for_.c) throw Error("norm layer: expected " + std::to_string(built_for_.c) + " channels");
  return make_plan(*method_.norm, AffineMode::natural, dims);
}

std::optional<std::string> NormLayer::other_size_problem(std::size_t h, std::size_t w) const {
  if (!method_.norm || (h == built_for_.h && w == built_for_.w)) return std::nullopt;
  const Method& method = *method_.norm;
  const std::string trained = std::to_string(built_for_.h) + "x" + std::to_string(built_for_.w);
  if (method.param_s) {
    const MethodPlan plan = make_plan(method, AffineMode::natural, built_for_);
    return "gamma and beta have shape " + shape_to_string(plan.param_shape) + ", one per location of the " +
           trained + " map they were trained on";
  }
  if (method.batch_dependent() && !method.reduce_s) {
    const MethodPlan plan = make_plan(method, AffineMode::natural, built_for_);
    return "running statistics have shape " + shape_to_string(plan.stat_shape) + ", one per location of the " +
           trained + " map they were estimated on";
  }
  return std::nullopt;
}

Array<float> NormLayer::forward(const Array<float>& x, Pass pass) { return forward(Array<float>(x), pass); }

Array<float> NormLayer::forward(Array<float>&& x, Pass pass) {
  if (!method_.norm) return affine_forward(std::move(x));
  const MethodPlan plan = plan_for(x);
  const Params<float> params{gamma, beta};
  if (pass == Pass::eval && method_.batch_dependent()) {
    plan_.reset();
    return forward_eval(plan, x, params, running, eps_);
  }
  Statistics batch;
  Array<float> y = forward_train(plan, x, params, eps_, &batch);
  if (method_.batch_dependent()) {
    if (pass == Pass::train) running = update_running(plan, running, batch, momentum_);
    // momentum 1/i: running_i = (1 - 1/i) running_{i-1} + (1/i) batch_i, the
    // average of the i batches (the first one replaces what was there).
    if (pass == Pass::population) running = update_running(plan, running, batch, 1.0 / double(++population_batches_));
  }
  if (pass == Pass::population) {  // no backward follows
    plan_.reset();
    return y;
  }
  input_ = std::move(x);
  batch_ = std::move(batch);
  plan_ = plan;
  return y;
}

Array<float> NormLayer::backward(const Array<float>& dy) {
  if (!method_.norm) return affine_backward(dy);
  if (!plan_) throw Error("norm layer: backward needs a batch-statistics forward first");
  Gradients<float> g = bnlab::backward(*plan_, Mode::train, input_, dy, Params<float>{gamma, beta}, batch_, eps_);
  dgamma = std::move(g.dgamma);
  dbeta = std::move(g.dbeta);
  return std::move(g.dx);
}

// y[n,c,s] = gamma[c] * x[n,c,s] + beta[c]; the same in every pass.
Array<float> NormLayer::affine_forward(Array<float>&& x) {
  const Dims dims = dims_from_shape(shape_of(x), "norm layer input");
  if (dims.c != built_for_.c) throw Error("norm layer: expected " + std::to_string(built_for_.c) + " channels");
  auto y = Array<float>::from_shape(x.shape());  // (N, C, H, W)
  const std::size_t plane = dims.h * dims.w;
  for (std::size_t n = 0; n < dims.n; ++n) {
    for (std::size_t c = 0; c < dims.c; ++c) {
      const float g = gamma(c), b = beta(c);
      const float* in = x.data() + (n * dims.c + c) * plane;
      float* out = y.data() + (n * dims.c + c) * plane;
      for (std::size_t s = 0; s < plane; ++s) out[s] = g * in[s] + b;
    }
  }
  input_ = std::move(x);
  return y;
}

// dgamma[c] = sum_{n,s} dy * x,  dbeta[c] = sum_{n,s} dy  (double, in memory
// order);  dx = gamma[c] * dy.
Array<float> NormLayer::affine_backward(const Array<float>& dy) {
  if (dy.shape() != input_.shape()) throw Error("norm layer: gradient shape does not match the forward");
  const std::size_t batch = input_.shape()[0], channels = input_.shape()[1];
  const std::size_t plane = input_.size() / (batch * channels);
  auto dx = Array<float>::from_shape(dy.shape());  // (N, C, H, W)
  for (std::size_t c = 0; c < channels; ++c) {
    double sum_dy = 0, sum_dy_x = 0;
    const float g = gamma(c);
    for (std::size_t n = 0; n < batch; ++n) {
      const std::size_t offset = (n * channels + c) * plane;
      const float* d = dy.data() + offset;
      const float* in = input_.data() + offset;
      float* out = dx.data() + offset;
      for (std::size_t s = 0; s < plane; ++s) {
        sum_dy += d[s];
        sum_dy_x += double(d[s]) * double(in[s]);
        out[s] = g * d[s];
      }
    }
    dgamma(c) = float(sum_dy_x);
    dbeta(c) = float(sum_dy);
  }
  return dx;
}

}  // namespace bnlab::train
