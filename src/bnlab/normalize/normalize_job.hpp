#pragma once
// `bnlab normalize` as a library call: read .npy inputs, run one method in
// train or eval mode (and backward with dy), write every output .npy and a
// summary.json. Each output is staged as an anonymous file as soon as it is
// computed (y before the backward runs, and freed: x, dy and y or dx are the
// only input-sized tensors alive at once) and
// all of them appear together at the end, so an error or a kill never leaves
// a half-written output, nor some outputs without the others.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bnlab/core/progress.hpp"

namespace bnlab {

// How the caller names each value in error messages: the request's own field
// names by default; the command line passes its option names ("--eps").
struct NormalizeNames {
  std::string method = "method", input = "input", layer = "layer", affine = "affine", mode = "mode",
              layout = "layout", engine = "engine", eps = "eps", momentum = "momentum", gamma = "gamma",
              beta = "beta", running_mean = "running_mean", running_var = "running_var";
  // The same names as command-line options spell them: "--" and the name with
  // '-' for '_' ("--running-mean"), which is how bnlab normalize names them.
  static NormalizeNames as_options();
};

struct NormalizeRequest {
  std::string method = "3";
  std::string input;                 // X.npy, (N, C, H, W) or (N, H, W, C); or an .npz with layer
  std::optional<std::string> layer;  // the array of an .npz input to normalize
  std::string out_dir;
  std::optional<std::string> gamma, beta, dy, running_mean, running_var;
  std::string affine = "natural";    // natural | channel | none
  std::string mode = "train";        // train | eval
  std::string layout = "NCHW";       // NCHW | NHWC
  std::string engine = "fast";       // fast | reference (engine/engine_choice.hpp)
  double eps = 1e-5;
  double momentum = 0.1;
  // fsync each output before the outputs appear (io/atomic_file.hpp): they
  // survive a power cut whole or not at all. false (the default, as
  // numpy.save and torch.save): a crash or kill of bnlab still leaves
  // nothing partial; only a power cut or OS crash right after may.
  bool sync = false;
  NormalizeNames names;
};

// Runs the request; returns the summary it also writes to out_dir/summary.json.
// Throws Error with a one-line message naming the culprit. `progress` (may be
// null) is told each step (reading, forward, backward, writing) as it starts.
nlohmann::ordered_json run_normalize(const NormalizeRequest& request, Progress* progress = nullptr);

// Every file run_normalize may write into out_dir (those it stages), for the
// check of the outputs before any work (io/output_check.hpp).
inline const std::vector<std::string>& normalize_output_files() {
  static const std::vector<std::string> names{"y.npy",      "mean.npy",         "var.npy",         "dx.npy",     "dgamma.npy",
                                              "dbeta.npy",  "running_mean.npy", "running_var.npy", "summary.json"};
  return names;
}

}  // namespace bnlab
