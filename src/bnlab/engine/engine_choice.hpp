#pragma once
// Which engine runs a computation: the fast one (engine.hpp) or the readable
// float64 reference (reference.hpp), behind the fast engine's float32 API, so
// that a caller such as `bnlab normalize --engine` switches with one value.
// The reference widens float32 inputs to float64 exactly and rounds its
// results to float32 at the end.
#include <string>

#include "bnlab/engine/engine.hpp"

namespace bnlab {

enum class EngineKind { fast, reference };

// "fast" or "reference"; anything else is an Error naming `what` and the valid names.
EngineKind parse_engine_kind(const std::string& text, const std::string& what);
std::string to_string(EngineKind kind);
// One line per engine for help text: what it is and when to choose it.
std::string describe(EngineKind kind);
inline constexpr EngineKind kEngineKinds[] = {EngineKind::fast, EngineKind::reference};

Array<float> forward_train(EngineKind kind, const MethodPlan& plan, const Array<float>& x, const Params<float>& params,
                           double eps, Statistics* batch_out);
Array<float> forward_eval(EngineKind kind, const MethodPlan& plan, const Array<float>& x, const Params<float>& params,
                          const Statistics& running, double eps);
Gradients<float> backward(EngineKind kind, const MethodPlan& plan, Mode mode, const Array<float>& x,
                          const Array<float>& dy, const Params<float>& params, const Statistics& stats, double eps);
// backward with dx written over dy, which the caller no longer needs: the
// returned dx is dy's memory (no new input-sized tensor, no fresh pages). The
// fast engine computes it in place (backward_into allows dx == dy); the
// reference computes in float64 and copies its rounded dx into that memory.
Gradients<float> backward_over_dy(EngineKind kind, const MethodPlan& plan, Mode mode, const Array<float>& x,
                                  Array<float> dy, const Params<float>& params, const Statistics& stats, double eps);
Statistics update_running(EngineKind kind, const MethodPlan& plan, const Statistics& running, const Statistics& batch,
                          double momentum);

}  // namespace bnlab
