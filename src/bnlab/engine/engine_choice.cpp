// The engine switch (engine_choice.hpp): the fast engine's float32 calls, or
// the reference's float64 ones with the data widened and the results rounded.
#include "bnlab/engine/engine_choice.hpp"

#include <algorithm>

#include "bnlab/core/error.hpp"
#include "bnlab/engine/reference.hpp"

namespace bnlab {
namespace {

template <class To, class From>
Array<To> converted(const Array<From>& a) {
  Array<To> out = Array<To>::from_shape(shape_of(a));
  for (std::size_t i = 0; i < a.size(); ++i) out.data()[i] = To(a.data()[i]);
  return out;
}

Params<double> widened(const MethodPlan& plan, const Params<float>& params) {
  if (!plan.has_affine()) return {};
  return {converted<double>(params.gamma), converted<double>(params.beta)};
}

}  // namespace

EngineKind parse_engine_kind(const std::string& text, const std::string& what) {
  for (EngineKind kind : kEngineKinds) {
    if (text == to_string(kind)) return kind;
  }
  throw Error(what + ": unknown engine \"" + text + "\" (valid: fast, reference)");
}

std::string to_string(EngineKind kind) { return kind == EngineKind::fast ? "fast" : "reference"; }

std::string describe(EngineKind kind) {
  if (kind == EngineKind::fast) {
    return "fast: the vectorised, cache-blocked engine every subcommand uses (float32 data, double sums)";
  }
  return "reference: plain float64 loops written from the formulas (src/bnlab/engine/reference.cpp), slow:\n"
         "  to read what is computed, or to cross-check the fast engine (they agree to float32 rounding)";
}

Array<float> forward_train(EngineKind kind, const MethodPlan& plan, const Array<float>& x, const Params<float>& params,
                           double eps, Statistics* batch_out) {
  if (kind == EngineKind::fast) return forward_train(plan, x, params, eps, batch_out);
  return converted<float>(reference::forward_train(plan, converted<double>(x), widened(plan, params), eps, batch_out));
}

Array<float> forward_eval(EngineKind kind, const MethodPlan& plan, const Array<float>& x, const Params<float>& params,
                          const Statistics& running, double eps) {
  if (kind == EngineKind::fast) return forward_eval(plan, x, params, running, eps);
  return converted<float>(reference::forward_eval(plan, converted<double>(x), widened(plan, params), running, eps));
}

Gradients<float> backward(EngineKind kind, const MethodPlan& plan, Mode mode, const Array<float>& x,
                          const Array<float>& dy, const Params<float>& params, const Statistics& stats, double eps) {
  if (kind == EngineKind::fast) return backward(plan, mode, x, dy, params, stats, eps);
  Gradients<double> g = reference::backward(plan, mode, converted<double>(x), converted<double>(dy),
                                            widened(plan, params), stats, eps);
  Gradients<float> out{converted<float>(g.dx), {}, {}};
  if (plan.has_affine()) {
    out.dgamma = converted<float>(g.dgamma);
    out.dbeta = converted<float>(g.dbeta);
  }
  return out;
}

Gradients<float> backward_over_dy(EngineKind kind, const MethodPlan& plan, Mode mode, const Array<float>& x,
                                  Array<float> dy, const Params<float>& params, const Statistics& stats, double eps) {
  check_input(plan, shape_of(dy), "dy");
  if (kind == EngineKind::fast) {
    check_input(plan, shape_of(x), "input");
    Gradients<float> g = backward_into(plan, mode, x.data(), dy.data(), params, stats, eps, dy.data());
    g.dx = std::move(dy);  // (N, C, H, W) now dx
    return g;
  }
  Gradients<float> g = backward(kind, plan, mode, x, dy, params, stats, eps);
  std::copy(g.dx.data(), g.dx.data() + g.dx.size(), dy.data());
  g.dx = std::move(dy);
  return g;
}

Statistics update_running(EngineKind kind, const MethodPlan& plan, const Statistics& running, const Statistics& batch,
                          double momentum) {
  if (kind == EngineKind::fast) return update_running(plan, running, batch, momentum);
  return reference::update_running(plan, running, batch, momentum);
}

}  // namespace bnlab
