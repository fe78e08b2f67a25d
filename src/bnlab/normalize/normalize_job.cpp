#include "bnlab/normalize/normalize_job.hpp"

#include <cmath>
#include <filesystem>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "bnlab/io/atomic_file.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/engine/engine_choice.hpp"
#include "bnlab/core/error.hpp"
#include "bnlab/core/finite.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/engine/constant_statistic.hpp"
#include "bnlab/io/notes.hpp"
#include "bnlab/io/npy.hpp"
#include "bnlab/io/npz.hpp"

namespace bnlab {
namespace {

Array<float> stats_array(const std::vector<double>& values, const std::vector<std::size_t>& shape) {
  Array<float> out = Array<float>::from_shape(shape);  // (stat shape)
  for (std::size_t i = 0; i < values.size(); ++i) out.data()[i] = float(values[i]);
  return out;
}

std::vector<double> stats_values(const Array<float>& a) { return std::vector<double>(a.data(), a.data() + a.size()); }

// Reads a parameter or statistic file and checks its shape against the plan's.
Array<float> read_shaped(const std::string& path, const std::vector<std::size_t>& expected, const std::string& role,
                         const MethodPlan& plan, const std::string& affine_name) {
  Array<float> a = read_npy(path);
  std::vector<std::size_t> got(a.shape().begin(), a.shape().end());
  if (got != expected) {
    throw Error(path + ": " + role + " of method " + plan.method.id + " (" + affine_name + " " + to_string(plan.affine) +
                ") must have shape " + shape_to_string(expected) + ", got " + shape_to_string(got));
  }
  return a;
}

// Never NaN passed off as a result: an output that is not finite (a value
// overflowing float32, say) is refused before anything is written.
void require_finite(const float* values, std::size_t count, const std::string& name) {
  if (const std::size_t i = first_non_finite(values, count); i < count) {
    throw Error(name + ".npy: would hold " + number_text(values[i]) + " at flat index " + std::to_string(i) +
                " (the input's values overflow float32 arithmetic); nothing was written");
  }
}
void require_finite(const Array<float>& a, const std::string& name) { require_finite(a.data(), a.size(), name); }

// eps = 0 with a constant statistic: xhat = 0/0. Refused, naming the statistic.
void refuse_zero_variance(const MethodPlan& plan, const std::vector<double>& var, double eps,
                          const std::string& source, const std::string& eps_name) {
  if (auto statistic = find_zero_variance_statistic(plan, var, eps)) {
    throw Error(eps_name + " " + number_text(eps) + ": " + *statistic + " of method " + plan.method.id + " has " + source +
                " variance 0, so (x - mean) / sqrt(var + eps) is 0/0; give " + eps_name + " > 0 (e.g. the default 1e-5)");
  }
}

// Running variances are variances: >= 0 (a negative one would give NaN).
void require_nonnegative(const std::vector<double>& var, const std::string& path) {
  for (std::size_t i = 0; i < var.size(); ++i) {
    if (var[i] < 0.0) {
      throw Error(path + ": running var must be >= 0, got " + number_text(var[i]) + " at flat index " +
                  std::to_string(i));
    }
  }
}

// The output directory, created when missing; removed again (if still
// empty) when the run fails before its outputs appear, by an error or a
// signal bnlab catches (io/atomic_file.hpp DirectoryRemovedOnSignal).
class OutputDirectory {
 public:
  explicit OutputDirectory(const std::string& path) : path_(path) {
    std::error_code ec;
    created_ = !std::filesystem::exists(path, ec);
    std::filesystem::create_directories(path, ec);
    if (ec || !std::filesystem::is_directory(path)) {
      throw Error(path + ": cannot create the output directory" + (ec ? ": " + ec.message() : ""));
    }
    if (created_) on_signal_.emplace(path);
  }
  ~OutputDirectory() {
    std::error_code ec;
    if (created_ && !kept_) std::filesystem::remove(path_, ec);  // only if empty
  }
  OutputDirectory(const OutputDirectory&) = delete;
  OutputDirectory& operator=(const OutputDirectory&) = delete;
  void keep() {
    kept_ = true;
    on_signal_.reset();
  }

 private:
  std::string path_;
  bool created_ = false, kept_ = false;
  std::optional<DirectoryRemovedOnSignal> on_signal_;
};

// A feature map the job reads only through a pointer: mapped from its .npy
// where that is possible (io/npy.hpp map_feature_map: no copy into fresh
// memory), else read into an array.
struct InputTensor {
  std::optional<MappedFeatureMap> mapped;
  Array<float> array;  // (N, C, H, W) when not mapped
  const float* data() const { return mapped ? mapped->data : array.data(); }  // (N, C, H, W)
  Shape shape() const { return mapped ? mapped->shape : shape_of(array); }
};

// `path` as a feature map: mapped when `may_map` and it is a float32 .npy
// that can be mapped, else read by `read` (each input keeps its own reader
// and so its own messages: x may be an .npz's --layer, dy may not).
InputTensor load_input(const std::string& path, DataLayout layout, bool may_map,
                       const std::function<Array<float>()>& read) {
  InputTensor input;
  if (may_map && layout == DataLayout::nchw && !file_starts_like_zip(path)) input.mapped = map_feature_map(path);
  if (!input.mapped) input.array = read();
  return input;
}

// summary.json: what was computed, from what, into which files.
nlohmann::ordered_json summary_of(const NormalizeRequest& request, const Method& method, AffineMode affine,
                                  EngineKind engine, DataLayout data_layout, const Dims& dims, const MethodPlan& plan,
                                  const nlohmann::ordered_json& files);

// The request's choices, parsed, with the combinations that cannot work
// refused before any file is read.
struct JobOptions {
  Method method;
  AffineMode affine;
  DataLayout layout;
  EngineKind engine;
  Mode mode;
  // With the fast engine and an NCHW layout, the job reads x and dy through
  // pointers, so a float32 .npy is mapped rather than read, and y and dx are
  // computed straight into their staged files' mapped pages (io/npy.hpp
  // add_npy_filled): no buffers of their own, no copies; the same bytes.
  bool into_files;
};

JobOptions parse_options(const NormalizeRequest& request) {
  const NormalizeNames& n = request.names;
  const Method method = parse_method(request.method, n.method);
  const AffineMode affine = parse_affine_mode(request.affine, n.affine);
  const DataLayout data_layout = parse_data_layout(request.layout, n.layout);
  const EngineKind engine = parse_engine_kind(request.engine, n.engine);
  if (request.mode != "train" && request.mode != "eval") {
    throw Error(n.mode + ": unknown mode \"" + request.mode + "\" (valid: train, eval)");
  }
  const Mode mode = request.mode == "train" ? Mode::train : Mode::eval;
  require_in_range(request.eps, kEpsRange, n.eps, number_text(request.eps));
  require_in_range(request.momentum, kMomentumRange, n.momentum, number_text(request.momentum));
  if (request.running_mean.has_value() != request.running_var.has_value()) {
    throw Error((request.running_mean ? n.running_var : n.running_mean) +
                ": running statistics come in pairs: give both " + n.running_mean + " and " + n.running_var);
  }
  if (mode == Mode::eval && !request.running_mean) {
    throw Error(n.mode + " eval: needs the running statistics: give " + n.running_mean + " and " + n.running_var);
  }
  if (affine == AffineMode::none && (request.gamma || request.beta)) {
    throw Error((request.gamma ? n.gamma : n.beta) + ": given with " + n.affine + " none, which has no parameters");
  }
  return {method, affine, data_layout, engine, mode, engine == EngineKind::fast && data_layout == DataLayout::nchw};
}

// What the job computes from: x, its plan, gamma and beta, the running
// statistics and dy, each checked against the plan's shapes.
struct JobInputs {
  InputTensor x;  // (N, C, H, W)
  Dims dims;
  MethodPlan plan;
  Params<float> params;
  std::optional<Statistics> running;
  std::optional<InputTensor> dy;  // (N, C, H, W)
};

JobInputs read_inputs(const NormalizeRequest& request, const JobOptions& o, Progress* progress) {
  const NormalizeNames& n = request.names;
  step(progress, "reading " + request.input);
  // A note about x (its layout) follows only once the method fits its shape:
  // when it does not (gn:3 on 16 channels), the error is the only line.
  HeldNotes notes;
  // x: (N, C, H, W), whatever the file's layout: an .npy, or --layer of an .npz.
  InputTensor x = load_input(request.input, o.layout, o.into_files && !request.layer, [&] {
    return read_feature_map_or_layer(request.input, request.layer, o.layout, n.layer);
  });
  Dims dims = dims_from_shape(x.shape(), request.input);
  MethodPlan plan = make_plan(o.method, o.affine, dims);
  notes.release();
  if (o.mode == Mode::eval && !o.method.batch_dependent()) {
    throw Error(n.mode + " eval: method " + o.method.id +
                " has no batch statistics (eval mode applies only to methods 1, 2, 3; its train mode is what it does at inference)");
  }

  Params<float> params = identity_params<float>(plan);
  if (request.gamma) params.gamma = read_shaped(*request.gamma, plan.param_shape, "gamma", plan, n.affine);
  if (request.beta) params.beta = read_shaped(*request.beta, plan.param_shape, "beta", plan, n.affine);

  std::optional<Statistics> running;
  if (request.running_mean) {
    running = Statistics{stats_values(read_shaped(*request.running_mean, plan.stat_shape, "running mean", plan, n.affine)),
                         stats_values(read_shaped(*request.running_var, plan.stat_shape, "running var", plan, n.affine))};
    require_nonnegative(running->var, *request.running_var);
  }
  std::optional<InputTensor> dy;
  if (request.dy) {
    dy = load_input(*request.dy, o.layout, o.into_files, [&] { return read_feature_map(*request.dy, o.layout); });
    require_shape(dy->shape(), dims.to_vector(), *request.dy + ": dy (as N, C, H, W)");
  }
  return {std::move(x), dims, std::move(plan), std::move(params), std::move(running), std::move(dy)};
}

// The outputs. Each is checked (no NaN or Inf passed off as a result) and
// staged as soon as it is computed: written to an anonymous file that appears
// only when the group commits, all outputs together or none
// (io/atomic_file.hpp). The output directory is created at the first output.
class StagedOutputs {
 public:
  StagedOutputs(const NormalizeRequest& request, DataLayout layout, const Dims& dims)
      : request_(request), layout_(layout), dims_(dims) {}

  // `a`, written as the request's layout when it is a feature map.
  void stage(const std::string& name, const Array<float>& a, bool feature_map) {
    require_finite(a, name);
    open();
    const std::string path = path_of(name + ".npy");
    if (feature_map) {
      add_feature_map(*group_, path, a, layout_);
    } else {
      add_npy(*group_, path, a);
    }
    files_.push_back(name + ".npy");
  }

  // An (N, C, H, W) output that `compute` writes straight into its file's pages.
  void stage_computed(const std::string& name, const std::function<void(float* out)>& compute) {
    open();
    add_npy_filled(*group_, path_of(name + ".npy"), dims_.to_vector(), [&](float* out) {  // out: (N, C, H, W)
      compute(out);
      require_finite(out, dims_.count(), name);
    });
    files_.push_back(name + ".npy");
  }

  // summary.json (listing every output and itself), then all of them appear
  // together. Returns the summary.
  nlohmann::ordered_json commit(const JobOptions& o, const JobInputs& in) {
    files_.push_back("summary.json");
    nlohmann::ordered_json summary = summary_of(request_, o.method, o.affine, o.engine, o.layout, in.dims, in.plan, files_);
    group_->add(path_of("summary.json"),
                summary.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
    group_->commit();
    directory_->keep();
    return summary;
  }

 private:
  void open() {
    if (!directory_) {
      directory_.emplace(request_.out_dir);
      group_.emplace(request_.sync ? FileSync::fsync : FileSync::none);
    }
  }
  std::string path_of(const std::string& name) const { return (std::filesystem::path(request_.out_dir) / name).string(); }

  const NormalizeRequest& request_;
  DataLayout layout_;
  Dims dims_;
  std::optional<OutputDirectory> directory_;
  std::optional<OutputGroup> group_;
  nlohmann::ordered_json files_ = nlohmann::ordered_json::array();
};

// The forward with y computed straight into its staged file (into_files).
// Returns the statistics it normalized with: the batch's, or the running ones.
Statistics forward_into_file(const NormalizeRequest& request, const JobOptions& o, const JobInputs& in,
                             StagedOutputs& outputs) {
  const double eps = request.eps;
  Statistics used;
  if (o.mode == Mode::eval) {
    used = *in.running;
    refuse_zero_variance(in.plan, used.var, eps, "running", request.names.eps);
  }
  outputs.stage_computed("y", [&](float* y) {  // y: (N, C, H, W)
    if (o.mode == Mode::eval) {
      normalize_into(in.plan, in.x.data(), used, in.params, eps, y);  // forward_eval's bits
      return;
    }
    used = forward_train_into(in.plan, in.x.data(), in.params, eps, y);
    refuse_zero_variance(in.plan, used.var, eps, "batch", request.names.eps);
  });
  return used;
}

// The forward into a buffer of y's own, staged and freed before it returns,
// so that the backward runs without it. Returns the statistics it normalized
// with. `writing_step`: the progress step between computing y and staging it.
Statistics forward_in_memory(const NormalizeRequest& request, const JobOptions& o, const JobInputs& in,
                             StagedOutputs& outputs, const std::function<void()>& writing_step) {
  const double eps = request.eps;
  Statistics used;
  Array<float> y;  // (N, C, H, W)
  if (o.mode == Mode::train) {
    y = forward_train(o.engine, in.plan, in.x.array, in.params, eps, &used);
    refuse_zero_variance(in.plan, used.var, eps, "batch", request.names.eps);
  } else {
    used = *in.running;
    refuse_zero_variance(in.plan, used.var, eps, "running", request.names.eps);
    y = forward_eval(o.engine, in.plan, in.x.array, in.params, used, eps);
  }
  writing_step();
  outputs.stage("y", y, true);
  return used;
}  // y is freed here

// dx, then dgamma and dbeta when the method has parameters. dx is computed
// into its staged file (into_files: x, dy and dx the page cache's pages), or
// written over dy, which is no longer needed (no fourth tensor, no fresh pages).
void stage_gradients(const NormalizeRequest& request, const JobOptions& o, JobInputs& in, const Statistics& used,
                     StagedOutputs& outputs) {
  Gradients<float> grads;
  if (o.into_files) {
    outputs.stage_computed("dx", [&](float* dx) {
      grads = backward_into(in.plan, o.mode, in.x.data(), in.dy->data(), in.params, used, request.eps, dx);
    });
  } else {
    grads = backward_over_dy(o.engine, in.plan, o.mode, in.x.array, std::move(in.dy->array), in.params, used,
                             request.eps);
    outputs.stage("dx", grads.dx, true);
  }
  if (in.plan.has_affine()) {
    outputs.stage("dgamma", grads.dgamma, false);
    outputs.stage("dbeta", grads.dbeta, false);
  }
}

// The batch statistics of a train-mode forward: mean and var.
void stage_batch_statistics(const MethodPlan& plan, const Statistics& used, StagedOutputs& outputs) {
  outputs.stage("mean", stats_array(used.mean, plan.stat_shape), false);
  outputs.stage("var", stats_array(used.var, plan.stat_shape), false);
}

// The running statistics after this train-mode step.
void stage_updated_running(const NormalizeRequest& request, const JobOptions& o, const JobInputs& in,
                           const Statistics& used, StagedOutputs& outputs) {
  Statistics updated = update_running(o.engine, in.plan, *in.running, used, request.momentum);
  outputs.stage("running_mean", stats_array(updated.mean, in.plan.stat_shape), false);
  outputs.stage("running_var", stats_array(updated.var, in.plan.stat_shape), false);
}

}  // namespace

NormalizeNames NormalizeNames::as_options() {
  NormalizeNames n;
  for (std::string* name : {&n.method, &n.input, &n.layer, &n.affine, &n.mode, &n.layout, &n.engine, &n.eps,
                            &n.momentum, &n.gamma, &n.beta, &n.running_mean, &n.running_var}) {
    for (char& ch : *name)
      if (ch == '_') ch = '-';
    *name = "--" + *name;
  }
  return n;
}

nlohmann::ordered_json run_normalize(const NormalizeRequest& request, Progress* progress) {
  const JobOptions options = parse_options(request);
  // Steps: read, forward, backward (with dy), write.
  if (progress) progress->add_steps(request.dy ? 4 : 3);
  JobInputs in = read_inputs(request, options, progress);

  // y is staged (and, when it has a buffer of its own, freed) before the
  // backward, so at most three input-sized tensors live at once: x, dy and y,
  // then x, dy and dx computed into its file (fast engine, NCHW: x and dy
  // mapped, all four the page cache's pages), or x and dx written over dy
  // (otherwise).
  if (progress && in.dy) progress->add_steps(1);  // "writing y.npy" between forward and backward
  auto writing_y = [&] {
    if (in.dy) step(progress, "writing y.npy");
  };
  StagedOutputs outputs(request, options.layout, in.dims);
  step(progress, "forward");
  Statistics used;
  if (options.into_files) {
    used = forward_into_file(request, options, in, outputs);
    writing_y();
  } else {
    used = forward_in_memory(request, options, in, outputs, writing_y);
  }
  if (options.mode == Mode::train) stage_batch_statistics(in.plan, used, outputs);
  if (in.dy) {
    step(progress, "backward");
    stage_gradients(request, options, in, used, outputs);
  }
  if (options.mode == Mode::train && in.running) stage_updated_running(request, options, in, used, outputs);

  step(progress, "writing " + request.out_dir);
  return outputs.commit(options, in);
}

namespace {

nlohmann::ordered_json summary_of(const NormalizeRequest& request, const Method& method, AffineMode affine,
                                  EngineKind engine, DataLayout data_layout, const Dims& dims, const MethodPlan& plan,
                                  const nlohmann::ordered_json& files) {
  nlohmann::ordered_json summary;
  summary["schema"] = "bnlab.normalize/1";
  summary["method"] = method.id;
  summary["title"] = method.title;
  summary["mode"] = request.mode;
  summary["affine"] = to_string(affine);
  summary["eps"] = request.eps;
  summary["momentum"] = request.momentum;
  summary["engine"] = to_string(engine);
  summary["input"] = {{"path", request.input}, {"layout", to_string(data_layout)}, {"shape_nchw", dims.to_vector()}};
  if (request.layer) summary["input"]["layer"] = *request.layer;
  summary["reduce_axes"] = plan.reduce_axes();
  summary["stat_shape"] = plan.stat_shape;
  summary["param_shape"] = plan.param_shape;
  summary["elements_per_statistic"] = plan.elements_per_stat;
  auto path_or = [](const std::optional<std::string>& path, nlohmann::ordered_json otherwise) {
    return path ? nlohmann::ordered_json(*path) : otherwise;
  };
  summary["inputs"] = {{"gamma", path_or(request.gamma, "ones")},
                       {"beta", path_or(request.beta, "zeros")},
                       {"dy", path_or(request.dy, nullptr)},
                       {"running_mean", path_or(request.running_mean, nullptr)},
                       {"running_var", path_or(request.running_var, nullptr)}};
  summary["files"] = files;
  return summary;
}

}  // namespace

}  // namespace bnlab
