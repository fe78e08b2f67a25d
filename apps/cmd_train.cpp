// bnlab train: parse options, call bnlab::train::run_experiment, print the table or JSON.
#include <unistd.h>

#include <iostream>
#include <memory>
#include <optional>

#include "bnlab/core/error.hpp"
#include "bnlab/engine/method.hpp"
#include "bnlab/io/atomic_file.hpp"
#include "bnlab/train/experiment.hpp"
#include "bnlab/train/train_report.hpp"
#include "bnlab/report/compare_config.hpp"
#include "commands.hpp"

namespace bnlab::app {

namespace {
struct TrainOptions {
  std::string config, data, methods, format, output;
  std::vector<std::uint64_t> seeds;
  std::optional<std::size_t> train_images, test_images, epochs, batch_size;
  std::optional<double> lr;
};

// Step counters overwrite one another on a terminal; elsewhere only the
// per-run lines are written (a log file stays short).
void show_progress(const std::string& line, bool transient) {
  static const bool terminal = isatty(STDERR_FILENO) == 1;
  if (transient) {
    if (terminal) std::cerr << "\r\033[K" << line << std::flush;
    return;
  }
  std::cerr << (terminal ? "\r\033[K" : "") << "bnlab train: " << line << "\n";
}
}  // namespace

void setup_train(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  CLI::App* cmd = app.add_subcommand(
      "train",
      "Train a small CNN on Fashion-MNIST with each method as its norm layer and measure the consequences\n"
      "Trains conv3x3(1->16) norm ReLU, conv3x3/2(16->32) norm ReLU, conv3x3/2(32->32) norm ReLU,\n"
      "global average pool, linear(32->10) with SGD + momentum, once per method and seed, with bnlab's\n"
      "own normalization engine (forward, backward, running statistics). Then measures test accuracy in\n"
      "eval mode (running statistics) and with batch statistics (batch 500 and 2: the train/eval gap),\n"
      "after translating the images by 1, 2, 4 pixels, on a 36x36 canvas (where the method's parameters\n"
      "allow another H x W), and after training with batch 4. Data: Debian's dataset-fashion-mnist\n"
      "(/usr/share/datasets/fashion-mnist; scripts/bnlab installs it).");
  cmd->add_option("--config", o->config, "JSON config (configs/train/default.json is the default; configs/train/full.json the full experiment)");
  cmd->add_option("--data", o->data, "Directory with the four Fashion-MNIST .gz files, or stand-in (generated images)");
  cmd->add_option("--methods", o->methods, "Methods, e.g. 1,2,3 or 3,ln,in,gn:4");
  cmd->add_option("--seeds", o->seeds, "Seeds, e.g. --seeds 0 1 2 (one training run per method and seed)");
  cmd->add_option("--train-images", o->train_images, "Use the first n training images (<= 60000)");
  cmd->add_option("--test-images", o->test_images, "Use the first n test images (<= 10000; a multiple of the test batch sizes)");
  cmd->add_option("--epochs", o->epochs, "Passes over the training images");
  cmd->add_option("--batch-size", o->batch_size, "Training batch size");
  cmd->add_option("--lr", o->lr, "SGD learning rate");
  cmd->add_option("--format", o->format, "table (default) or json on stdout");
  cmd->add_option("--output", o->output, "Also write the JSON result (schema bnlab.train/1) to this file");
  const train::TrainConfig defaults;
  std::string methods, seeds;
  for (const std::string& id : defaults.methods) methods += (methods.empty() ? "" : ",") + id;
  for (std::uint64_t seed : defaults.seeds) seeds += " " + std::to_string(seed);
  cmd->footer(
      "\nDefaults (configs/train/default.json): methods " + methods + ", seeds" + seeds + ", " +
      std::to_string(defaults.train_images) + " training images, " + std::to_string(defaults.epochs) +
      " epoch(s),\nbatch " + std::to_string(defaults.batch_size) + ", lr " + nlohmann::json(defaults.lr).dump() +
      ", momentum " + nlohmann::json(defaults.momentum).dump() + ", " + std::to_string(defaults.test_images) +
      " test images. Progress goes to stderr. With 2 or more threads\n(OMP_NUM_THREADS) the runs (method, seed) "
      "train side by side. Everything but the \"timing\"\nobject is the same bits for any thread count.\n"
      "Examples:\n"
      "  bnlab train\n"
      "  bnlab train --config configs/train/full.json --output train.json\n"
      "  bnlab train --methods 3,gn:4 --seeds 0 --format json\n");
  cmd->callback([o] {
    train::TrainConfig config = o->config.empty() ? train::TrainConfig{} : train::load_train_config(o->config);
    if (!o->data.empty()) config.data = o->data;
    if (!o->methods.empty()) {
      config.methods.clear();
      for (const Method& m : parse_method_list(o->methods, "--methods")) config.methods.push_back(m.id);
    }
    if (!o->seeds.empty()) {
      for (std::size_t i = 0; i < o->seeds.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
          if (o->seeds[i] == o->seeds[j]) throw Error("--seeds: duplicate seed " + std::to_string(o->seeds[i]));
        }
      }
      config.seeds = o->seeds;
    }
    if (o->train_images) config.train_images = *o->train_images;
    if (o->test_images) config.test_images = *o->test_images;
    if (o->epochs) config.epochs = *o->epochs;
    if (o->batch_size) config.batch_size = *o->batch_size;
    if (o->lr) config.lr = *o->lr;
    if (!o->format.empty()) {
      config.format = parse_output_format(o->format, "--format");  // case-insensitive, as in every subcommand
    }
    if (!o->output.empty()) config.output = o->output;
    if (config.train_images < 1 || config.train_images > 60000) throw Error("--train-images: expected 1 to 60000");
    if (config.test_images < 1 || config.test_images > 10000) throw Error("--test-images: expected 1 to 10000");
    if (config.epochs < 1) throw Error("--epochs: expected >= 1");
    if (config.batch_size < 2) throw Error("--batch-size: expected >= 2");
    if (!(config.lr > 0 && config.lr <= 10)) throw Error("--lr: expected a number in (0, 10]");
    if (o->test_images) {
      for (std::size_t b : config.test_batch_sizes) {
        if (config.test_images % b != 0) {
          throw Error("--test-images: " + std::to_string(config.test_images) + " is not a multiple of the test batch size " +
                      std::to_string(b) + " (test_batch_sizes in a --config file sets them)");
        }
      }
    }
    train::validate(config);

    const train::TrainResult result = train::run_experiment(config, show_progress);
    const std::string json = train::to_json(result).dump(2) + "\n";
    if (config.output) write_file_atomically(*config.output, json);
    std::cout << (config.format == "json" ? json : train::format_table(result)) << std::flush;
  });
}

}  // namespace bnlab::app
