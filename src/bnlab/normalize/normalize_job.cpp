#include "bnlab/normalize/normalize_job.hpp"

#include <filesystem>
#include <utility>
#include <vector>

#include "bnlab/io/atomic_file.hpp"
#include "bnlab/engine/engine.hpp"
#include "bnlab/engine/engine_choice.hpp"
#include "bnlab/core/error.hpp"
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
                         const MethodPlan& plan) {
  Array<float> a = read_npy(path);
  std::vector<std::size_t> got(a.shape().begin(), a.shape().end());
  if (got != expected) {
    throw Error(path + ": " + role + " of method " + plan.method.id + " (--affine " + to_string(plan.affine) +
                ") must have shape " + shape_to_string(expected) + ", got " + shape_to_string(got));
  }
  return a;
}

void require_range(double value, double lo, double hi, const std::string& what) {
  if (!(value >= lo && value <= hi)) {
    throw Error(what + ": must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                std::to_string(value));
  }
}

}  // namespace

nlohmann::ordered_json run_normalize(const NormalizeRequest& request, Progress* progress) {
  const Method method = parse_method(request.method, "--method");
  const AffineMode affine = parse_affine_mode(request.affine, "--affine");
  const DataLayout data_layout = parse_data_layout(request.layout, "--layout");
  const EngineKind engine = parse_engine_kind(request.engine, "--engine");
  if (request.mode != "train" && request.mode != "eval") {
    throw Error("--mode: unknown mode \"" + request.mode + "\" (valid: train, eval)");
  }
  const Mode mode = request.mode == "train" ? Mode::train : Mode::eval;
  require_range(request.eps, 0.0, 1e3, "--eps");
  require_range(request.momentum, 0.0, 1.0, "--momentum");
  if (request.running_mean.has_value() != request.running_var.has_value()) {
    throw Error(std::string(request.running_mean ? "--running-var" : "--running-mean") +
                ": running statistics come in pairs: give both --running-mean and --running-var");
  }
  if (mode == Mode::eval && !request.running_mean) {
    throw Error("--mode eval: needs the running statistics: give --running-mean and --running-var");
  }
  if (affine == AffineMode::none && (request.gamma || request.beta)) {
    throw Error(std::string(request.gamma ? "--gamma" : "--beta") + ": given with --affine none, which has no parameters");
  }

  // Steps: read, forward, backward (with dy), write.
  if (progress) progress->add_steps(request.dy ? 4 : 3);
  step(progress, "reading " + request.input);
  // x: (N, C, H, W) in memory, whatever the file's layout.
  Array<float> x = read_feature_map_or_layer(request.input, request.layer, data_layout);  // .npy, or --layer of an .npz
  Dims dims = dims_from_shape(Shape(x.shape().begin(), x.shape().end()), request.input);
  MethodPlan plan = make_plan(method, affine, dims);
  if (mode == Mode::eval && !method.batch_dependent()) {
    throw Error("--mode eval: method " + method.id +
                " has no batch statistics (eval mode applies only to methods 1, 2, 3; its train mode is what it does at inference)");
  }

  Params<float> params = identity_params<float>(plan);
  if (request.gamma) params.gamma = read_shaped(*request.gamma, plan.param_shape, "gamma", plan);
  if (request.beta) params.beta = read_shaped(*request.beta, plan.param_shape, "beta", plan);

  std::optional<Statistics> running;
  if (request.running_mean) {
    running = Statistics{stats_values(read_shaped(*request.running_mean, plan.stat_shape, "running mean", plan)),
                         stats_values(read_shaped(*request.running_var, plan.stat_shape, "running var", plan))};
  }
  std::optional<Array<float>> dy;
  if (request.dy) {
    dy = read_feature_map(*request.dy, data_layout);
    require_shape(Shape(dy->shape().begin(), dy->shape().end()), dims.to_vector(), *request.dy + ": dy (as N, C, H, W)");
  }

  // Compute everything first; write only when all of it succeeded.
  std::vector<std::pair<std::string, std::pair<Array<float>, bool>>> outputs;  // name -> (array, is feature map)
  Statistics used;
  Array<float> y;
  step(progress, "forward");
  if (mode == Mode::train) {
    y = forward_train(engine, plan, x, params, request.eps, &used);
  } else {
    used = *running;
    y = forward_eval(engine, plan, x, params, used, request.eps);
  }
  outputs.push_back({"y", {std::move(y), true}});
  if (mode == Mode::train) {
    outputs.push_back({"mean", {stats_array(used.mean, plan.stat_shape), false}});
    outputs.push_back({"var", {stats_array(used.var, plan.stat_shape), false}});
  }
  if (dy) {
    step(progress, "backward");
    Gradients<float> grads = backward(engine, plan, mode, x, *dy, params, used, request.eps);
    outputs.push_back({"dx", {std::move(grads.dx), true}});
    if (plan.has_affine()) {
      outputs.push_back({"dgamma", {std::move(grads.dgamma), false}});
      outputs.push_back({"dbeta", {std::move(grads.dbeta), false}});
    }
  }
  if (mode == Mode::train && running) {
    Statistics updated = update_running(engine, plan, *running, used, request.momentum);
    outputs.push_back({"running_mean", {stats_array(updated.mean, plan.stat_shape), false}});
    outputs.push_back({"running_var", {stats_array(updated.var, plan.stat_shape), false}});
  }

  step(progress, "writing " + request.out_dir);
  std::error_code ec;
  std::filesystem::create_directories(request.out_dir, ec);
  if (ec || !std::filesystem::is_directory(request.out_dir)) {
    throw Error(request.out_dir + ": cannot create the output directory" + (ec ? ": " + ec.message() : ""));
  }
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (auto& [name, entry] : outputs) {
    std::string path = (std::filesystem::path(request.out_dir) / (name + ".npy")).string();
    if (entry.second) write_feature_map(path, entry.first, data_layout);
    else write_npy(path, entry.first);
    files.push_back(name + ".npy");
  }
  files.push_back("summary.json");

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
  write_file_atomically((std::filesystem::path(request.out_dir) / "summary.json").string(), summary.dump(2) + "\n");
  return summary;
}

}  // namespace bnlab
