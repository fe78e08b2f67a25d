#pragma once
// The experiment of `bnlab train`: for each method and seed, train the small
// CNN of model.hpp on the training images, then measure on the test images
//   - accuracy in eval mode (running statistics) and in train mode (batch
//     statistics) at each test batch size: the train/eval gap;
//   - eval-mode accuracy after translating every image by (k, k) pixels;
//   - eval-mode accuracy with each image centred on a larger canvas, where the
//     method's stored parameters and statistics allow another H x W;
//   - a second network trained with a small batch, in both modes;
//   - eval-mode accuracy with population statistics (PreciseBN) over K
//     training images, for each K, beside the running (EMA) statistics;
// plus the training loss curve, the time per step and the parameter count;
// and, if asked, a learning-rate sweep: per method, a short training at each
// lr of a list, ending in a loss and accuracy or in divergence.
// Everything except the timings is the same bits for the same config,
// whatever the number of threads.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bnlab/core/progress.hpp"
#include "bnlab/train/dataset.hpp"
#include "bnlab/train/train_config.hpp"
#include "bnlab/train/train_method.hpp"

namespace bnlab::train {

struct TrainingRun {
  std::vector<double> loss_curve;  // mean training loss of each loss_every steps
  double final_loss = 0;           // mean loss of the last epoch's last tenth of steps; NaN if it diverged
  std::size_t steps = 0;
  double seconds = 0;              // wall-clock training time
  // The step (1-based) whose loss was not finite or above kExplodedLoss, if
  // one was (the lr sweep; a main run stops there with an error).
  std::optional<std::size_t> diverged_at;
};

// The loss starts near ln 10 = 2.3; above 100 the weights have blown up (the
// right class's logit is 100 below another's), as surely as at NaN.
inline constexpr double kExplodedLoss = 100.0;

// One point of the learning-rate sweep.
struct SweepPoint {
  double lr = 0;
  TrainingRun training;
  std::optional<double> eval_accuracy;  // none when it diverged
};

struct SeedResult {
  std::uint64_t seed = 0;
  TrainingRun training;
  double eval_accuracy = 0;                  // running statistics
  std::vector<double> batch_accuracy;        // batch statistics, per test batch size
  std::vector<double> shift_accuracy;        // eval mode, per shift
  std::optional<double> canvas_accuracy;     // eval mode on the canvas, if applicable
  std::optional<TrainingRun> small_batch;    // the small-batch network's training (it may diverge)
  double small_batch_eval_accuracy = 0;      // its eval-mode accuracy
  double small_batch_batch_accuracy = 0;     // its accuracy with batch statistics (first test batch size)
  // Eval mode with population statistics over K training images, one per
  // config.precise_bn_images entry; empty for methods without running statistics.
  std::vector<double> population_accuracy;
  double eval_seconds = 0;                   // wall-clock time of all evaluations
};

struct TrainMethodResult {
  TrainMethod method;
  std::size_t parameters = 0, norm_parameters = 0;
  std::optional<std::string> canvas_problem;  // why another H x W does not apply
  std::vector<SeedResult> seeds;
  std::vector<SweepPoint> lr_sweep;  // one per config.lr_sweep entry (first seed)
};

struct TrainResult {
  TrainConfig config;
  std::string data_source;
  std::size_t train_images = 0, test_images = 0;
  std::size_t image_height = 0, image_width = 0;
  std::vector<TrainMethodResult> methods;
  double total_seconds = 0;
};

// Runs everything on `data` (its first train_images / test_images images).
TrainResult run_experiment(const TrainConfig& config, const DataSet& data, const ProgressLines& progress);

// Loads the data named by config.data (a directory, or "stand-in": generated
// images for a quick try) and runs the experiment.
TrainResult run_experiment(const TrainConfig& config, const ProgressLines& progress);

}  // namespace bnlab::train
