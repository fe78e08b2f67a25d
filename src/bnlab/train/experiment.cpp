#include "bnlab/train/experiment.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <limits>
#include <map>
#include <numeric>

#include <nlohmann/json.hpp>

#include <omp.h>

#include "bnlab/core/error.hpp"
#include "bnlab/core/memory_policy.hpp"
#include "bnlab/core/number.hpp"
#include "bnlab/core/rng.hpp"
#include "bnlab/train/loss.hpp"
#include "bnlab/train/model.hpp"
#include "bnlab/train/schedule.hpp"

namespace bnlab::train {
namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The order of the images in one epoch: a Fisher-Yates shuffle from `rng`.
std::vector<std::size_t> shuffled(std::size_t count, Rng& rng) {
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t{0});
  for (std::size_t i = count; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  return order;
}

// SGD over `images` for `epochs` epochs of full batches (the last partial batch
// of an epoch is dropped, so every statistic pools a full batch), the learning
// rate set before each step by the config's schedule. A loss that is not
// finite or above kExplodedLoss ends the run: an error naming the step, or,
// with `divergence_is_a_result` (the lr sweep), the run's outcome.
TrainingRun train(Network& net, const Images& images, const TrainConfig& config, double lr, std::size_t batch_size,
                  std::size_t epochs, std::uint64_t seed, const std::string& label, const ProgressLines& progress,
                  bool divergence_is_a_result = false) {
  Sgd sgd(lr, config.momentum);
  Rng order_rng(seed ^ 0x9e3779b97f4a7c15ull);  // the data order; the weights use Rng(seed)
  TrainingRun run;
  const std::size_t per_epoch = images.count / batch_size, total = per_epoch * epochs;
  std::vector<double> window, last_losses;
  const auto start = Clock::now();
  for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
    const std::vector<std::size_t> order = shuffled(images.count, order_rng);
    for (std::size_t b = 0; b < per_epoch; ++b) {
      const std::size_t begin = b * batch_size, end = begin + batch_size;
      const Array<float> x = batch_input(images, order, begin, end);  // (B, 1, 28, 28)
      LossResult loss = softmax_cross_entropy(net.forward(x, Pass::train), batch_labels(images, order, begin, end));
      if (!std::isfinite(loss.loss) || loss.loss > kExplodedLoss) {
        if (divergence_is_a_result) {
          run.diverged_at = run.steps + 1;
          run.final_loss = std::numeric_limits<double>::quiet_NaN();  // no final loss: the JSON says null
          run.seconds = seconds_since(start);
          return run;
        }
        throw Error(label + ": the training loss became " + std::to_string(loss.loss) + " at step " +
                    std::to_string(run.steps + 1) + " (diverged: try a smaller lr)");
      }
      net.backward(loss.dlogits);
      sgd.set_lr(learning_rate(config.lr_schedule, lr, config.warmup_steps, run.steps, total));
      sgd.step(net.parameters());
      ++run.steps;
      window.push_back(loss.loss);
      if (window.size() == config.loss_every || run.steps == total) {
        run.loss_curve.push_back(std::accumulate(window.begin(), window.end(), 0.0) / double(window.size()));
        window.clear();
      }
      // The last tenth of the last epoch's steps; at least its last step (an
      // epoch of fewer than 10 steps has no whole tenth: the mean of none was NaN).
      if (epoch + 1 == epochs && (b * 10 >= per_epoch * 9 || b + 1 == per_epoch)) last_losses.push_back(loss.loss);
      if (progress && (run.steps % 50 == 0 || run.steps == total)) {
        progress(label + ": step " + std::to_string(run.steps) + "/" + std::to_string(total) + ", loss " +
                     truncated(loss.loss, 6),
                 true);
      }
    }
  }
  run.seconds = seconds_since(start);
  run.final_loss = std::accumulate(last_losses.begin(), last_losses.end(), 0.0) / double(last_losses.size());
  return run;
}

// Fraction of `images` classified correctly, in batches of `batch_size`.
double accuracy(Network& net, const Images& images, std::size_t batch_size, Pass pass) {
  std::vector<std::size_t> order(images.count);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::size_t correct = 0;
  for (std::size_t begin = 0; begin < images.count; begin += batch_size) {
    const std::size_t end = std::min(images.count, begin + batch_size);
    const std::vector<std::size_t> predicted = predictions(net.forward(batch_input(images, order, begin, end), pass));
    for (std::size_t i = begin; i < end; ++i) correct += predicted[i - begin] == images.labels[i];
  }
  return double(correct) / double(images.count);
}

// Parameters of the norm layers alone.
std::size_t norm_parameter_count(Network& net) {
  std::size_t count = 0;
  for (const Network::Stage& stage : net.stages) count += stage.norm.gamma.size() + stage.norm.beta.size();
  return count;
}

// Eval-mode accuracy with population statistics (PreciseBN) for each K of
// config.precise_bn_images: the running statistics become the average of the
// batch statistics of the first K images of a shuffle of the training images
// (batches of batch_size, weights frozen, every layer in train mode). One
// pass over max K images, the statistics taken as each K is reached. The
// network's running (EMA) statistics are restored afterwards.
std::vector<double> population_accuracies(Network& net, const Images& train_set, const Images& test_set,
                                          const TrainConfig& config, std::size_t eval_batch, std::uint64_t seed) {
  std::vector<double> out;
  if (config.precise_bn_images.empty()) return out;
  const std::vector<Statistics> ema = net.running_statistics();
  Rng rng(seed ^ 0x5bd1e995c0ffee11ull);  // the images' choice: its own stream
  const std::vector<std::size_t> order = shuffled(train_set.count, rng);
  std::vector<std::size_t> ks;  // images used, ascending
  for (std::size_t k : config.precise_bn_images) ks.push_back(precise_bn_images_used(config, k));
  std::sort(ks.begin(), ks.end());
  std::map<std::size_t, std::vector<Statistics>> at_k;
  net.begin_population();
  std::size_t seen = 0;
  for (std::size_t k : ks) {
    for (; seen < k; seen += config.batch_size) {
      net.forward(batch_input(train_set, order, seen, seen + config.batch_size), Pass::population);
    }
    at_k[k] = net.running_statistics();
  }
  for (std::size_t k : config.precise_bn_images) {
    net.set_running_statistics(at_k.at(precise_bn_images_used(config, k)));
    out.push_back(accuracy(net, test_set, eval_batch, Pass::eval));
  }
  net.set_running_statistics(ema);
  return out;
}

}  // namespace

TrainResult run_experiment(const TrainConfig& config, const DataSet& data, const ProgressLines& progress) {
  validate(config);
  // A training step frees and allocates the same activation-sized arrays
  // every time: keep freed blocks with the allocator (no page faults, no
  // zeroing by the kernel); restored on return.
  const KeepFreedMemory keep_freed;
  const auto start = Clock::now();
  const Images train_set = take(data.train, config.train_images);
  const Images test_set = take(data.test, config.test_images);
  if (train_set.count < config.batch_size) throw Error("train: fewer training images than one batch");
  for (std::size_t b : config.test_batch_sizes) {
    if (test_set.count % b != 0) {
      throw Error("train: test batch size " + std::to_string(b) + " does not divide the " +
                  std::to_string(test_set.count) + " test images available");
    }
  }
  std::vector<Images> shifted;
  for (std::size_t k : config.shifts) shifted.push_back(translated(test_set, int(k), int(k)));
  const std::optional<Images> canvas =
      config.canvas ? std::optional<Images>(on_canvas(test_set, config.canvas)) : std::nullopt;
  const Images small_set = take(data.train, config.small_batch_images);
  const std::size_t eval_batch = config.test_batch_sizes.empty() ? 500 : config.test_batch_sizes.front();

  NetworkSpec spec;
  spec.height = train_set.height;
  spec.width = train_set.width;
  spec.eps = config.eps;
  spec.norm_momentum = config.norm_momentum;

  TrainResult result{.config = config,
                     .data_source = data.source,
                     .train_images = train_set.count,
                     .test_images = test_set.count,
                     .image_height = train_set.height,
                     .image_width = train_set.width,
                     .methods = {}};  // filled below, method by method
  std::vector<TrainMethod> methods;
  for (const std::string& id : config.methods) {
    methods.push_back(parse_train_method(id, "method"));
    TrainMethodResult m;
    m.method = methods.back();
    Network probe(spec, methods.back(), 0);
    m.parameters = probe.parameter_count();
    m.norm_parameters = norm_parameter_count(probe);
    if (canvas) m.canvas_problem = probe.other_size_problem(canvas->height, canvas->width);
    m.seeds.resize(config.seeds.size());
    m.lr_sweep.resize(config.lr_sweep.size());
    result.methods.push_back(std::move(m));
  }
  const Images sweep_set = take(data.train, config.lr_sweep.empty() ? 0 : config.lr_sweep_images);

  // One job per (method, seed), then one per (method, sweep lr). With at least as many jobs as threads, the
  // jobs run side by side, one thread each (the layers' own parallel loops
  // then run on one thread: nested parallelism is off): no barriers inside a
  // training step, which matters on a busy machine. With fewer jobs, they run
  // one after another and each layer uses every thread. Every job writes only
  // its own slot, and every number depends only on its (method, seed), so
  // the results are the same bits either way.
  const std::size_t runs = methods.size() * config.seeds.size();
  const std::size_t jobs = runs + methods.size() * config.lr_sweep.size();
  const bool side_by_side = jobs >= std::size_t(omp_get_max_threads()) && omp_get_max_threads() > 1;
  std::exception_ptr failure;
  std::mutex report;
  auto tell = [&](const std::string& line, bool transient) {
    if (!progress) return;
    std::lock_guard<std::mutex> lock(report);
    progress(line, transient);
  };
  // A sweep point: one epoch over sweep_set at its lr, with the first seed.
  auto run_sweep = [&](std::size_t mi, std::size_t li) {
    const double lr = config.lr_sweep[li];
    const std::uint64_t seed = config.seeds.front();
    const std::string label = "method " + methods[mi].id + ", lr " + Json(lr).dump();
    SweepPoint p;
    p.lr = lr;
    Network net(spec, methods[mi], seed);
    p.training = train(net, sweep_set, config, lr, config.batch_size, 1, seed, label, tell, true);
    if (!p.training.diverged_at) p.eval_accuracy = accuracy(net, test_set, eval_batch, Pass::eval);
    tell(label + ": " + (p.training.diverged_at ? "diverged at step " + std::to_string(*p.training.diverged_at)
                                                : "eval-mode accuracy " + truncated(*p.eval_accuracy, 6)),
         false);
    result.methods[mi].lr_sweep[li] = std::move(p);
  };
  auto run_job = [&](std::size_t job) {
    if (job >= runs) return run_sweep((job - runs) / config.lr_sweep.size(), (job - runs) % config.lr_sweep.size());
    const std::size_t mi = job / config.seeds.size(), si = job % config.seeds.size();
    const TrainMethod& method = methods[mi];
    const std::uint64_t seed = config.seeds[si];
    const std::string label = "method " + method.id + ", seed " + std::to_string(seed);
    SeedResult r;
    r.seed = seed;
    Network net(spec, method, seed);
    r.training = train(net, train_set, config, config.lr, config.batch_size, config.epochs, seed, label, tell);
    const auto eval_start = Clock::now();
    r.eval_accuracy = accuracy(net, test_set, eval_batch, Pass::eval);
    for (std::size_t b : config.test_batch_sizes) r.batch_accuracy.push_back(accuracy(net, test_set, b, Pass::batch_stats));
    for (const Images& images : shifted) r.shift_accuracy.push_back(accuracy(net, images, eval_batch, Pass::eval));
    if (canvas && !result.methods[mi].canvas_problem) r.canvas_accuracy = accuracy(net, *canvas, eval_batch, Pass::eval);
    if (method.batch_dependent()) {
      r.population_accuracy = population_accuracies(net, train_set, test_set, config, eval_batch, seed);
    }
    r.eval_seconds = seconds_since(eval_start);
    if (config.small_batch) {
      Network small(spec, method, seed);
      // A small batch at the main run's lr may blow the weights up (no
      // normalization at batch 4 does): a measured outcome, not an error; the
      // network is then evaluated as it is (near chance).
      r.small_batch = train(small, small_set, config, config.lr, config.small_batch, 1, seed,
                            label + ", batch " + std::to_string(config.small_batch), tell, true);
      r.small_batch_eval_accuracy = accuracy(small, test_set, eval_batch, Pass::eval);
      r.small_batch_batch_accuracy = accuracy(small, test_set, eval_batch, Pass::batch_stats);
    }
    tell(label + ": eval-mode accuracy " + truncated(r.eval_accuracy, 6) + " (" +
             truncated(r.training.seconds, 5) + " s training)",
         false);
    result.methods[mi].seeds[si] = std::move(r);
  };
  if (side_by_side) {
    const long count = long(jobs);
#pragma omp parallel for schedule(dynamic, 1)
    for (long job = 0; job < count; ++job) {
      try {
        run_job(std::size_t(job));
      } catch (...) {
        std::lock_guard<std::mutex> lock(report);
        if (!failure) failure = std::current_exception();
      }
    }
    if (failure) std::rethrow_exception(failure);
  } else {
    for (std::size_t job = 0; job < jobs; ++job) run_job(job);
  }
  result.total_seconds = seconds_since(start);
  return result;
}

TrainResult run_experiment(const TrainConfig& config, const ProgressLines& progress) {
  validate(config);
  if (config.data == "stand-in") {
    return run_experiment(config, make_stand_in(config.train_images, config.test_images, 12345), progress);
  }
  return run_experiment(config, load_fashion_mnist(config.data), progress);
}

}  // namespace bnlab::train
